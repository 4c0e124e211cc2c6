#!/usr/bin/env node
/**
 * `npm run restore -- FILE.tar.gz [--persist-to DIR]`: puts a backup made by `npm run backup`
 * back as `npm start`'s local state in DIR (default `.wrangler/state`), then `npm start --
 * --persist-to DIR` serves it: the accounts, and every session and refresh token of the moment
 * of the backup (with the same signing key in the environment: the backup does not hold it).
 *
 * DIR must hold no state yet (a fresh folder, or none): a restore never mixes two states, nor
 * writes under a running server. To replace a server's state: stop it, move its folder aside,
 * restore, start it (the README's "Back up and restore"). The archive is unpacked into a
 * folder of its own beside DIR, every file is checked against the manifest's SHA-256 and every
 * database with `PRAGMA integrity_check`, and only then is it moved into place. Run it as the
 * user the server runs as (`sudo -u qrcode-login npm run restore …`), so that the files are
 * that user's.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FORMAT, integrity, listFiles, MANIFEST, processesUsing, sha256 } from './local-state.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function usage(message) {
  if (message) console.error(`npm run restore: ${message}`);
  console.error('usage: npm run restore -- FILE.tar.gz [--persist-to DIR]');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { file: null, persistTo: path.join(ROOT, '.wrangler/state') };
  for (let i = 0; i < argv.length; i++) {
    let [arg, value] = argv[i].split(/=(.*)/s);
    const next = () => value ?? argv[++i] ?? usage(`${arg} needs a value`);
    if (arg === '--persist-to') opts.persistTo = path.resolve(next());
    else if (arg === '--help' || arg === '-h') usage();
    else if (arg.startsWith('--')) usage(`unknown argument ${arg}`);
    else if (opts.file) usage('one backup file at a time');
    else opts.file = path.resolve(arg);
    value = undefined;
  }
  if (!opts.file) usage('which backup? Give its .tar.gz file');
  return opts;
}

export async function restore({ file, persistTo }) {
  if (!existsSync(file)) throw new Error(`no such backup: ${file}`);
  const v3 = path.join(persistTo, 'v3');
  if (listFiles(v3).length) {
    throw new Error(
      `${persistTo} already holds a state (${v3}). Restore into a fresh folder, or stop the server and move that folder aside first.`,
    );
  }
  const running = processesUsing(persistTo);
  if (running.length)
    throw new Error(`a server is running on ${persistTo} (pid ${running.map((p) => p.pid).join(', ')})`);
  mkdirSync(persistTo, { recursive: true });
  const staging = mkdtempSync(path.join(persistTo, '.restore-'));
  try {
    // Only the manifest and v3/ come out, never a path that climbs out of the staging folder.
    const listing = spawnSync('tar', ['-tzf', file], { encoding: 'utf8' });
    if (listing.status !== 0) throw new Error(`${file} is not a readable .tar.gz: ${listing.stderr.trim()}`);
    for (const entry of listing.stdout.split('\n').filter(Boolean)) {
      const clean = entry.replace(/^\.\//, '');
      if (
        path.isAbsolute(clean) ||
        clean.split('/').includes('..') ||
        !(clean === MANIFEST || /^v3(\/|$)/.test(clean))
      ) {
        throw new Error(`${file} is not a backup of this project: it holds ${entry}`);
      }
    }
    const untar = spawnSync('tar', ['-xzf', file, '-C', staging, '--no-same-owner', '--no-same-permissions'], {
      encoding: 'utf8',
    });
    if (untar.status !== 0) throw new Error(`could not unpack ${file}: ${untar.stderr.trim()}`);
    let manifest;
    try {
      manifest = JSON.parse(readFileSync(path.join(staging, MANIFEST), 'utf8'));
    } catch {
      throw new Error(`${file} has no ${MANIFEST}: it was not made by npm run backup`);
    }
    if (manifest.format !== FORMAT) throw new Error(`${file} is a backup of something else (${manifest.format})`);
    const unpacked = new Set(listFiles(path.join(staging, 'v3')).map((f) => `v3/${f}`));
    for (const entry of manifest.files) {
      const at = path.join(staging, entry.path);
      if (!unpacked.delete(entry.path)) throw new Error(`${entry.path} is missing from ${file}`);
      if (sha256(at) !== entry.sha256)
        throw new Error(`${entry.path} is damaged (its SHA-256 differs from the manifest's)`);
      if (entry.kind === 'sqlite') {
        const check = await integrity(at);
        if (check !== 'ok') throw new Error(`${entry.path} fails SQLite's integrity check: ${check}`);
      }
    }
    if (unpacked.size) throw new Error(`${file} holds files its manifest does not list: ${[...unpacked].join(', ')}`);
    rmSync(v3, { recursive: true, force: true }); // an empty folder tree, checked above
    renameSync(path.join(staging, 'v3'), v3);
    return manifest;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const opts = parseArgs(process.argv.slice(2));
  try {
    const manifest = await restore(opts);
    const dbs = manifest.files.filter((f) => f.kind === 'sqlite').length;
    console.log(
      `Restored ${dbs} databases of ${manifest.created_at} (backed up while the server was ${manifest.server}) into ${opts.persistTo}.`,
    );
    console.log(`Start it with: npm start -- --persist-to ${opts.persistTo} (and the same SIGNING_KEY as before)`);
  } catch (err) {
    console.error(`npm run restore: ${err.message}`);
    process.exit(1);
  }
}
