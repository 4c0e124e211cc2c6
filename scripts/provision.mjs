#!/usr/bin/env node
/**
 * `npm run provision [-- --dry-run] [--config FILE] [--var WEBHOOK_URL:…]`: makes, on the Cloudflare account that
 * `npx wrangler login` chose, everything a deploy needs, through wrangler, and only what is
 * missing (run it again and it changes nothing):
 *
 *   1. the D1 database of `[[d1_databases]]` (binding `DB`; or the operator's own, `d1` of
 *      `deploy.config.json`): found by name or created, and its id written into
 *      `deploy.config.json` when there is one, else into wrangler.toml's `database_id`;
 *   2. the D1 migrations not yet applied to it (`wrangler d1 migrations apply DB --remote`);
 *   3. every queue of `[[queues.*]]`, dead-letter queue included: the audit log's is needed on
 *      every deploy, and `npm run deploy` deploys them all (webhooks on or off: an unused queue
 *      costs nothing);
 *   4. the secret `SIGNING_KEY`, only if the Worker has none: a new set of an Ed25519 and an
 *      RSA key (`npm run keygen`) handed to `wrangler secret put` on its stdin, never shown and
 *      never on disk.
 *      A Worker that does not exist yet is created by that command as an empty draft, which
 *      `npm run deploy` then replaces.
 *
 * With `deploy.config.json` (or `--deploy-config FILE`: see project-config.mjs) its Worker name,
 * database and vars are the ones used, as `npm run deploy` uses them.
 *
 * Then it says which optional secrets are not set. `--dry-run` runs nothing and prints every
 * wrangler command it would run, the checks included, assuming that nothing exists yet.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { newSigningKeySet } from './keygen.mjs';
import {
  cliVars,
  database,
  deploySettings,
  deployVars,
  GENERATED_CONFIG,
  queueNames,
  readConfig,
  webhooksOn,
  writeGeneratedConfig,
} from './project-config.mjs';
import { jsonOf, mustRun, OperatorError, ROOT, shortPath, shown, wrangler } from './run-wrangler.mjs';

/** The id that wrangler.toml ships with: no database has it. */
export const PLACEHOLDER_DATABASE_ID = '00000000-0000-0000-0000-000000000000';

/**
 * `toml` with the `database_id` of the `[[d1_databases]]` table whose binding is `binding` set
 * to `id` (added after its `database_name` when it has none). The rest of the file, comments
 * included, is left exactly as it was.
 */
