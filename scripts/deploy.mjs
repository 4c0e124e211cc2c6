#!/usr/bin/env node
/**
 * `npm run deploy [-- --dry-run] [any other wrangler deploy argument]`: the remote D1 migrations,
 * then `wrangler deploy`.
 *
 * With webhooks off (no `WEBHOOK_URL` in `[vars]` nor given with `--var`) the Worker needs no
 * queue, and none need exist on the account: wrangler refuses to deploy a consumer of a queue
 * that does not exist (it creates a missing producer queue on its own, never a consumer-only
 * one such as the dead-letter queue). So the deploy then uses `wrangler.no-webhooks.toml`, made
 * here from wrangler.toml with its `[[queues.*]]` tables left out and nothing else changed
 * (checked by reading both back through wrangler), next to it so that its relative paths
 * hold, and removed afterwards. With webhooks on it deploys wrangler.toml as it is; `npm run
 * provision` makes the queues.
 *
 * `--dry-run` prints the migrations command instead of running it, and passes `--dry-run` to
 * `wrangler deploy` (which bundles and checks, offline, without uploading).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { cliVars, database, readConfig, webhooksOn } from './project-config.mjs';
import { PLACEHOLDER_DATABASE_ID } from './provision.mjs';
import { mustRun, OperatorError, ROOT, shortPath, shown } from './run-wrangler.mjs';
import { SECRET_NAMES } from './secrets.mjs';

/** The name of the configuration deployed with webhooks off, beside the one it is made from. */
export const NO_WEBHOOKS_CONFIG = 'wrangler.no-webhooks.toml';

/** `toml` without its `[queues…]` and `[[queues.…]]` tables; every other line stays as it is. */
export function withoutQueues(toml) {
  let dropping = false;
  const kept = toml.split('\n').filter((line) => {
    const header = /^\s*\[\[?\s*([\w.-]+)\s*\]\]?\s*(#.*)?$/.exec(line);
    if (header) dropping = header[1] === 'queues' || header[1].startsWith('queues.');
    return !dropping;
  });
  return [
    '# Made by `npm run deploy` from wrangler.toml for a deploy with webhooks off: the same, without',
    '# the queues. Removed after the deploy; edit wrangler.toml instead.',
    ...kept,
  ].join('\n');
}

/** What wrangler reads from a configuration, apart from where the file lies. */
function meaning(config) {
  const { configPath, userConfigPath, topLevelName, ...rest } = config;
  return rest;
}

/**
 * Writes the queue-less configuration beside `configPath` and checks, through wrangler's own
 * reader, that it says exactly what `configPath` says except for the queues. Returns its path.
 */
export async function writeNoWebhooksConfig(configPath) {
  const target = path.join(path.dirname(configPath), NO_WEBHOOKS_CONFIG);
  writeFileSync(target, withoutQueues(readFileSync(configPath, 'utf8')));
  const [original, generated] = [await readConfig(configPath), await readConfig(target)];
  const expected = { ...meaning(original), queues: generated.queues };
  const queues = generated.queues ?? {};
  if (
    (queues.producers ?? []).length ||
    (queues.consumers ?? []).length ||
    !isDeepStrictEqual(meaning(generated), expected)
  ) {
    rmSync(target, { force: true });
    throw new OperatorError(
      `${NO_WEBHOOKS_CONFIG} would differ from ${path.basename(configPath)} in more than its queues; deploy with webhooks on, or report this`,
    );
  }
  return target;
}

/** The deploy; `args` are `wrangler deploy`'s own, passed on. */
export async function deploy(args, { log = console.log } = {}) {
  const dryRun = args.includes('--dry-run');
  const at = args.findIndex((a) => a === '--config' || a === '-c');
  const configPath = path.resolve(at >= 0 && args[at + 1] ? args[at + 1] : path.join(ROOT, 'wrangler.toml'));
  const rest = at >= 0 ? args.filter((_, i) => i !== at && i !== at + 1) : args;
  // A secret given with --var would be deployed as a plain variable (shown in the dashboard), and
  // npm has printed it: refused, by name only.
  const secrets = Object.keys(cliVars(rest)).filter((name) => SECRET_NAMES.includes(name));
  if (secrets.length) {
    throw new OperatorError(
      `${secrets.join(', ')} must not come with --var: it would be deployed as a plain variable, and npm has printed it. ` +
        `Set ${secrets.length === 1 ? 'it' : 'each'} with \`npx wrangler secret put ${secrets[0]}\` (it asks for the value), then deploy without it.`,
    );
  }
  const config = await readConfig(configPath);
  const d1 = database(config);

  if (d1.database_id === PLACEHOLDER_DATABASE_ID) {
    const problem = `${path.basename(configPath)} has no database_id of yours yet: npm run provision creates the database and writes it`;
    if (!dryRun) throw new OperatorError(problem);
    log(`note: ${problem}`);
  }
  const migrations = [
    'd1',
    'migrations',
    'apply',
    d1.binding,
    '--remote',
    ...(at >= 0 ? ['--config', configPath] : []),
  ];
  log(`$ ${shown(migrations)}`);
  if (!dryRun) mustRun(migrations);

  const on = webhooksOn(config, cliVars(rest));
  const deployConfig = on ? configPath : await writeNoWebhooksConfig(configPath);
  const command = ['deploy', ...(on && at < 0 ? [] : ['--config', shortPath(deployConfig)]), ...rest];
  log(
    on
      ? '# webhooks on (WEBHOOK_URL is set): the queues are deployed with the Worker'
      : `# webhooks off (no WEBHOOK_URL): deploying ${NO_WEBHOOKS_CONFIG}, wrangler.toml without the queues, so no queue need exist`,
  );
  log(`$ ${shown(command)}`);
  try {
    mustRun(command);
  } finally {
    if (!on) rmSync(deployConfig, { force: true });
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
