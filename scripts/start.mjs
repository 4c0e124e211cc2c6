#!/usr/bin/env node
/**
 * `npm start`: the Worker as `wrangler deploy` would upload it, served on the plain workerd
 * runtime through Miniflare with its development extras off (no live reload, no per-request
 * log line, no file watching, no inspector, no dev registry). Same bindings, secrets
 * (`.dev.vars`) and local storage (`.wrangler/state`) as `wrangler dev`.
 *
 *   npm start -- [--port 8787] [--ip localhost] [--demo] [--var K:V]... [--persist-to DIR] [--trust-proxy ADDR]... [--direct] [--bundle FILE]
 *
 * Steps: refuse a non-loopback `--ip` while the signing key is the committed development one;
 * apply the D1 migrations to local storage; with `--demo`, add the demo accounts (dong / 111,
 * guang / 222); refuse a non-loopback `--ip` without `--demo` while the storage has them (made
 * by `npm run dev` or an earlier `--demo`: their passwords are public); tell the pages to name
 * them only when there are some; bundle with `wrangler deploy --dry-run`; start workerd with
 * the Worker on a loopback socket of its own, and the local front (`local-front.mjs`) on
 * `--ip`:`--port`, which gives the Worker each connection's own address as `CF-Connecting-IP`;
 * then say where it listens.
 *
 * `--trust-proxy ADDR` (repeatable): a reverse proxy on this machine (nginx terminating TLS, see
 * deploy/nginx/) connects from ADDR and names each client in `X-Real-IP`; the front believes that
 * header from ADDR and from no one else. Behind a proxy the server faces a network even on a
 * loopback `--ip`, so the same refusals apply as for a non-loopback one.
 *
 * Every secret (`SIGNING_KEY`, `IDENTITY_JWT_SECRET`, `WEBHOOK_SECRET`, …: `secrets.mjs`) in the
 * environment overrides `.dev.vars`, so a real one need not be written into a file nor onto the
 * command line, where npm would print it: `SIGNING_KEY="$(…)" npm start`, or the systemd unit's
 * `EnvironmentFile=`.
 * `--direct` serves the Worker's own workerd socket on `--ip`:`--port`, without the front: a
 * little less work per request, but then no client address is known (every client shares one
 * rate-limit key, and a `CF-Connecting-IP` a client sends is still not believed). Kept for the
 * benchmark's comparison; not for real use. `--bundle FILE` serves a bundle that
 * `wrangler deploy --dry-run --outdir` already made (the benchmark builds once for its servers).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { newFrontSecret, startFront } from './local-front.mjs';
import { secretsFromEnv, secretVarWarnings } from './secrets.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(ROOT);
process.env.WRANGLER_SEND_METRICS ??= 'false';

function usage(message) {
  if (message) console.error(`npm start: ${message}`);
  console.error(
    'usage: npm start -- [--port N] [--ip ADDR] [--demo] [--var KEY:VALUE]... [--persist-to DIR] [--trust-proxy ADDR]... [--direct] [--bundle FILE]',
  );
  process.exit(2);
}

/** `wrangler dev`'s own spelling of the arguments: `--port 8787` or `--port=8787`, `--var K:V` repeatable. */
export function parseArgs(argv) {
  const opts = {
    port: 8787,
    ip: 'localhost',
    vars: {},
    persistTo: '.wrangler/state',
    demo: false,
    direct: false,
    bundle: null,
    trustProxy: [],
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) [arg, value] = [arg.slice(0, eq), arg.slice(eq + 1)];
    const next = () => {
      if (value !== undefined) return value;
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '--port': {
        const port = Number(next());
        if (!Number.isInteger(port) || port < 0 || port > 65535) usage('--port must be 0 to 65535');
        opts.port = port;
        break;
      }
      case '--ip':
        opts.ip = next();
        break;
      case '--var': {
        const kv = next();
        const colon = kv.indexOf(':');
        if (colon <= 0) usage(`--var wants KEY:VALUE, got ${kv}`);
        opts.vars[kv.slice(0, colon)] = kv.slice(colon + 1);
        break;
      }
      case '--persist-to':
        opts.persistTo = next();
        break;
      case '--trust-proxy': {
        const address = next();
        if (!isIP(address)) usage(`--trust-proxy wants the proxy's IP address, got ${address}`);
        opts.trustProxy.push(address);
        break;
      }
      case '--direct':
        opts.direct = true;
        break;
      case '--demo':
        opts.demo = true;
        break;
      case '--bundle':
        // Must lie inside the project: workerd names modules by their path from its root.
        opts.bundle = path.resolve(next());
        break;
      case '--help':
      case '-h':
        usage();
        break;
      default:
        usage(`unknown argument ${arg}`);
    }
  }
  return opts;
}

