/**
 * @module
 * The project's wrangler configuration as the operator scripts read it: through wrangler's own
 * reader (so they agree with `wrangler deploy` and `wrangler dev`), whether a deploy has
 * webhooks on, the queues that webhooks need, and the variables `wrangler dev` would give the
 * Worker (`wrangler.toml` [vars] with `.dev.vars` over them).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './run-wrangler.mjs';

const requireFromWrangler = createRequire(path.join(ROOT, 'node_modules/wrangler/package.json'));
let api;

async function wranglerApi() {
  api ??= await import(pathToFileURL(requireFromWrangler.resolve('wrangler')).href);
  return api;
}

/** `configPath` (default the project's `wrangler.toml`) as wrangler reads it. */
export async function readConfig(configPath = path.join(ROOT, 'wrangler.toml')) {
  const { unstable_readConfig } = await wranglerApi();
  return unstable_readConfig({ config: path.resolve(configPath) });
}

/** `--var KEY:VALUE` arguments (wrangler's spelling, `--var=KEY:VALUE` too) as an object. */
export function cliVars(argv) {
  const vars = {};
  for (let i = 0; i < argv.length; i++) {
    const kv = argv[i] === '--var' ? argv[i + 1] : argv[i].startsWith('--var=') ? argv[i].slice(6) : null;
    const colon = kv?.indexOf(':') ?? -1;
    if (colon > 0) vars[kv.slice(0, colon)] = kv.slice(colon + 1);
  }
  return vars;
}

/**
 * Webhooks are on for a deploy when `WEBHOOK_URL` is set, in `[vars]` or by `--var`: the Worker
 * sends nothing without it (src/webhooks/config.ts), so without it no queue is needed.
 */
export function webhooksOn(config, vars = {}) {
  return Boolean((vars.WEBHOOK_URL ?? config.vars?.WEBHOOK_URL ?? '').trim());
}

/** Every queue the configuration names: the producers', the consumers' and their dead-letter queues. */
export function queueNames(config) {
  const { producers = [], consumers = [] } = config.queues ?? {};
  const names = [...producers.map((p) => p.queue), ...consumers.flatMap((c) => [c.queue, c.dead_letter_queue])].filter(
    Boolean,
  );
  return [...new Set(names)];
}

/** The D1 database bound as `DB`. */
export function database(config) {
  const d1 = config.d1_databases?.find((d) => d.binding === 'DB');
  if (!d1) throw new Error('wrangler.toml has no [[d1_databases]] with binding = "DB"');
  return d1;
}

/** The variables `wrangler dev` gives the Worker locally: `[vars]`, then `.dev.vars` over them. */
export async function localVars(configPath) {
  const { unstable_getMiniflareWorkerOptions } = await wranglerApi();
  const config = await readConfig(configPath);
  // Quiet: wrangler would say "Using secrets defined in .dev.vars" on stdout, where a token goes.
  const level = process.env.WRANGLER_LOG;
  process.env.WRANGLER_LOG = 'error';
  try {
    return unstable_getMiniflareWorkerOptions(config).workerOptions.bindings ?? {};
  } finally {
    if (level === undefined) delete process.env.WRANGLER_LOG;
    else process.env.WRANGLER_LOG = level;
  }
}
