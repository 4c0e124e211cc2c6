#!/usr/bin/env node
/**
 * `npm run audit -- [--user USERNAME] [--since WHEN] [--kind KIND] [--limit N] [--json]
 *   [--local | --remote] [--persist-to DIR] [--config FILE]`: the operator's audit log (the D1
 * table `audit_events`, written by the Worker's AUDIT queue consumer) in the local database that
 * `npm run dev` and `npm start` use (the default) or the deployed one (`--remote`, through
 * `wrangler d1 execute --json`), oldest first, the newest `--limit` (default 1000) events.
 *
 *   --user USERNAME   one account's events (any case)
 *   --since WHEN      an ISO date or time (2026-11-01, 2026-11-01T10:00:00Z) or a time ago: 30m, 12h, 7d
 *   --kind KIND       one kind of event (sign_in, sign_in_refused, sign_out, …)
 *   --json            one JSON object a line, as the contract spells an event:
 *                     { id, at, kind, user: { id, username }, actor?, sid?, device?, ip?, place?, detail? }
 *
 * Without `--json` each event is a line of tab-separated columns: when, who, what (and the admin
 * who did it), from where (IP and place), the device, the details. The count goes to stderr, so
 * stdout holds only the events. Who, when, from where: `npm run audit -- --user alice --since 7d`.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { sqlString, withDatabase } from './accounts.mjs';
import { database, readConfig } from './project-config.mjs';
import { OperatorError, ROOT, shortPath } from './run-wrangler.mjs';

const USAGE = `usage: npm run audit -- [--user USERNAME] [--since 2026-11-01 | 7d | 12h | 30m] [--kind KIND] [--limit N] [--json] [--local | --remote]
options: --persist-to DIR (the local storage, default .wrangler/state), --config FILE (default wrangler.toml)`;

const KINDS = [
  'sign_in',
  'sign_in_refused',
  'step_up_refused',
  'sign_out',
  'refresh_token_reused',
  'passkey_added',
  'passkey_removed',
  'account_disabled',
  'account_enabled',
  'admin_step_up',
  'admin_search',
  'admin_view',
  'admin_audit',
];
const MAX_LIMIT = 100_000;
const UNITS = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`'s value as an ISO time, or an `OperatorError` that says what it takes. */
export function sinceTime(value, now = Date.now()) {
  const ago = /^(\d{1,6})([mhd])$/.exec(value);
  if (ago) return new Date(now - Number(ago[1]) * UNITS[ago[2]]).toISOString();
  if (/^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d{1,3})?)?(Z|[+-]\d\d:\d\d)?)?$/.test(value)) {
    const time = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
    if (!Number.isNaN(time)) return new Date(time).toISOString();
  }
  throw new OperatorError(
    `--since takes an ISO date or time (2026-11-01, 2026-11-01T10:00:00Z) or a time ago (30m, 12h, 7d), not "${value}"`,
  );
}

/** The command line as options, or an `OperatorError`. */
export function parseArgs(argv, now = Date.now()) {
  const opts = {
    user: null,
    since: null,
    kind: null,
    limit: 1000,
    json: false,
    remote: false,
    persistTo: null,
    configPath: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new OperatorError(`${arg} needs a value\n${USAGE}`);
      return argv[++i];
    };
    if (arg === '--remote') opts.remote = true;
    else if (arg === '--local') opts.remote = false;
    else if (arg === '--json') opts.json = true;
    else if (arg === '--user') opts.user = value();
    else if (arg === '--since') opts.since = sinceTime(value(), now);
    else if (arg === '--kind') opts.kind = value();
    else if (arg === '--limit') opts.limit = Number(value());
    else if (arg === '--persist-to') opts.persistTo = path.resolve(value());
    else if (arg === '--config') opts.configPath = path.resolve(value());
    else throw new OperatorError(`${arg.startsWith('--') ? `unknown option ${arg}` : `unexpected "${arg}"`}\n${USAGE}`);
  }
  if (opts.user !== null && (!opts.user.trim() || opts.user.length > 64)) {
    throw new OperatorError('--user takes a username (1 to 64 characters)');
  }
  if (opts.kind !== null && !KINDS.includes(opts.kind)) {
    throw new OperatorError(`--kind takes one of: ${KINDS.join(', ')}`);
  }
  if (!Number.isInteger(opts.limit) || opts.limit < 1 || opts.limit > MAX_LIMIT) {
    throw new OperatorError(`--limit takes a whole number from 1 to ${MAX_LIMIT}`);
  }
  if (opts.remote && opts.persistTo) throw new OperatorError('--persist-to is for the local database, not --remote');
  return opts;
}