const wranglerBin = path.join(ROOT, 'node_modules/wrangler/bin/wrangler.js');
// Wrangler's own Miniflare (and so its workerd), the one `wrangler dev` runs.
const requireFromWrangler = createRequire(path.join(ROOT, 'node_modules/wrangler/package.json'));

/** Bundle directories left by instances that were killed before they could clean up. */
function removeStaleBundles(tmp) {
  for (const name of existsSync(tmp) ? readdirSync(tmp) : []) {
    const pid = Number(/^(?:start|bench)-bundle-(\d+)$/.exec(name)?.[1]);
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch {
      rmSync(path.join(tmp, name), { recursive: true, force: true });
    }
  }
}

/** The production bundle: exactly what `wrangler deploy` would upload. */
export function bundle(outdir) {
  removeStaleBundles(path.dirname(outdir));
  mkdirSync(outdir, { recursive: true });
  const run = spawnSync(process.execPath, [wranglerBin, 'deploy', '--dry-run', '--outdir', outdir], {
    encoding: 'utf8',
    env: { ...process.env, WRANGLER_LOG: 'error', FORCE_COLOR: '0' },
  });
  if (run.status !== 0) {
    process.stderr.write(run.stdout + run.stderr);
    throw new Error('wrangler deploy --dry-run failed');
  }
  return path.join(outdir, 'index.js');
}

/**
 * The D1 migrations not yet applied, recorded in wrangler's own `d1_migrations` table (so
 * `wrangler d1 migrations apply --local` agrees afterwards).
 */
export async function applyMigrations(db, splitSqlQuery, migrationsDir) {
  await db
    .prepare(
      `CREATE TABLE IF NOT EXISTS d1_migrations(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT UNIQUE,
        applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)`,
    )
    .run();
  const done = new Set((await db.prepare('SELECT name FROM d1_migrations').all()).results.map((r) => r.name));
  const applied = [];
  for (const name of readdirSync(migrationsDir)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    if (done.has(name)) continue;
    const statements = splitSqlQuery(readFileSync(path.join(migrationsDir, name), 'utf8'));
    await db.batch([
      ...statements.map((sql) => db.prepare(sql)),
      db.prepare('INSERT INTO d1_migrations (name) VALUES (?)').bind(name),
    ]);
    applied.push(name);
  }
  return applied;
}

const SEED_FILE = path.join(ROOT, 'seed/demo-users.sql');

