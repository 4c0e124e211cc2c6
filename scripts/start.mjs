#!/usr/bin/env node
/**
 * `npm start`: the Worker as `wrangler deploy` would upload it, served on the plain workerd
 * runtime through Miniflare with its development extras off (no live reload, no per-request
 * log line, no file watching, no inspector, no dev registry). Same bindings, secrets
 * (`.dev.vars`) and local storage (`.wrangler/state`) as `wrangler dev`.
 *
 *   npm start -- [--port 8787] [--ip localhost] [--var K:V]... [--persist-to DIR] [--direct] [--bundle FILE]
 *
 * Steps: bundle with `wrangler deploy --dry-run`, start workerd, apply the D1 migrations and
 * the demo accounts to local storage (like `npm run db:local`), then say where it listens.
 * `--direct` serves the Worker's own workerd socket instead of Miniflare's entry worker:
 * a little faster, but then nothing sets `CF-Connecting-IP`, so every client shares one
 * rate-limit key. Kept for the benchmark's comparison; not for real use. `--bundle FILE`
 * serves a bundle that `wrangler deploy --dry-run --outdir` already made (the benchmark
 * builds once for its several servers).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(ROOT);
process.env.WRANGLER_SEND_METRICS ??= 'false';

function usage(message) {
  if (message) console.error(`npm start: ${message}`);
  console.error(
    'usage: npm start -- [--port N] [--ip ADDR] [--var KEY:VALUE]... [--persist-to DIR] [--direct] [--bundle FILE]',
  );
  process.exit(2);
}

/** `wrangler dev`'s own spelling of the arguments: `--port 8787` or `--port=8787`, `--var K:V` repeatable. */
export function parseArgs(argv) {
  const opts = { port: 8787, ip: 'localhost', vars: {}, persistTo: '.wrangler/state', direct: false, bundle: null };
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
      case '--direct':
        opts.direct = true;
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
 * `wrangler d1 migrations apply --local` agrees afterwards), then the idempotent demo seed.
 */
async function applyMigrations(db, splitSqlQuery, migrationsDir, seedFile) {
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
  const seed = splitSqlQuery(readFileSync(seedFile, 'utf8'));
  await db.batch(seed.map((sql) => db.prepare(sql)));
  return applied;
}

export async function start(opts) {
  const { Miniflare, Log, LogLevel, convertV4MiniflareOptions } = requireFromWrangler('miniflare');
  const { unstable_getMiniflareWorkerOptions, unstable_readConfig, unstable_splitSqlQuery } = await import(
    pathToFileURL(requireFromWrangler.resolve('wrangler'))
  );
  const config = unstable_readConfig({ config: 'wrangler.toml' });
  // One bundle directory per process, so that two instances can start side by side.
  const bundleDir = opts.bundle ? null : path.join(ROOT, `.wrangler/tmp/start-bundle-${process.pid}`);
  const scriptPath = opts.bundle ?? bundle(bundleDir);
  // Bindings, Durable Objects, D1, assets and `.dev.vars` exactly as `wrangler dev` reads them.
  const { workerOptions } = unstable_getMiniflareWorkerOptions(config);
  const persistRoot = path.resolve(opts.persistTo, 'v3');
  const worker = {
    ...workerOptions,
    name: config.name,
    rootPath: ROOT,
    modules: true,
    modulesRules: undefined,
    scriptPath,
    bindings: { ...workerOptions.bindings, ...opts.vars },
  };
  if (opts.direct) worker.unsafeDirectSockets = [{ host: opts.ip, port: opts.port }];
  // The database first, in a Miniflare of its own on the same storage (as `wrangler d1` does
  // it), so that the port never answers before the accounts exist.
  const d1 = config.d1_databases.find((d) => d.binding === 'DB');
  const migrator = new Miniflare(
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
  let applied;
  try {
    applied = await applyMigrations(
      await migrator.getD1Database('DB'),
      unstable_splitSqlQuery,
      path.join(ROOT, d1.migrations_dir ?? 'migrations'),
      path.join(ROOT, 'seed/demo-users.sql'),
    );
  } finally {
    await migrator.dispose();
  }
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      rootPath: ROOT,
      host: opts.direct ? '127.0.0.1' : opts.ip,
      port: opts.direct ? 0 : opts.port,
      log: new Log(LogLevel.WARN),
      logRequests: false,
      liveReload: false,
      // No fetch of a real `Request.cf` from Cloudflare at start-up: the placeholder will do.
      cf: false,
      resourcePersistencePath: persistRoot,
      resourceTmpPath: path.join(ROOT, '.wrangler/tmp'),
      workers: [worker],
    }),
  );
  const entryUrl = await mf.ready;
  const url = opts.direct ? await mf.unsafeGetDirectURL(config.name) : entryUrl;
  const dispose = async () => {
    await mf.dispose();
    if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
  };
  return { mf, url, applied, persistRoot, dispose };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const opts = parseArgs(process.argv.slice(2));
  const { url, applied, persistRoot, dispose } = await start(opts);
  if (applied.length) console.log(`Applied D1 migrations: ${applied.join(', ')}`);
  const vars = Object.keys(opts.vars);
  console.log(
    `Ready on ${url.href.replace(/\/$/, '')} (workerd, production bundle${vars.length ? `, --var ${vars.join(', ')}` : ''}; storage ${path.relative(ROOT, persistRoot) || persistRoot})`,
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await dispose();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
