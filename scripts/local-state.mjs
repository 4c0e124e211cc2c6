/**
 * @module
 * The local state of `npm start` (and `npm run dev`): the folder given as `--persist-to`
 * (default `.wrangler/state`), whose `v3/` holds one SQLite database per Durable Object
 * (`v3/do/<worker>-<class>/<id>.sqlite`), the D1 database (`v3/d1/miniflare-D1DatabaseObject/`),
 * the Cache API's, and Miniflare's `metadata.sqlite` beside each. Shared by `npm run backup` and
 * `npm run restore`: which files there are, who has them open, and SQLite's own backup and
 * integrity check, through `node:sqlite` (Node 22.13 and later; `npm run` uses the project's
 * Node 24) or else the `sqlite3` program.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';

/** The manifest's name inside a backup, and the format it names. */
export const MANIFEST = 'manifest.json';
export const FORMAT = 'qrcode-login-local-state';

/** Every file under `dir`, as paths relative to it, sorted. */
export function listFiles(dir, prefix = '') {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(path.join(dir, entry.name), rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

/** A database file (copied with SQLite's backup), its journal (left out: the copy holds it all), or another file. */
export function kindOf(file) {
  if (/\.sqlite-(wal|shm|journal)$/.test(file)) return 'journal';
  return file.endsWith('.sqlite') ? 'sqlite' : 'file';
}

export function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/**
 * The processes (pid and command) that have a file under `dir` open: a server running on this
 * storage. Linux's /proc; elsewhere an empty list.
 */
export function processesUsing(dir) {
  const root = path.resolve(dir);
  const users = [];
  let pids = [];
  try {
    pids = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return users;
  }
  for (const pid of pids) {
    let fds = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    const uses = fds.some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(`${root}/`);
      } catch {
        return false;
      }
    });
    if (!uses) continue;
    let command = '';
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).slice(0, 3).join(' ');
    } catch {}
    users.push({ pid: Number(pid), command });
  }
  return users;
}

let sqliteModule;
async function nodeSqlite() {
  if (sqliteModule === undefined) {
    try {
      sqliteModule = await import('node:sqlite');
    } catch {
      sqliteModule = null;
    }
  }
  return sqliteModule;
}

function sqliteProgram() {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const file = path.join(dir || '.', 'sqlite3');
    if (existsSync(file)) return file;
  }
  return null;
}

const noSqlite = () =>
  new Error(
    'neither node:sqlite (Node 22.13 or later: run it as `npm run …`, which uses the project’s Node) nor the sqlite3 program (`apt-get install sqlite3`) is available',
  );

/**
 * Copies the database `from` to `to` with SQLite's online backup API: a consistent copy even
 * while workerd writes to it (it takes SQLite's ordinary locks, so the copy is of one
 * committed moment of that database, its WAL included).
 */
export async function backupDatabase(from, to) {
  const sqlite = await nodeSqlite();
  if (sqlite?.backup) {
    let db;
    try {
      db = new sqlite.DatabaseSync(from, { readOnly: true });
      db.prepare('SELECT count(*) FROM sqlite_schema').get();
    } catch {
      // A WAL left without its index (after a crash) needs a writable connection to recover.
      db?.close();
      db = new sqlite.DatabaseSync(from);
    }
    try {
      await sqlite.backup(db, to);
    } finally {
      db.close();
    }
    return;
  }
  const program = sqliteProgram();
  if (!program) throw noSqlite();
  const run = spawnSync(program, [from, `.backup '${to.replaceAll("'", "''")}'`], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`sqlite3 could not back up ${from}: ${run.stderr}`);
}

/**
 * SQLite's `PRAGMA integrity_check` of `file`, a copy no one else has open: 'ok', or what it
 * found. The connection writes (a WAL database makes its index), and closing it, the last one,
 * removes its WAL and index again.
 */
export async function integrity(file) {
  const sqlite = await nodeSqlite();
  if (sqlite) {
    const db = new sqlite.DatabaseSync(file);
    try {
      return db
        .prepare('PRAGMA integrity_check')
        .all()
        .map((row) => Object.values(row)[0])
        .join('; ');
    } finally {
      db.close();
    }
  }
  const program = sqliteProgram();
  if (!program) throw noSqlite();
  const run = spawnSync(program, [file, 'PRAGMA integrity_check;'], { encoding: 'utf8' });
  return run.status === 0 ? run.stdout.trim() : run.stderr.trim();
}

/** The D1 migrations applied to the D1 database under `v3` (wrangler's own `d1_migrations`). */
export async function appliedMigrations(v3) {
  const dir = path.join(v3, 'd1/miniflare-D1DatabaseObject');
  const file = listFiles(dir).find((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite');
  const sqlite = await nodeSqlite();
  if (!file || !sqlite) return null;
  const db = new sqlite.DatabaseSync(path.join(dir, file), { readOnly: true });
  try {
    return db
      .prepare('SELECT name FROM d1_migrations ORDER BY id')
      .all()
      .map((r) => r.name);
  } catch {
    return null;
  } finally {
    db.close();
  }
}

export const bytesOf = (file) => statSync(file).size;