/** The query for these options: literals only (the remote database takes one statement as text). */
export function auditQuery(opts) {
  const where = [];
  if (opts.user !== null) where.push(`username = ${sqlString(opts.user)}`);
  if (opts.kind !== null) where.push(`kind = ${sqlString(opts.kind)}`);
  if (opts.since !== null) where.push(`at >= ${sqlString(opts.since)}`);
  return `SELECT id, at, kind, user_id, username, actor_id, actor_username, sid, device, ip, place, detail FROM audit_events${
    where.length ? ` WHERE ${where.join(' AND ')}` : ''
  } ORDER BY at DESC, id DESC LIMIT ${opts.limit}`;
}

/** A row as the contract spells an event (members without a value left out). */
export function eventOf(row) {
  const event = { id: row.id, at: row.at, kind: row.kind, user: { id: row.user_id, username: row.username } };
  if (row.actor_id != null) event.actor = { id: row.actor_id, username: row.actor_username ?? '' };
  for (const key of ['sid', 'device', 'ip', 'place']) if (row[key] != null) event[key] = row[key];
  if (row.detail != null) event.detail = JSON.parse(row.detail);
  return event;
}

/** One event as a line a person reads: when, who, what (by whom), from where, the device, the details. */
export function eventLine(e) {
  const what = e.actor ? `${e.kind} by ${e.actor.username}` : e.kind;
  const where = [e.ip, e.place ? `(${e.place})` : null].filter(Boolean).join(' ') || '-';
  const details = Object.entries({ ...(e.sid ? { sid: e.sid } : {}), ...(e.detail ?? {}) })
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return [e.at, e.user.username, what, where, e.device ?? '-', details || '-'].join('\t');
}

/** Runs the command; `out` receives the events' lines, `note` what a person reads besides. */
export async function audit(opts, { out = console.log, note = console.error } = {}) {
  const d1 = database(await readConfig(opts.configPath ?? path.join(ROOT, 'wrangler.toml')));
  const place = opts.remote
    ? `the remote database "${d1.database_name}"`
    : `the local database (${shortPath(opts.persistTo ?? path.join(ROOT, '.wrangler/state'))})`;
  return withDatabase(opts, d1, async (sql) => {
    const events = (await sql(auditQuery(opts))).map(eventOf).reverse();
    const filters = [
      opts.user && `user ${opts.user}`,
      opts.kind && `kind ${opts.kind}`,
      opts.since && `since ${opts.since}`,
    ]
      .filter(Boolean)
      .join(', ');
    const capped = events.length === opts.limit ? ` (the newest ${opts.limit}: --limit shows more)` : '';
    note(
      `${events.length} event${events.length === 1 ? '' : 's'} in ${place}${filters ? ` (${filters})` : ''}, oldest first${capped}`,
    );
    for (const e of events) out(opts.json ? JSON.stringify(e) : eventLine(e));
    return events;
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await audit(parseArgs(process.argv.slice(2)));
  } catch (err) {
    if (!(err instanceof OperatorError)) throw err;
    console.error(`npm run audit: ${err.message}`);
    process.exit(err.message.includes(USAGE) ? 2 : 1);
  }
}
