#!/usr/bin/env node
/**
 * `npm run accounts -- <command> [--local | --remote] [--persist-to DIR] [--config FILE]`:
 * the accounts of `IDENTITY=accounts` (the D1 table `users`), in the local database that
 * `npm run dev` and `npm start` use (the default) or in the deployed one (`--remote`).
 *
 *   add <username> [--name "Display name"]   asks for the password (twice, not echoed; or reads
 *                                            one line from a pipe) and stores only its hash
 *   list                                     every account, with when it was made or disabled
 *   disable <username>                       it can no longer sign in (it answers as an unknown
 *                                            username does); nothing of it is deleted
 *   enable <username>                        it can sign in again
 *
 * A disable or enable that changes the account is an event of the audit log (`account_disabled`,
 * `account_enabled`, the actor `npm run accounts`), as one made on /admin is.
 *
 * The password is hashed here, by the Worker's own `hashPassword()` (src/identity/passwords.ts,
 * bundled on the fly with the esbuild that wrangler brings), so the stored form is exactly the
 * Worker's. It never appears on a command line or in wrangler's output; the SQL carries the
 * hash. The remote database (the operator's own when `deploy.config.json` names it, as
 * `npm run deploy` uses it) is changed through `wrangler d1 execute --remote`, one statement at
 * a time; the local one is opened in-process as `npm start` opens it (Miniflare, the same files
 * as `wrangler d1 execute --local`), which takes a second where wrangler takes ten.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { database, deploySettings, readConfig, writeGeneratedConfig } from './project-config.mjs';
import { jsonOf, OperatorError, ROOT, shortPath, shown, wrangler } from './run-wrangler.mjs';

const USAGE = `usage: npm run accounts -- add <username> [--name "Display name"] [--local | --remote]
       npm run accounts -- list [--local | --remote]
       npm run accounts -- disable <username> [--local | --remote]
       npm run accounts -- enable <username> [--local | --remote]
options: --persist-to DIR (the local storage, default .wrangler/state), --config FILE (default wrangler.toml)`;

// The limits of the sign-in form (`LoginBody` in src/sessions/schemas.ts), so that every account made here can sign in.
const MAX_USERNAME = 64;
const MAX_PASSWORD = 256;
const MAX_NAME = 128;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The command line as `{ command, username, name, remote, persistTo, configPath }`, or an `OperatorError`. */
export function parseArgs(argv) {
  const opts = { command: null, username: null, name: null, remote: false, persistTo: null, configPath: null };
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new OperatorError(`${arg} needs a value\n${USAGE}`);
      return argv[++i];
    };
    if (arg === '--remote') opts.remote = true;
    else if (arg === '--local') opts.remote = false;
    else if (arg === '--name') opts.name = value();
    else if (arg === '--persist-to') opts.persistTo = path.resolve(value());
    else if (arg === '--config') opts.configPath = path.resolve(value());
    else if (arg.startsWith('--')) throw new OperatorError(`unknown option ${arg}\n${USAGE}`);
    else positional.push(arg);
  }
  [opts.command, opts.username] = positional;
  const needsName = ['add', 'disable', 'enable'].includes(opts.command);
  if (!['add', 'list', 'disable', 'enable'].includes(opts.command) || positional.length !== (needsName ? 2 : 1)) {
    throw new OperatorError(USAGE);
  }
  if (opts.remote && opts.persistTo) throw new OperatorError('--persist-to is for the local database, not --remote');
  if (opts.username !== undefined) opts.username = checkedText('username', opts.username, MAX_USERNAME);
  if (opts.name !== null) opts.name = checkedText('--name', opts.name, MAX_NAME);
  return opts;
}

/** `text`, NFC-normalised as the sign-in form normalises it, if it is one the form accepts. */
function checkedText(what, text, max) {
  const normal = text.normalize('NFC');
  if (!normal.trim() || normal !== normal.trim())
    throw new OperatorError(`${what} must not be empty or start or end with spaces`);
  if (normal.length > max) throw new OperatorError(`${what} is longer than ${max} characters`);
  if (CONTROL.test(normal)) throw new OperatorError(`${what} contains control characters`);
  return normal;
}

