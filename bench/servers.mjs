/**
 * The servers `npm run bench` measures, each in its own process group with storage in its own
 * directory: the app as `npm start` serves it (scripts/start.mjs), the floor served the same
 * way (bench/floor/serve.mjs, in its variants), and the app under `wrangler dev` for reference.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from '../scripts/start.mjs';
import { bundleFloor } from './floor/serve.mjs';
import { runtimePids } from './procfs.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const handedOut = new Set();

/** A port free right now, never one this process handed out before (servers start side by side). */
export async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const srv = net.createServer();
      srv.listen(0, '127.0.0.1', () => {
        const { port } = srv.address();
        srv.close(() => resolve(port));
      });
      srv.on('error', reject);
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

const children = [];

/** Stops every server and helper process this module started (each with its own group). */
export function stopAll() {
  for (const child of children) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {}
  }
}

/**
 * A Node process in a process group of its own, so that it and its workerd stop together. With
 * `nofile`, under that open-files limit (soft and hard, as a unit's `LimitNOFILE=` sets it):
 * `sh` sets it and then becomes the process (`exec`), so the pid is the server's own.
 */
function startProcess(name, args, nofile) {
  const [command, argv] = nofile
    ? ['sh', ['-c', 'ulimit -n "$0" && exec "$@"', String(nofile), process.execPath, ...args]]
    : [process.execPath, args];
  const child = spawn(command, argv, {
    cwd: ROOT,
    env: { ...process.env, FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.output = '';
  child.stdout.on('data', (d) => (child.output += d));
  child.stderr.on('data', (d) => (child.output += d));
  child.label = name;
  children.push(child);
  return child;
}

/**
 * Stops a server (its whole group). One that already ended by itself is not signalled (its
 * group is gone); its exit and the end of its output come back, for the report: a server may
 * only end when it is told to. Returns null when it was still running.
 */
export function stopServer(server) {
  const { child } = server;
  const ended = () => ({
    name: server.name,
    code: child.exitCode,
    signal: child.signalCode,
    output: child.output.slice(-2000),
  });
  if (child.exitCode !== null || child.signalCode !== null) return ended();
  try {
    process.kill(-child.pid, 'SIGTERM');
    return null;
  } catch (err) {
    // Its group ended before this process heard of its exit.
    if (err.code !== 'ESRCH') throw err;
    return ended();
  }
}

/** Registers a forked helper (a load generator) to be stopped with the servers. */
export function adopt(child) {
  children.push(child);
  return child;
}

async function waitReady(base, child, readyPath = '/api/config', timeoutMs = 90_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`${child.label} exited:\n${child.output}`);
    try {
      const res = await fetch(`${base}${readyPath}`);
      if (res.ok) return;
    } catch {}
    await sleep(200);
  }
  throw new Error(`${child.label} did not answer within ${timeoutMs / 1000} s:\n${child.output}`);
}

/**
 * The production bundles of the app and the floor, made once for all their servers, inside the
 * project (workerd names modules by their path from the project root). Returns the files and a
 * function that removes them.
 */
export function bundles() {
  const dir = path.join(ROOT, `.wrangler/tmp/bench-bundle-${process.pid}`);
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    return {
      app: bundle(path.join(dir, 'app')),
      floor: bundleFloor(path.join(dir, 'floor')),
      floorContract: bundleFloor(path.join(dir, 'floor-contract'), 'contract'),
      floorHeld: bundleFloor(path.join(dir, 'floor-held'), 'held'),
      remove,
    };
  } catch (err) {
    remove();
    throw err;
  }
}

/**
 * The phone users of step 3 (issue 30: each login's phone user has its own object, as on a real
 * site, rather than one user's object taking every login): `bench1` … `bench32`, each with the
 * demo account dong's password (111), made in every app server's D1 before it starts. The
 * floors take any name.
 */
export const BENCH_USERS = Array.from({ length: 32 }, (_, i) => `bench${i + 1}`);
export const BENCH_PASSWORD = '111';

/** `users` (by default `BENCH_USERS`) as SQL in `dir` (dong's password hash: the same password); the file. */
export function benchUsersSql(dir, users = BENCH_USERS) {
  const file = path.join(dir, 'bench-users.sql');
  const hash = 'pbkdf2_sha256$100000$2lo7UALg1YCabB9iwB87LA$nKacCEIHlk7paHU8EIPTmdARlTkokzvBD8vHGu-jGDk';
  writeFileSync(
    file,
    users
      .map(
        (name) =>
          `INSERT OR IGNORE INTO users (id, username, display_name, password_hash) VALUES ('u_${name}', '${name}', '${name}', '${hash}');\n`,
      )
      .join(''),
  );
  return file;
}

const SEED_DIR = path.join(ROOT, 'bench/seed');

