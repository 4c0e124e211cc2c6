#!/usr/bin/env node
/**
 * Serves the floor (bench/floor/) the way `npm start` serves the app (see bench/serve.mjs),
 * with the same arguments as `npm start`:
 *
 *   node bench/floor/serve.mjs [--port N] [--ip ADDR] [--var K:V]... [--persist-to DIR] [--bundle FILE] [--direct]
 *
 * Run it through npm's Node (`npx node …`): wrangler needs Node 22 or later.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from '../../scripts/start.mjs';
import { bundleWorker, serveWorker } from '../serve.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CONFIG = path.join(HERE, 'wrangler.toml');
const SCHEMA = path.join(HERE, 'schema.sql');

/** The floor's production bundle, in `outdir` (inside the project). */
export const bundleFloor = (outdir) => bundleWorker(CONFIG, outdir);

/** Starts the floor; `opts` as scripts/start.mjs parses them, plus `inspectorPort`. */
export const startFloor = (opts) => serveWorker({ ...opts, config: CONFIG, sqlFiles: [SCHEMA] });

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const opts = parseArgs(process.argv.slice(2));
  // Its own local storage by default, not the app's `.wrangler/state`.
  if (opts.persistTo === '.wrangler/state') opts.persistTo = '.wrangler/floor-state';
  const { url, dispose } = await startFloor(opts);
  console.log(`Floor ready on ${url.href.replace(/\/$/, '')} (workerd, production bundle)`);
  const stop = () => dispose().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