export function withDatabaseId(toml, binding, id) {
  const lines = toml.split('\n');
  let inTable = false;
  let table = null;
  const tables = [];
  lines.forEach((line, i) => {
    if (/^\s*\[/.test(line)) {
      inTable = /^\s*\[\[\s*d1_databases\s*\]\]\s*(#.*)?$/.test(line);
      table = inTable ? { start: i, lines: [] } : null;
      if (table) tables.push(table);
    } else if (inTable) table.lines.push(i);
  });
  const keyLine = (t, key) => t.lines.find((i) => new RegExp(`^\\s*${key}\\s*=`).test(lines[i]));
  const target = tables.find((t) => {
    const i = keyLine(t, 'binding');
    return i !== undefined && lines[i].includes(`"${binding}"`);
  });
  if (!target) throw new OperatorError(`no [[d1_databases]] with binding = "${binding}" in wrangler.toml`);
  const entry = `database_id = "${id}"`;
  const existing = keyLine(target, 'database_id');
  if (existing !== undefined) lines[existing] = lines[existing].replace(/database_id\s*=\s*"[^"]*"/, entry);
  else lines.splice((keyLine(target, 'database_name') ?? target.start) + 1, 0, entry);
  return lines.join('\n');
}

/**
 * Runs the provisioning steps. `dryRun`: print each command instead, answering every check
 * with "missing". `log` receives what a person reads.
 */
export async function provision({
  dryRun = false,
  configPath = path.join(ROOT, 'wrangler.toml'),
  deployConfig,
  vars = {},
  log = console.log,
}) {
  const config = await readConfig(configPath);
  // The operator's own deploy settings (deploy.config.json): their database, vars and Worker name.
  const { file, settings } = deploySettings(configPath, deployConfig);
  if (dryRun) log('# dry run: the wrangler commands this would run on your account, assuming nothing exists yet');
  if (settings) log(`# with ${shortPath(file)} over ${path.basename(configPath)}`);
  /** The configuration the commands name: wrangler.toml, or the one made with the settings over it. */
  let commandConfig = path.resolve(configPath) === path.join(ROOT, 'wrangler.toml') ? null : configPath;
  const withConfig = (args) => (commandConfig ? [...args, '--config', shortPath(commandConfig)] : args);
  /** The configuration made with the settings over wrangler.toml, removed at the end. */
  let generated = null;
  try {
    await steps();
  } finally {
    if (generated) rmSync(generated, { force: true });
  }

  async function steps() {
    /** A read-only look at the account: null in a dry run (nothing is known, so everything is "missing"). */
    const check = (args, why) => {
      const full = withConfig(args);
      log(`$ ${shown(full)}    # ${why}`);
      return dryRun ? null : wrangler(full, { capture: true });
    };
    /** A change to the account. */
    const change = (args, why, input) => {
      const full = withConfig(args);
      log(`$ ${shown(full)}    # ${why}`);
      if (!dryRun) mustRun(full, { input });
    };

    // 1. The D1 database, by name; its id into the deploy settings, or wrangler.toml without them.
    const d1 = { ...database(config), ...settings?.d1 };
    const listArgs = ['d1', 'list', '--json'];
    const findDatabase = (result) => {
      if (!result) return null;
      if (!result.ok) throw new OperatorError(`this failed: ${shown(listArgs)}\n${result.stderr.trim()}`);
      return jsonOf(result.stdout, listArgs).find((db) => db.name === d1.database_name) ?? null;
    };
    let found = findDatabase(check(listArgs, `is there a D1 database named "${d1.database_name}"?`));
    if (!found) {
      change(['d1', 'create', d1.database_name], 'only if not');
      found = dryRun ? null : findDatabase(wrangler(withConfig(listArgs), { capture: true }));
      if (!dryRun && !found)
        throw new OperatorError(`the database "${d1.database_name}" was created but is not listed`);
    }
    const idFile = settings ? file : configPath;
    if (dryRun) log(`  (its id then goes into ${shortPath(idFile)}: database_id)`);
    else if (found.uuid !== d1.database_id) {
      if (settings) {
        const raw = JSON.parse(readFileSync(file, 'utf8'));
        raw.d1 = { ...raw.d1, database_id: found.uuid };
        settings.d1.database_id = found.uuid;
        writeFileSync(file, `${JSON.stringify(raw, null, 2)}\n`);
      } else writeFileSync(configPath, withDatabaseId(readFileSync(configPath, 'utf8'), d1.binding, found.uuid));
      log(`  wrote database_id = "${found.uuid}" into ${shortPath(idFile)}`);
    } else log(`  database "${d1.database_name}" is ${found.uuid}, as ${shortPath(idFile)} says`);
    // From here the commands name the Worker and the database of the settings.
    if (settings && dryRun) commandConfig = path.join(path.dirname(configPath), GENERATED_CONFIG);
    else if (settings) commandConfig = generated = await writeGeneratedConfig(configPath, settings);

    // 2. Its migrations (wrangler applies only those not yet recorded in the database).
    change(['d1', 'migrations', 'apply', d1.binding, '--remote'], 'the migrations not yet applied');

    // 3. Every queue: the audit log's always, the webhooks' too (deployed with the Worker either way).
    const queues = queueNames(config);
    const deployed = deployVars(config, settings);
    for (const queue of queues) {
      const info = check(['queues', 'info', queue], `does the queue "${queue}" exist?`);
      if (info?.ok) log(`  queue "${queue}" exists`);
      else if (info && !/does not exist/i.test(`${info.stderr}${info.stdout}`)) {
        throw new OperatorError(`this failed: ${shown(withConfig(['queues', 'info', queue]))}\n${info.stderr.trim()}`);
      } else change(['queues', 'create', queue], 'only if not');
    }

    // 4. The signing key, only if the Worker has none (a new Worker has no secrets at all).
    const secretArgs = ['secret', 'list'];
    const listed = check(secretArgs, 'which secrets does the Worker have?');
    let secrets = [];
    if (listed?.ok) secrets = jsonOf(listed.stdout, secretArgs).map((s) => s.name);
    else if (listed && !/not found/i.test(`${listed.stderr}${listed.stdout}`)) {
      throw new OperatorError(`this failed: ${shown(withConfig(secretArgs))}\n${listed.stderr.trim()}`);
    }
    if (secrets.includes('SIGNING_KEY')) log('  SIGNING_KEY is set (rotate it with `npm run keygen`, see the README)');
    else {
      const key = dryRun ? null : await newSigningKeySet('EdDSA');
      change(
        ['secret', 'put', 'SIGNING_KEY'],
        'only if not set: new Ed25519 and RSA keys from `npm run keygen` on its stdin',
        key ?? undefined,
      );
    }

    // What is left to the operator: secrets only they can choose.
    const notes = [];
    if (webhooksOn({ vars: deployed }, vars) && !secrets.includes('WEBHOOK_SECRET')) {
      notes.push(
        'WEBHOOK_SECRET is not set: webhooks stay off until it is. Give the same value to your receiver:\n' +
          '    echo "whsec_$(openssl rand -base64 32)" | tee /dev/stderr | npx wrangler secret put WEBHOOK_SECRET',
      );
    }
    if (deployed.IDENTITY === 'jwt' && !deployed.IDENTITY_JWKS_URL && !secrets.includes('IDENTITY_JWT_SECRET')) {
      notes.push(
        'IDENTITY=jwt without IDENTITY_JWKS_URL needs the secret IDENTITY_JWT_SECRET: npx wrangler secret put IDENTITY_JWT_SECRET',
      );
    }
    for (const note of notes) log(`note: ${note}`);
    log(dryRun ? '(dry run: nothing was changed)' : 'Provisioned. Next: npm run deploy');
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const opts = { dryRun: false, configPath: undefined, deployConfig: undefined, vars: cliVars(argv) };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--dry-run') opts.dryRun = true;
    else if (argv[i] === '--config' && argv[i + 1]) opts.configPath = path.resolve(argv[++i]);
    else if (argv[i] === '--deploy-config' && argv[i + 1]) opts.deployConfig = path.resolve(argv[++i]);
    else if (argv[i] === '--var' && argv[i + 1]?.includes(':')) i++;
    else {
      console.error(
        'usage: npm run provision -- [--dry-run] [--config wrangler.toml] [--deploy-config deploy.config.json] [--var WEBHOOK_URL:https://…]',
      );
      process.exit(2);
    }
  }
  try {
    await provision(opts);
  } catch (err) {
    if (!(err instanceof OperatorError)) throw err;
    console.error(`npm run provision: ${err.message}`);
    process.exit(1);
  }
}