/**
 * The seed's own packages (NestJS, `qrcode`, `@nestjs/jwt`: bench/seed/package-lock.json),
 * installed into bench/seed/node_modules on first use, so that the project's install does not
 * carry a second web framework. Returns null when they are there, else why not.
 */
export function installSeed() {
  if (existsSync(path.join(SEED_DIR, 'node_modules/@nestjs/core'))) return null;
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: SEED_DIR, encoding: 'utf8' });
  return r.status === 0
    ? null
    : `npm ci in bench/seed failed: ${(r.stderr || r.stdout || String(r.error)).trim().slice(0, 300)}`;
}

/**
 * Starts one server. `kind`: 'start' (the app, `npm start`), 'floor', 'floor-contract' (the floor
 * with the contract, bench/floor/wrangler.contract.toml), 'floor-held' (the floor with the wait
 * held in the object, the design before issue 18), 'seed' (the seed, bench/seed/server.mjs, in
 * memory; `installSeed()` first) or 'dev' (`wrangler dev`).
 * RATE_LIMIT is off (the load comes from one address); `vars` adds `--var`s; `nofile` sets
 * the open-files limit of the server (`startProcess`).
 */
export async function startServer(options) {
  // A port found free can still be taken by another process before the server binds it:
  // then the server exits with EADDRINUSE and starts again on other ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServerOnce(options);
    } catch (error) {
      if (attempt >= 3 || !String(error.message).includes('EADDRINUSE')) throw error;
    }
  }
}

async function startServerOnce({ name, kind, bundleFile, persistRoot, vars = {}, args = [], nofile }) {
  const port = await freePort();
  if (kind === 'seed') {
    const child = startProcess(name, [path.join(SEED_DIR, 'server.mjs'), '--port', String(port)], nofile);
    const base = `http://127.0.0.1:${port}`;
    await waitReady(base, child, '/qrcode/check?id=ready');
    return { name, kind, base, child, pids: () => [child.pid] };
  }
  const persist = path.join(persistRoot, name);
  // Each attempt starts from empty storage: an attempt that lost its port (EADDRINUSE) has
  // already made the floor's tables, and making them again would fail ("already exists").
  rmSync(persist, { recursive: true, force: true });
  const varArgs = Object.entries({ RATE_LIMIT: 'off', ...vars }).flatMap(([k, v]) => ['--var', `${k}:${v}`]);
  const common = ['--port', String(port), '--ip', '127.0.0.1', '--persist-to', persist];
  const wrangler = path.join(ROOT, 'node_modules/wrangler/bin/wrangler.js');
  let child;
  if (kind === 'start' || kind === 'dev') {
    // The migrations, the demo accounts and the bench's phone users, in the server's own storage.
    mkdirSync(persist, { recursive: true });
    for (const d1 of [
      ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist],
      ['d1', 'execute', 'DB', '--local', '--persist-to', persist, '--file', 'seed/demo-users.sql'],
      ['d1', 'execute', 'DB', '--local', '--persist-to', persist, '--file', benchUsersSql(persist)],
    ]) {
      execFileSync(process.execPath, [wrangler, ...d1], { cwd: ROOT, stdio: 'ignore', env: process.env });
    }
  }
  if (kind === 'start' || kind.startsWith('floor')) {
    const script = kind === 'start' ? 'scripts/start.mjs' : 'bench/floor/serve.mjs';
    // The benchmark's phones sign in as the demo user, which `npm start` makes only with --demo.
    const extra = { start: ['--demo'], floor: [], 'floor-contract': ['--contract'], 'floor-held': ['--held'] }[kind];
    child = startProcess(name, [script, ...common, '--bundle', bundleFile, ...extra, ...varArgs, ...args], nofile);
  } else {
    // `npm run dev` with its own storage (made above), then `wrangler dev`.
    const inspector = ['--inspector-port', String(await freePort())];
    child = startProcess(name, [wrangler, 'dev', ...common, ...inspector, ...varArgs, ...args]);
  }
  const base = `http://127.0.0.1:${port}`;
  await waitReady(base, child);
  return { name, kind, base, child, pids: () => runtimePids(child.pid) };
}

/**
 * The open-files limit a server can be given: `wanted` (what deploy/systemd's unit sets) when
 * this process may raise its hard limit that far (root with CAP_SYS_RESOURCE), else the hard
 * limit it has. `{ limit, wanted, hard, raised }`.
 */
export function openFilesLimit(wanted) {
  const hardText = execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim();
  const hard = hardText === 'unlimited' ? Number.POSITIVE_INFINITY : Number(hardText);
  const raised = hard >= wanted || spawnSync('sh', ['-c', `ulimit -n ${wanted}`]).status === 0;
  return { limit: raised ? wanted : hard, wanted, hard, raised };
}
