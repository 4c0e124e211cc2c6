#!/usr/bin/env node
/**
 * Serves the floor (bench/floor/) the way `npm start` serves the app (see bench/serve.mjs),
 * with the same arguments as `npm start`:
 *
 *   node bench/floor/serve.mjs [--contract | --held] [--port N] [--ip ADDR] [--var K:V]... [--persist-to DIR] [--bundle FILE] [--direct]
 *
 * `--contract` serves the floor with the contract (wrangler.contract.toml): its revocation read,
 * `deleteAll()` at the hand-out, and static assets in front as the app has them. `--held` serves
 * the floor of the design before issue 18 (wrangler.held.toml): the PC's wait held in the object.
 *
 * Run it through npm's Node (`npx node …`): wrangler needs Node 22 or later.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from '../../scripts/start.mjs';
import { bundleWorker, migrationFiles, serveWorker } from '../serve.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CONFIGS = {
  bare: path.join(HERE, 'wrangler.toml'),
  contract: path.join(HERE, 'wrangler.contract.toml'),
  held: path.join(HERE, 'wrangler.held.toml'),
};

/** The floor's production bundle, in `outdir` (inside the project); `variant` 'bare', 'contract' or 'held'. */
export const bundleFloor = (outdir, variant = 'bare') => bundleWorker(CONFIGS[variant], outdir);

/** Starts the floor; `opts` as scripts/start.mjs parses them, plus `inspectorPort` and `variant`. */
export const startFloor = ({ variant = 'bare', ...opts }) =>
  serveWorker({ ...opts, config: CONFIGS[variant], sqlFiles: migrationFiles() });

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const variant = argv.includes('--contract') ? 'contract' : argv.includes('--held') ? 'held' : 'bare';
  const opts = { ...parseArgs(argv.filter((a) => a !== '--contract' && a !== '--held')), variant };
  // Its own local storage by default, not the app's `.wrangler/state`.
  if (opts.persistTo === '.wrangler/state') opts.persistTo = '.wrangler/floor-state';
  const { url, dispose } = await startFloor(opts);
  console.log(
    `Floor${{ bare: '', contract: ' with the contract', held: ' (wait held in the object)' }[variant]} ready on ${url.href.replace(/\/$/, '')} (workerd, production bundle)`,
  );
  const stop = () => dispose().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
