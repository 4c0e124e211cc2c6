#!/usr/bin/env node
/**
 * `npm run deploy [-- --dry-run] [--deploy-config FILE] [any other wrangler deploy argument]`:
 * the remote D1 migrations, then `wrangler deploy`.
 *
 * An operator's own deploy (its Worker's name, a custom domain or route, `SITE_NAME`,
 * `PUBLIC_ORIGIN` and the other vars, its D1 database) comes from `deploy.config.json` beside
 * wrangler.toml (git-ignored; `deploy.config.example.json` shows it) or `--deploy-config FILE`,
 * so that wrangler.toml need not be forked: see `readDeployConfig` in project-config.mjs.
 * wrangler's own flags (`--domain`, `--route`, `--name`, `--var`) pass through for a one-off.
 * With deploy settings the deploy uses `wrangler.deploy.json`, made here from wrangler.toml as
 * wrangler reads it with the settings over it, checked through wrangler to differ in nothing
 * else; next to wrangler.toml so that its relative paths hold; and removed afterwards. Without
 * them it deploys wrangler.toml as it is.
 *
 * Every queue of wrangler.toml is deployed with the Worker, whatever the webhooks: the audit log
 * (src/activity/) takes every security event through its queue, so the Worker always produces to
 * and consumes it. wrangler refuses to deploy a consumer of a queue that does not exist (it makes
 * a missing producer queue on its own, never a consumer-only one such as the dead-letter queue),
 * so `npm run provision` makes them all; an unused webhook queue costs nothing.
 *
 * `--dry-run` prints the migrations command instead of running it, and passes `--dry-run` to
 * `wrangler deploy` (which bundles and checks, offline, without uploading).
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  cliVars,
  DEPLOY_CONFIG,
  database,
  deploySettings,
  GENERATED_CONFIG,
  queueNames,
  readConfig,
  writeGeneratedConfig,
} from './project-config.mjs';
import { PLACEHOLDER_DATABASE_ID } from './provision.mjs';
import { mustRun, OperatorError, ROOT, shortPath, shown } from './run-wrangler.mjs';
import { SECRET_NAMES } from './secrets.mjs';

export { GENERATED_CONFIG };

/** `args` without the option `names` and its value; the value too. */
function takeOption(args, names) {
  const at = args.findIndex((a) => names.includes(a));
  if (at < 0) return { value: undefined, rest: args };
  if (!args[at + 1]) throw new OperatorError(`${args[at]} needs a value`);
  return { value: args[at + 1], rest: args.filter((_, i) => i !== at && i !== at + 1) };
}

/** The deploy; `args` are `wrangler deploy`'s own, passed on, besides `--deploy-config FILE`. */
export async function deploy(args, { log = console.log } = {}) {
  const dryRun = args.includes('--dry-run');
  const given = takeOption(args, ['--config', '-c']);
  const configPath = path.resolve(given.value ?? path.join(ROOT, 'wrangler.toml'));
  const chosen = takeOption(given.rest, ['--deploy-config']);
  const rest = chosen.rest;
  // A secret given with --var would be deployed as a plain variable (shown in the dashboard), and
  // npm has printed it: refused, by name only.
  const secrets = Object.keys(cliVars(rest)).filter((name) => SECRET_NAMES.includes(name));
  if (secrets.length) {
    throw new OperatorError(
      `${secrets.join(', ')} must not come with --var: it would be deployed as a plain variable, and npm has printed it. ` +
        `Set ${secrets.length === 1 ? 'it' : 'each'} with \`npx wrangler secret put ${secrets[0]}\` (it asks for the value), then deploy without it.`,
    );
  }
  const { file, settings } = deploySettings(configPath, chosen.value && path.resolve(chosen.value));
  const config = await readConfig(configPath);
  const d1 = database(config);
  const databaseId = settings?.d1.database_id ?? d1.database_id;

  if (databaseId === PLACEHOLDER_DATABASE_ID) {
    const problem = `${settings ? shortPath(file) : path.basename(configPath)} has no database_id of yours yet: npm run provision creates the database and writes it`;
    if (!dryRun) throw new OperatorError(problem);
    log(`note: ${problem}`);
  }
  if (settings) {
    const changed = ['name', 'routes', 'workers_dev', 'vars', 'd1'].filter((k) =>
      k === 'vars' || k === 'd1' ? Object.keys(settings[k]).length : settings[k] !== undefined,
    );
    log(`# ${shortPath(file)} over ${path.basename(configPath)}: ${changed.join(', ') || 'nothing'}`);
  }
  log(`# every queue is deployed with the Worker (${queueNames(config).join(', ')}): npm run provision makes them`);
  const generated = settings ? await writeGeneratedConfig(configPath, settings) : null;
  try {
    const target = generated ?? configPath;
    const named = generated || given.value ? ['--config', shortPath(target)] : [];
    const migrations = ['d1', 'migrations', 'apply', d1.binding, '--remote', ...named];
    log(`$ ${shown(migrations)}`);
    if (!dryRun) mustRun(migrations);
    const command = ['deploy', ...named, ...rest];
    log(`$ ${shown(command)}`);
    mustRun(command);
  } finally {
    if (generated) rmSync(generated, { force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await deploy(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof OperatorError)) throw err;
    console.error(`npm run deploy: ${err.message}`);
    process.exit(1);
  }
}

export { DEPLOY_CONFIG };
