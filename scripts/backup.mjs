#!/usr/bin/env node
/**
 * `npm run backup -- [--persist-to DIR] [--out FILE.tar.gz]`: a copy of `npm start`'s local
 * state (accounts in D1, every user's sessions and refresh tokens, logins in flight, limits),
 * restored by `npm run restore`.
 *
 * Each SQLite database is copied with SQLite's online backup API, so the server may keep
 * running: every database's copy is one committed moment of it (its WAL included), taken under
 * SQLite's ordinary locks, which workerd takes too. The databases are copied one after the
 * other, not at one instant: a login that finished during the backup may be in one and not in
 * another. For one instant of the whole state, stop the server first (`systemctl stop
 * qrcode-login`; the backup then says "stopped"). The WAL and index files are left out (each
 * copy holds its own); any other file is copied as it is. Every copy is checked with
 * `PRAGMA integrity_check`, and `manifest.json` lists each file with its size and SHA-256.
 *
 * Not in it: the secrets (`SIGNING_KEY`, `WEBHOOK_SECRET`, …), which live in the environment
 * (`/etc/qrcode-login/env` for the systemd unit) and must be kept apart: tokens are checked
 * with the signing key, so a restore without it signs every session out.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  appliedMigrations,
  backupDatabase,
  bytesOf,
  FORMAT,
  integrity,
  kindOf,
  listFiles,
  MANIFEST,
  processesUsing,
  sha256,
} from './local-state.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function usage(message) {
  if (message) console.error(`npm run backup: ${message}`);
  console.error('usage: npm run backup -- [--persist-to DIR] [--out FILE.tar.gz]');
  process.exit(2);
}

function parseArgs(argv) {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const opts = {
    persistTo: path.join(ROOT, '.wrangler/state'),
    out: path.join(ROOT, 'backups', `qrcode-login-${stamp}.tar.gz`),
  };
  for (let i = 0; i < argv.length; i++) {
    let [arg, value] = argv[i].split(/=(.*)/s);
    const next = () => value ?? argv[++i] ?? usage(`${arg} needs a value`);
    if (arg === '--persist-to') opts.persistTo = path.resolve(next());
    else if (arg === '--out') opts.out = path.resolve(next());
    else if (arg === '--help' || arg === '-h') usage();
    else usage(`unknown argument ${arg}`);
    value = undefined;
  }
  if (!/\.tar\.gz$|\.tgz$/.test(opts.out)) usage('--out must name a .tar.gz file');
  return opts;
}

export async function backup({ persistTo, out }) {
  const v3 = path.join(persistTo, 'v3');
  const files = listFiles(v3).filter((f) => kindOf(f) !== 'journal');
  if (!files.length) throw new Error(`there is no local state in ${persistTo} (no ${v3} with databases)`);
  const running = processesUsing(persistTo);
  mkdirSync(path.dirname(out), { recursive: true });
  const staging = mkdtempSync(path.join(path.dirname(out), '.backup-'));
  try {
    const listed = [];
    for (const rel of files) {
      const from = path.join(v3, rel);
      const to = path.join(staging, 'v3', rel);
      mkdirSync(path.dirname(to), { recursive: true });
      const kind = kindOf(rel);
      if (kind === 'sqlite') {
        await backupDatabase(from, to);
        const check = await integrity(to);
        if (check !== 'ok') throw new Error(`the copy of ${rel} fails SQLite's integrity check: ${check}`);
      } else {
        copyFileSync(from, to);
      }
      listed.push({ path: `v3/${rel}`, kind, bytes: bytesOf(to), sha256: sha256(to) });
    }
    const manifest = {
      format: FORMAT,
      version: 1,
      created_at: new Date().toISOString(),
      source: persistTo,
      server: running.length ? 'running' : 'stopped',
      method: 'SQLite online backup API, one database after another',
      d1_migrations: await appliedMigrations(path.join(staging, 'v3')),
      files: listed,
    };
    writeFileSync(path.join(staging, MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
    const tmpOut = `${out}.partial`;
    const members = [MANIFEST, ...listed.map((f) => f.path)];
    const tar = spawnSync('tar', ['-czf', tmpOut, '-C', staging, ...members], { encoding: 'utf8' });
    if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`);
    renameSync(tmpOut, out);
    return { manifest, out, running };
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(`${out}.partial`, { force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const opts = parseArgs(process.argv.slice(2));
  try {
    const { manifest, out, running } = await backup(opts);
    const dbs = manifest.files.filter((f) => f.kind === 'sqlite').length;
    const bytes = manifest.files.reduce((n, f) => n + f.bytes, 0);
    const how = running.length
      ? `online, while ${running.map((p) => `pid ${p.pid}`).join(', ')} ran on it: each database consistent on its own`
      : 'with no server running on it: one consistent state';
    console.log(`Backed up ${opts.persistTo} (${dbs} databases, ${bytes} bytes) ${how}.`);
    console.log(`Wrote ${out}. Restore with: npm run restore -- ${out} --persist-to DIR`);
  } catch (err) {
    console.error(`npm run backup: ${err.message}`);
    process.exit(1);
  }
}
