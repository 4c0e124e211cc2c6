/**
 * @module
 * The project's wrangler configuration as the operator scripts read it: through wrangler's own
 * reader (so they agree with `wrangler deploy` and `wrangler dev`), whether a deploy has
 * webhooks or back-channel logout on, the queues that they need, and the variables `wrangler dev` would give the
 * Worker (`wrangler.toml` [vars] with `.dev.vars` over them).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { OperatorError, ROOT } from './run-wrangler.mjs';
import { SECRET_NAMES } from './secrets.mjs';

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
 * sends nothing without it (src/webhooks/config.ts), and provisioning says its secret is missing.
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

/**
 * The operator's own deploy settings, kept out of wrangler.toml so that it need not be forked:
 * `deploy.config.json` beside it (git-ignored; `deploy.config.example.json` shows every key), or
 * the file `--deploy-config FILE` names. Its keys are wrangler's own, for what a deploy of one's
 * own changes: the Worker's `name`, its `routes` (a custom domain: `{ "pattern":
 * "login.shop.example", "custom_domain": true }`), `workers_dev`, the `vars` over wrangler.toml's
 * `[vars]` (`SITE_NAME`, `PUBLIC_ORIGIN`, `ALLOWED_ORIGINS`, `IDENTITY`, …) and the D1 database
 * (`d1`: `database_name`, `database_id`, which `npm run provision` writes there). No secret: those
 * go to `npx wrangler secret put`.
 */
export const DEPLOY_CONFIG = 'deploy.config.json';

/** The configuration `npm run deploy` and `npm run provision` hand wrangler when they change wrangler.toml's. */
export const GENERATED_CONFIG = 'wrangler.deploy.json';

const DEPLOY_KEYS = ['$comment', 'name', 'routes', 'workers_dev', 'vars', 'd1'];

/** `file`'s deploy settings, checked; null when there is no such file. */
export function readDeployConfig(file) {
  if (!existsSync(file)) return null;
  const where = path.basename(file);
  let settings;
  try {
    settings = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new OperatorError(`${where} is not JSON: ${err.message}`);
  }
  if (!settings || typeof settings !== 'object' || Array.isArray(settings)) {
    throw new OperatorError(`${where} must be a JSON object (see deploy.config.example.json)`);
  }
  const unknown = Object.keys(settings).filter((key) => !DEPLOY_KEYS.includes(key));
  if (unknown.length) {
    throw new OperatorError(
      `${where} has ${unknown.map((k) => `"${k}"`).join(', ')}, which a deploy does not read: its keys are ${DEPLOY_KEYS.slice(1).join(', ')}`,
    );
  }
  if (settings.name !== undefined && (typeof settings.name !== 'string' || !/^[a-z0-9-]{1,63}$/.test(settings.name))) {
    throw new OperatorError(`${where}: "name" must be a Worker name (lower-case letters, digits and dashes)`);
  }
  if (settings.workers_dev !== undefined && typeof settings.workers_dev !== 'boolean') {
    throw new OperatorError(`${where}: "workers_dev" must be true or false`);
  }
  if (settings.routes !== undefined) {
    const ok =
      Array.isArray(settings.routes) &&
      settings.routes.every(
        (r) => typeof r === 'string' || (r && typeof r === 'object' && typeof r.pattern === 'string' && r.pattern),
      );
    if (!ok) {
      throw new OperatorError(
        `${where}: "routes" must be a list of patterns or of { "pattern": …, "custom_domain": true } (or "zone_name")`,
      );
    }
  }
  const vars = settings.vars ?? {};
  if (typeof vars !== 'object' || Array.isArray(vars) || Object.values(vars).some((v) => typeof v !== 'string')) {
    throw new OperatorError(`${where}: "vars" must map each variable's name to a string`);
  }
  const secrets = Object.keys(vars).filter((name) => SECRET_NAMES.includes(name));
  if (secrets.length) {
    throw new OperatorError(
      `${where}: ${secrets.join(', ')} is a secret, not a variable (a variable is shown in the dashboard): set it with \`npx wrangler secret put ${secrets[0]}\``,
    );
  }
  const d1 = settings.d1 ?? {};
  if (
    typeof d1 !== 'object' ||
    Array.isArray(d1) ||
    Object.keys(d1).some((k) => !['database_name', 'database_id'].includes(k))
  ) {
    throw new OperatorError(`${where}: "d1" may have "database_name" and "database_id" only`);
  }
  return { ...settings, vars, d1 };
}

/** The deploy settings for `configPath`: `explicit` (`--deploy-config FILE`), else the file beside it. */
export function deploySettings(configPath, explicit) {
  if (explicit && !existsSync(explicit)) throw new OperatorError(`--deploy-config ${explicit}: no such file`);
  return {
    file: explicit ?? path.join(path.dirname(configPath), DEPLOY_CONFIG),
    settings: readDeployConfig(explicit ?? path.join(path.dirname(configPath), DEPLOY_CONFIG)),
  };
}

/** The variables a deploy will have: wrangler.toml's `[vars]`, the deploy settings', then `--var`. */
export const deployVars = (config, settings, vars = {}) => ({ ...config.vars, ...settings?.vars, ...vars });

/**
 * What wrangler reads from a configuration, apart from where the file lies, as plain data (a
 * TOML file's tables and a JSON file's objects compare equal when they say the same).
 */
function meaning(config) {
  const { configPath, userConfigPath, topLevelName, ...rest } = config;
  return JSON.parse(JSON.stringify(rest));
}

/** The keys of a configuration that the deploy settings may change. */
const CHANGEABLE = ['name', 'routes', 'route', 'workers_dev', 'vars', 'd1_databases'];

/**
 * Writes `GENERATED_CONFIG` beside `configPath`: wrangler.toml as wrangler reads it, with the
 * deploy `settings` over it, its queues kept (the audit log needs its queue on every deploy). Checks, through wrangler's own reader, that it says what wrangler.toml says in
 * everything else. Returns its path; the caller removes it.
 */
export async function writeGeneratedConfig(configPath, settings) {
  const { experimental_readRawConfig } = await wranglerApi();
  const raw = structuredClone(experimental_readRawConfig({ config: path.resolve(configPath) }).rawConfig);
  if (settings?.name) raw.name = settings.name;
  if (settings?.routes) {
    delete raw.route;
    raw.routes = settings.routes;
  }
  if (settings?.workers_dev !== undefined) raw.workers_dev = settings.workers_dev;
  if (settings && Object.keys(settings.vars).length) raw.vars = { ...raw.vars, ...settings.vars };
  if (settings && Object.keys(settings.d1).length) {
    raw.d1_databases = (raw.d1_databases ?? []).map((d) => (d.binding === 'DB' ? { ...d, ...settings.d1 } : d));
  }
  const target = path.join(path.dirname(configPath), GENERATED_CONFIG);
  writeFileSync(target, `${JSON.stringify(raw, null, 2)}\n`);
  const [original, generated] = [meaning(await readConfig(configPath)), meaning(await readConfig(target))];
  const differs = Object.keys({ ...original, ...generated }).filter(
    (key) => !CHANGEABLE.includes(key) && !isDeepStrictEqual(original[key], generated[key]),
  );
  if (differs.length) {
    rmSync(target, { force: true });
    throw new OperatorError(
      `${GENERATED_CONFIG} would differ from ${path.basename(configPath)} in ${differs.join(', ')} as well; report this`,
    );
  }
  return target;
}