/** The demo accounts of the seed file: id, username and the password hash it sets. */
export function demoAccounts(sql = readFileSync(SEED_FILE, 'utf8')) {
  const row = /VALUES\s*\(\s*'([^']*)',\s*'([^']*)',\s*'[^']*',\s*'([^']*)'\s*\)/g;
  return [...sql.matchAll(row)].map(([, id, username, hash]) => ({ id, username, hash }));
}

/**
 * With `--demo`, the idempotent demo seed. Returns the demo accounts on this storage whose
 * password is still the published one (made now, or by `npm run dev` or an earlier `--demo`).
 */
async function demoSetup(db, splitSqlQuery, demo) {
  if (demo) await db.batch(splitSqlQuery(readFileSync(SEED_FILE, 'utf8')).map((sql) => db.prepare(sql)));
  const present = [];
  for (const { id, username, hash } of demoAccounts()) {
    const row = await db
      .prepare('SELECT 1 AS found FROM users WHERE id = ? AND password_hash = ?')
      .bind(id, hash)
      .first();
    if (row) present.push(username);
  }
  return present;
}

/** A reason not to start that the user can act on: printed without a stack. */
export class StartError extends Error {}

/** The `kid`s of the signing keys committed in `.dev.vars`: anyone can read them. */
export const DEVELOPMENT_KIDS = ['development-key-do-not-deploy', 'development-rsa-key-do-not-deploy'];

export function isLoopback(host) {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(h);
}

/** The `kid`s of a signing key's value: one JWK, or a JWK set `{"keys": […]}`. */
function kidsOf(value) {
  try {
    const parsed = JSON.parse(value ?? '');
    return (Array.isArray(parsed?.keys) ? parsed.keys : [parsed]).map((k) => k?.kid);
  } catch {
    return [];
  }
}

/**
 * How `npm start` faces a network, in words ("listen on 0.0.0.0", "serve behind the proxy at
 * 127.0.0.1"), or null when it serves this machine only: a non-loopback `host`, or a reverse
 * proxy it trusts (which brings it the network's requests).
 */
export function facing(host, trustProxy = []) {
  if (trustProxy.length) return `serve behind the proxy at ${trustProxy.join(', ')}`;
  return isLoopback(host) ? null : `listen on ${host}`;
}

/**
 * Why `npm start` must not listen on `host` (behind `trustProxy`) with these bindings, or null.
 * The committed development keys sign tokens that anyone who has read this repository can
 * forge, so they may only serve this machine.
 */
export function exposureProblem(host, bindings, trustProxy = []) {
  const how = facing(host, trustProxy);
  const committed = kidsOf(bindings.SIGNING_KEY).filter((kid) => DEVELOPMENT_KIDS.includes(kid));
  if (!how || committed.length === 0) return null;
  return [
    `refusing to ${how}: the signing key is the development key committed in .dev.vars`,
    `(kid ${committed.map((kid) => `"${kid}"`).join(', ')}), so anyone who has read this repository could sign tokens for this server.`,
    'Set the secret SIGNING_KEY to a key of your own, made by `npm run keygen` (keep it: tokens die with it):',
    '  export SIGNING_KEY="$(npm run keygen --silent)"',
    `  npm start -- --ip ${host}`,
    'or listen on a loopback address (--ip localhost or 127.0.0.1).',
  ].join('\n');
}

/**
 * Why `npm start` must not listen on `host` with the demo accounts of this storage, or null.
 * Their passwords are in the repository; `--demo` says the user means to serve them.
 */
export function demoExposureProblem(host, demoUsers, demo, trustProxy = []) {
  const how = facing(host, trustProxy);
  if (!how || demo || demoUsers.length === 0) return null;
  return [
    `refusing to ${how}: this storage has the demo accounts ${demoUsers.join(', ')}, whose passwords`,
    'anyone can read in seed/demo-users.sql (made by `npm run dev` or an earlier `npm start -- --demo`).',
    'Serve a storage of its own (--persist-to DIR), or pass --demo to serve them knowingly.',
  ].join('\n');
}

export async function start(opts) {
  const { unstable_getMiniflareWorkerOptions, unstable_readConfig, unstable_splitSqlQuery } = await import(
    pathToFileURL(requireFromWrangler.resolve('wrangler'))
  );
  const config = unstable_readConfig({ config: 'wrangler.toml' });
  // Bindings, Durable Objects, D1, assets and `.dev.vars` exactly as `wrangler dev` reads them;
  // the secrets from the environment over `.dev.vars`; `--var` over both.
  const { workerOptions } = unstable_getMiniflareWorkerOptions(config);
  const fromEnv = secretsFromEnv();
  const trustProxy = opts.trustProxy ?? [];
  const keyProblem = exposureProblem(opts.ip, { ...workerOptions.bindings, ...fromEnv, ...opts.vars }, trustProxy);
  if (keyProblem) throw new StartError(keyProblem);
  const persistRoot = path.resolve(opts.persistTo, 'v3');
  // The database first, in a Miniflare of its own on the same storage (as `wrangler d1` does
  // it), so that the port never answers before the accounts are as they should be.
  const d1 = config.d1_databases.find((d) => d.binding === 'DB');
  const { applied, demoUsers } = await withD1(d1, persistRoot, async (db) => ({
    applied: await applyMigrations(db, unstable_splitSqlQuery, path.join(ROOT, d1.migrations_dir ?? 'migrations')),
    demoUsers: await demoSetup(db, unstable_splitSqlQuery, opts.demo),
  }));
  const demoProblem = demoExposureProblem(opts.ip, demoUsers, opts.demo, trustProxy);
  if (demoProblem) throw new StartError(demoProblem);
  // Only the local front knows this; without it (`--direct`) no client address is believed.
  const frontSecret = newFrontSecret();
  const bindings = {
    ...workerOptions.bindings,
    ...fromEnv,
    // The pages name the demo accounts only when there are some.
    ...(demoUsers.length ? {} : { ENVIRONMENT: 'production' }),
    ...opts.vars,
    LOCAL_FRONT_SECRET: frontSecret,
  };
  // One bundle directory per process, so that two instances can start side by side.
  const bundleDir = opts.bundle ? null : path.join(ROOT, `.wrangler/tmp/start-bundle-${process.pid}`);
  const scriptPath = opts.bundle ?? bundle(bundleDir);
  const served = await serveBundle({
    name: config.name,
    workerOptions,
    scriptPath,
    bindings,
    persistRoot,
    ip: opts.ip,
    port: opts.port,
    direct: opts.direct,
    frontSecret,
    trustedProxies: trustProxy,
    onDispose: () => bundleDir && rmSync(bundleDir, { recursive: true, force: true }),
  });
  return { ...served, applied, demoUsers, persistRoot, bindings };
}

/**
 * Runs `use` on the `d1` database (a wrangler config's entry) in a Miniflare of its own on the
 * storage under `persistRoot`, as `wrangler d1` does it, and closes that Miniflare after.
 */
export async function withD1(d1, persistRoot, use) {
  const { Miniflare, Log, LogLevel, convertV4MiniflareOptions } = requireFromWrangler('miniflare');
  const miniflare = new Miniflare(
    convertV4MiniflareOptions({
      modules: true,
      script: '',
      log: new Log(LogLevel.WARN),
      cf: false,
      resourcePersistencePath: persistRoot,
      resourceTmpPath: path.join(ROOT, '.wrangler/tmp'),
      d1Databases: { DB: d1.preview_database_id ?? d1.database_id ?? d1.binding },
    }),
  );
  try {
    return await use(await miniflare.getD1Database('DB'));
  } finally {
    await miniflare.dispose();
  }
}

/**
 * Serves `scriptPath`, a production bundle of the Worker `name`, on workerd through wrangler's own
 * Miniflare with its development extras off, behind the local front (or, with `direct`, on the
 * Worker's own socket, where no client address is believed). The benchmark serves its floors
 * with this too, so that they are served exactly as the app is. `onDispose` runs after the stop.
 */
export async function serveBundle({
  name,
  workerOptions,
  scriptPath,
  bindings,
  persistRoot,
  ip,
  port,
  direct = false,
  frontSecret,
  inspectorPort,
  trustedProxies = [],
  onDispose = () => {},
}) {
  const { Miniflare, Log, LogLevel, convertV4MiniflareOptions } = requireFromWrangler('miniflare');
  const worker = {
    ...workerOptions,
    name,
    rootPath: ROOT,
    modules: true,
    modulesRules: undefined,
    scriptPath,
    bindings,
  };
  // The Worker's own socket: on loopback for the front, or the public one with `direct`.
  const socket = direct ? { host: ip, port } : { host: '127.0.0.1', port: 0 };
  // With `run_worker_first = true` Miniflare's asset layer only passes every request on to the
  // Worker, through two workers of its own (its RPC proxy, then its router): two hops of workerd
  // CPU per request that Cloudflare's edge does outside the Worker, about a sixth of a whole
  // login's CPU here (issue 30). The socket then opens onto the Worker itself, through a worker
  // that runs nothing (Miniflare routes a worker's own socket through the asset layer whenever it
  // has assets); `env.ASSETS` is the same binding either way.
  const workerFirst = workerOptions.assets?.routerConfig?.invoke_user_worker_ahead_of_assets === true;
  const door = workerFirst && !workerOptions.assets?.routerConfig?.static_routing ? `${name}-door` : null;
  if (!door) worker.unsafeDirectSockets = [socket];
  const workers = door
    ? [
        worker,
        {
          name: door,
          modules: true,
          script: 'export default {}',
          compatibilityDate: workerOptions.compatibilityDate,
          unsafeDirectSockets: [{ ...socket, serviceName: name }],
        },
      ]
    : [worker];
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      rootPath: ROOT,
      // Miniflare's entry worker is not used: it would believe a client's `CF-Connecting-IP`.
      host: '127.0.0.1',
      port: 0,
      log: new Log(LogLevel.WARN),
      logRequests: false,
      liveReload: false,
      // No fetch of a real `Request.cf` from Cloudflare at start-up: the Worker ignores it locally.
      cf: false,
      resourcePersistencePath: persistRoot,
      resourceTmpPath: path.join(ROOT, '.wrangler/tmp'),
      ...(inspectorPort ? { inspectorPort } : {}),
      workers,
    }),
  );
  let front = null;
  try {
    await mf.ready;
    const own = await mf.unsafeGetDirectURL(door ?? name);
    if (!direct) {
      front = await startFront({
        host: ip,
        port,
        target: { host: own.hostname, port: Number(own.port) },
        secret: frontSecret,
        trustedProxies,
      });
    }
    const dispose = async () => {
      await front?.close();
      await mf.dispose();
      onDispose();
    };
    return { mf, url: front ? front.url : own, dispose };
  } catch (err) {
    await mf.dispose();
    onDispose();
    throw err;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const opts = parseArgs(process.argv.slice(2));
  for (const line of secretVarWarnings(opts.vars, 'npm start')) console.error(line);
  // The configuration's check is bundled meanwhile; its problems are said before "Ready on".
  const { configProblems, describeProblems, loadChecks } = await import('./config-check.mjs');
  loadChecks();
  let started;
  try {
    started = await start(opts);
  } catch (err) {
    if (!(err instanceof StartError)) throw err;
    console.error(`npm start: ${err.message}`);
    process.exit(1);
  }
  const { url, applied, demoUsers, persistRoot, dispose, bindings } = started;
  const { LOCAL_FRONT_SECRET: _, ...configured } = bindings;
  const problems = await configProblems(configured, { origin: url.origin });
  for (const line of describeProblems(problems, 'npm start')) console.error(line);
  if (applied.length) console.log(`Applied D1 migrations: ${applied.join(', ')}`);
  const vars = Object.keys(opts.vars);
  const accounts = demoUsers.length ? `demo accounts ${demoUsers.join(', ')}` : 'no demo accounts';
  const proxy = opts.trustProxy.length ? `, client address from X-Real-IP of ${opts.trustProxy.join(', ')}` : '';
  console.log(
    `Ready on ${url.href.replace(/\/$/, '')} (workerd, production bundle, ${accounts}${vars.length ? `, --var ${vars.join(', ')}` : ''}${proxy}; storage ${path.relative(ROOT, persistRoot) || persistRoot})`,
  );
  // A clean stop on SIGTERM (systemd's, `docker stop`) and SIGINT: the front stops taking
  // requests, Miniflare stops workerd, and the exit code is 0. Miniflare's own handlers would
  // kill workerd and exit with 143 (128 + SIGTERM), which systemd counts as a failure.
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(1), 15_000).unref();
    await dispose();
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.removeAllListeners(signal);
    process.on(signal, stop);
  }
}
