#!/usr/bin/env node
/**
 * `npm run deploy [-- --dry-run] [any other wrangler deploy argument]`: the remote D1 migrations,
 * then `wrangler deploy` of wrangler.toml as it is.
 *
 * Every queue of wrangler.toml is deployed with the Worker, whatever the webhooks: the audit log
 * (src/activity/) takes every security event through its queue, so the Worker always produces to
 * and consumes it. wrangler refuses to deploy a consumer of a queue that does not exist (it makes
 * a missing producer queue on its own, never a consumer-only one such as the dead-letter queue),
 * so `npm run provision` makes them all; an unused webhook queue costs nothing. (Before the
 * audit log, a deploy with webhooks off left the queues out; that detour is gone.)
 *
 * `--dry-run` prints the migrations command instead of running it, and passes `--dry-run` to
 * `wrangler deploy` (which bundles and checks, offline, without uploading).
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { database, queueNames, readConfig } from './project-config.mjs';
import { PLACEHOLDER_DATABASE_ID } from './provision.mjs';
import { mustRun, OperatorError, ROOT, shortPath, shown } from './run-wrangler.mjs';

/** The deploy; `args` are `wrangler deploy`'s own, passed on. */
export async function deploy(args, { log = console.log } = {}) {
  const dryRun = args.includes('--dry-run');
  const at = args.findIndex((a) => a === '--config' || a === '-c');
  const configPath = path.resolve(at >= 0 && args[at + 1] ? args[at + 1] : path.join(ROOT, 'wrangler.toml'));
  const rest = at >= 0 ? args.filter((_, i) => i !== at && i !== at + 1) : args;
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

  const command = ['deploy', ...(at < 0 ? [] : ['--config', shortPath(configPath)]), ...rest];
  log(`# every queue is deployed with the Worker (${queueNames(config).join(', ')}): npm run provision makes them`);
  log(`$ ${shown(command)}`);
  mustRun(command);
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
