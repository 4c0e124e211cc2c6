/**
 * Counts SQLite transactions on disk: every Durable Object (the app's, D1's, and the alarm
 * metadata database of each namespace) keeps a SQLite database in write-ahead-log mode under
 * Miniflare's storage directory, and each committed transaction appends frames to its `-wal`
 * file, the last one marked as a commit. Reading the WAL headers between two requests tells
 * how many transactions each request committed, and where (https://sqlite.org/fileformat.html,
 * "The WAL File Format"). A WAL restarts after a checkpoint (new salt) and disappears when its
 * database closes (object evicted, or emptied by `deleteAll()`); those are counted apart.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const WAL_HEADER = 32;
const FRAME_HEADER = 24;

/** Commits and frames in the current generation of one WAL file, or null when it is absent. */
export function walCommits(file) {
  let buf;
  try {
    buf = readFileSync(file);
  } catch {
    return null;
  }
  if (buf.length < WAL_HEADER) return { salt: '', frames: 0, commits: 0 };
  const pageSize = buf.readUInt32BE(8);
  const salt1 = buf.readUInt32BE(16);
  const salt2 = buf.readUInt32BE(20);
  let frames = 0;
  let commits = 0;
  // Frames of the current generation carry the header's salt; older leftovers after them do not.
  for (let at = WAL_HEADER; at + FRAME_HEADER + pageSize <= buf.length; at += FRAME_HEADER + pageSize) {
    if (buf.readUInt32BE(at + 8) !== salt1 || buf.readUInt32BE(at + 12) !== salt2) break;
    frames++;
    if (buf.readUInt32BE(at + 4) !== 0) commits++; // "size of the database after the commit"
  }
  return { salt: `${salt1}.${salt2}`, frames, commits };
}

function walFiles(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) =>
    e.isDirectory() ? walFiles(path.join(dir, e.name)) : e.name.endsWith('.sqlite-wal') ? [path.join(dir, e.name)] : [],
  );
}

/** Every WAL under a Miniflare storage root (`…/v3`), by path. */
export function walSnapshot(root) {
  const snap = new Map();
  for (const file of walFiles(root)) {
    const wal = walCommits(file);
    if (wal) snap.set(file, wal);
  }
  return snap;
}

/** Which kind of database a WAL belongs to: `D1`, `LoginSession`, `LoginSession alarms` … */
function kindOf(root, file) {
  const [area, ns, name] = path.relative(root, file).split(path.sep);
  const owner = area === 'd1' ? 'D1' : ns.replace(/^.*?-(?=[A-Z])/, '');
  return name.startsWith('metadata.') ? `${owner} alarms` : owner;
}

/**
 * What was committed between two snapshots: commits per kind of database, and how many WALs
 * restarted or went away (their database closed or was emptied: what they committed in the
 * meantime is not seen).
 */
export function walDiff(root, before, after) {
  const commits = {};
  let restarted = 0;
  let closed = 0;
  const add = (file, n) => {
    if (!n) return;
    const kind = kindOf(root, file);
    commits[kind] = (commits[kind] ?? 0) + n;
  };
  for (const [file, now] of after) {
    const then = before.get(file);
    if (!then) add(file, now.commits);
    else if (then.salt !== now.salt) {
      restarted++;
      add(file, now.commits);
    } else add(file, now.commits - then.commits);
  }
  for (const file of before.keys()) if (!after.has(file)) closed++;
  return { commits, restarted, closed };
}
