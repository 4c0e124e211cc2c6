/**
 * Serves a Worker the way `npm start` (scripts/start.mjs) serves the app: the bundle that
 * `wrangler deploy --dry-run` makes from a wrangler config, on workerd through wrangler's own
 * Miniflare with the development extras off (no request log, no live reload, no `Request.cf`
 * fetch), requests entering through the local front (scripts/local-front.mjs) to the Worker's own
 * socket, storage on disk, the D1 SQL applied first in a Miniflare of its own. The floor is served with it, and so is the app when
 * `bench/profile.mjs` needs what `npm start` does not offer (the inspector, a counting copy).
 * Keep the Miniflare options in step with scripts/start.mjs: the two must differ only in what
 * they serve.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { newFrontSecret } from '../scripts/local-front.mjs';
import { serveBundle, withD1 } from '../scripts/start.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Wrangler's own Miniflare (and so its workerd), the one `npm start` runs.
const requireFromWrangler = createRequire(path.join(ROOT, 'node_modules/wrangler/package.json'));
const wranglerApi = () => import(pathToFileURL(requireFromWrangler.resolve('wrangler')).href);

/**
 * The production bundle of `config` in `outdir` (inside the project: workerd names modules by
 * their path from its root); `entry` replaces the config's `main`; `extraArgs` go to wrangler
 * (`--minify=false`: a bundle whose profile names its source modules). Returns the bundle's file.
 */
export function bundleWorker(config, outdir, entry, extraArgs = []) {
  mkdirSync(outdir, { recursive: true });
  const wrangler = path.join(ROOT, 'node_modules/wrangler/bin/wrangler.js');
  const args = ['deploy', ...(entry ? [entry] : []), '--dry-run', '--config', config, '--outdir', outdir, ...extraArgs];
  const run = spawnSync(process.execPath, [wrangler, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, WRANGLER_LOG: 'error', FORCE_COLOR: '0', WRANGLER_SEND_METRICS: 'false' },
  });
  if (run.status !== 0) {
    process.stderr.write(run.stdout + run.stderr);
    throw new Error(`wrangler deploy --dry-run --config ${config} failed`);
  }
  const file = readdirSync(outdir).find((f) => f.endsWith('.js'));
  if (!file) throw new Error(`no bundle in ${outdir}`);
  return path.join(outdir, file);
}

/** The app's D1 migrations, in order: the floors' database has the same `sessions` table as the app's. */
export function migrationFiles() {
  const dir = path.join(ROOT, 'migrations');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => path.join(dir, f));
}

/** Runs the statements of `sqlFiles` on the `DB` binding, before the Worker starts. */
async function applySql(d1, sqlFiles, persistRoot) {
  const { unstable_splitSqlQuery } = await wranglerApi();
  await withD1(d1, persistRoot, async (db) => {
    for (const file of sqlFiles) {
      const statements = unstable_splitSqlQuery(readFileSync(file, 'utf8'));
      await db.batch(statements.map((sql) => db.prepare(sql)));
    }
  });
}

/**
 * @param {{ config: string, bundle?: string, entry?: string, sqlFiles?: string[], port: number,
 *   ip: string, vars?: Record<string, string>, persistTo: string, direct?: boolean, inspectorPort?: number }} opts
 */
export async function serveWorker(opts) {
  const { unstable_getMiniflareWorkerOptions, unstable_readConfig } = await wranglerApi();
  const config = unstable_readConfig({ config: opts.config });
  const bundleDir = opts.bundle ? null : path.join(ROOT, `.wrangler/tmp/serve-bundle-${process.pid}-${Date.now()}`);
  const scriptPath = opts.bundle ?? bundleWorker(opts.config, bundleDir, opts.entry);
  const { workerOptions } = unstable_getMiniflareWorkerOptions(config);
  const persistRoot = path.resolve(opts.persistTo, 'v3');
  const d1 = config.d1_databases.find((d) => d.binding === 'DB');
  if (d1 && opts.sqlFiles?.length) await applySql(d1, opts.sqlFiles, persistRoot);
  const frontSecret = newFrontSecret();
  const served = await serveBundle({
    name: config.name,
    workerOptions,
    scriptPath,
    bindings: { ...workerOptions.bindings, ...opts.vars, LOCAL_FRONT_SECRET: frontSecret },
    persistRoot,
    ip: opts.ip,
    port: opts.port,
    direct: opts.direct,
    frontSecret,
    inspectorPort: opts.inspectorPort,
    onDispose: () => bundleDir && rmSync(bundleDir, { recursive: true, force: true }),
  });
  return { ...served, persistRoot };
}