/** A SQL string literal (SQLite: a quote is doubled; nothing else is special). */
export const sqlString = (text) => `'${String(text).replaceAll("'", "''")}'`;

/** The Worker's own `hashPassword`, from its TypeScript source. */
async function workerHashPassword() {
  const esbuild = createRequire(path.join(ROOT, 'node_modules/wrangler/package.json'))('esbuild');
  const { outputFiles } = await esbuild.build({
    entryPoints: [path.join(ROOT, 'src/identity/passwords.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    logLevel: 'silent',
  });
  const source = Buffer.from(outputFiles[0].contents).toString('base64');
  return (await import(`data:text/javascript;base64,${source}`)).hashPassword;
}

/** Reads the new password: asked twice on a terminal (not echoed), else the first line of stdin. */
async function readPassword(username) {
  const tty = process.stdin.isTTY;
  const rl = createInterface({ input: process.stdin, output: tty ? process.stderr : undefined, terminal: tty });
  const lines = rl[Symbol.asyncIterator]();
  const ask = async (prompt) => {
    if (!tty) return (await lines.next()).value ?? '';
    process.stderr.write(prompt);
    // Echo nothing while the password is typed.
    const write = rl._writeToOutput;
    rl._writeToOutput = () => {};
    const { value = '' } = await lines.next();
    rl._writeToOutput = write;
    process.stderr.write('\n');
    return value;
  };
  try {
    const password = await ask(`Password for ${username}: `);
    if (tty && (await ask('The same again: ')) !== password) throw new OperatorError('the two passwords differ');
    if (!password) throw new OperatorError('no password given (type it, or pipe it on stdin)');
    if (password.length > MAX_PASSWORD)
      throw new OperatorError(`the password is longer than ${MAX_PASSWORD} characters`);
    return password;
  } finally {
    rl.close();
  }
}

/**
 * Runs `use(sql)` where `sql(statement)` answers a statement's rows: on the remote database
 * through `wrangler d1 execute --remote`, or on the local one in a Miniflare of its own, as
 * `npm start` opens it, after the migrations not yet applied (as `npm run dev` would).
 */
export async function withDatabase(opts, d1, use) {
  const hint = (error) =>
    /no such (column|table)/.test(error)
      ? `\nthe database lacks the migrations: ${opts.remote ? 'npm run provision' : 'npm run db:local'} applies them`
      : '';
  if (opts.remote) {
    const config = opts.configPath ? ['--config', opts.configPath] : [];
    return use((statement) => {
      const args = ['d1', 'execute', d1.binding, '--remote', ...config, '--json', '--command', statement];
      const result = wrangler(args, { capture: true });
      const answer = jsonOf(result.stdout || '{}', args);
      const error = answer?.error?.text ?? (result.ok ? null : result.stderr.trim() || 'wrangler d1 execute failed');
      if (error) throw new OperatorError(`${shown(args.slice(0, -1))} '…': ${error}${hint(error)}`);
      return answer.flatMap((a) => a.results ?? []);
    });
  }
  const [{ applyMigrations, withD1 }, { splitSql }] = [await import('./start.mjs'), await wranglerSql()];
  const persistRoot = path.resolve(opts.persistTo ?? path.join(ROOT, '.wrangler/state'), 'v3');
  return withD1(d1, persistRoot, async (db) => {
    await applyMigrations(db, splitSql, path.join(ROOT, d1.migrations_dir ?? 'migrations'));
    return use(async (statement) => {
      try {
        return (await db.prepare(statement).all()).results;
      } catch (err) {
        throw new OperatorError(`${err.message}${hint(err.message)}`);
      }
    });
  });
}

/** wrangler's SQL splitter (what `wrangler d1 migrations apply` uses). */
async function wranglerSql() {
  const wranglerPath = createRequire(path.join(ROOT, 'node_modules/wrangler/package.json')).resolve('wrangler');
  return { splitSql: (await import(pathToFileURL(wranglerPath).href)).unstable_splitSqlQuery };
}

/** Runs the command; `log` receives what a person reads (the password never). */
export async function accounts(opts, { log = console.log } = {}) {
  const configPath = opts.configPath ?? path.join(ROOT, 'wrangler.toml');
  // Remotely, the operator's own database (deploy.config.json's `d1`), as `npm run deploy` uses it.
  const { settings } = opts.remote ? deploySettings(configPath) : { settings: null };
  const d1 = { ...database(await readConfig(configPath)), ...settings?.d1 };
  const generated = settings ? await writeGeneratedConfig(configPath, settings) : null;
  try {
    return await run({ ...opts, configPath: generated ?? opts.configPath }, d1, log);
  } finally {
    if (generated) rmSync(generated, { force: true });
  }
}

async function run(opts, d1, log) {
  const place = opts.remote
    ? `the remote database "${d1.database_name}"`
    : `the local database (${shortPath(opts.persistTo ?? path.join(ROOT, '.wrangler/state'))})`;
  // Asked before the database is opened: a person may take their time typing.
  const secret = opts.command === 'add' ? await readPassword(opts.username) : null;

  return withDatabase(opts, d1, async (sql) => {
    if (opts.command === 'list') {
      const rows = await sql('SELECT username, display_name, created_at, disabled_at FROM users ORDER BY username');
      log(`${rows.length} account${rows.length === 1 ? '' : 's'} in ${place}`);
      for (const r of rows) {
        log(
          `${r.username}\t${r.display_name}\tmade ${r.created_at}${r.disabled_at ? `\tDISABLED ${r.disabled_at}` : ''}`,
        );
      }
      return rows;
    }

    if (opts.command === 'add') {
      const hash = await (await workerHashPassword())(secret);
      const id = `u_${randomUUID()}`;
      const rows = await sql(
        `INSERT INTO users (id, username, display_name, password_hash) VALUES (${sqlString(id)}, ${sqlString(opts.username)}, ${sqlString(opts.name ?? opts.username)}, ${sqlString(hash)}) ON CONFLICT(username) DO NOTHING RETURNING id`,
      );
      if (!rows.length) throw new OperatorError(`${place} already has an account named "${opts.username}"`);
      log(`added ${opts.username} (id ${id}) to ${place}`);
      return rows;
    }

    const disabling = opts.command === 'disable';
    // The audit log names the change first, only when there is one to make (the account exists and
    // is not already so): the operator's command line is who decided it.
    await sql(
      `INSERT INTO audit_events (id, at, kind, user_id, username, actor_id, actor_username, detail) SELECT ${sqlString(`evt_${randomBytes(16).toString('base64url')}`)}, ${sqlString(new Date().toISOString())}, ${sqlString(disabling ? 'account_disabled' : 'account_enabled')}, id, username, 'operator', 'npm run accounts', '{"via":"cli"}' FROM users WHERE username = ${sqlString(opts.username)} AND disabled_at IS ${disabling ? 'NULL' : 'NOT NULL'}`,
    );
    const rows = await sql(
      `UPDATE users SET disabled_at = ${disabling ? "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')" : 'NULL'} WHERE username = ${sqlString(opts.username)} RETURNING username`,
    );
    if (!rows.length) throw new OperatorError(`${place} has no account named "${opts.username}"`);
    log(
      disabling
        ? `disabled ${opts.username} in ${place}: it can no longer sign in, and the first refresh of any of its sessions ends all of them (an access token already issued lives out its last minutes, 15 by default; /admin ends them all at once)`
        : `enabled ${opts.username} in ${place}: it can sign in again`,
    );
    return rows;
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await accounts(parseArgs(process.argv.slice(2)));
  } catch (err) {
    if (!(err instanceof OperatorError)) throw err;
    console.error(`npm run accounts: ${err.message}`);
    process.exit(err.message === USAGE ? 2 : 1);
  }
}
