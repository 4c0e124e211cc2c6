/**
 * @module
 * The operator's audit log: the D1 table `audit_events` (migrations/0005). Written only by the
 * `AUDIT` queue's consumer (`audit-queue.ts`), in one batch per delivery, `INSERT OR IGNORE` by
 * the event's id so that a redelivered message changes nothing; kept `AUDIT_RETENTION_DAYS` by an
 * indexed delete of what is older, at most once an hour. Read by `/admin` and `npm run audit`:
 * newest first, filtered by user, kind and time, a page at a time by a cursor, every query on an
 * index (never a scan of the table on a request).
 */
import type { Env } from '../env';
import { UnavailableError } from '../http/errors';
import type { ActivityEvent, ActivityKind } from '../user';

export const DEFAULT_RETENTION_DAYS = 90;
/** Rows of one page of the log. */
export const AUDIT_PAGE = 50;

/** `AUDIT_RETENTION_DAYS` as a whole number of days (1 to 3650); anything else is the default, said in the log. */
export function retentionDays(env: Env): number {
  const raw = env.AUDIT_RETENTION_DAYS?.trim();
  if (!raw) return DEFAULT_RETENTION_DAYS;
  const days = Number(raw);
  if (Number.isInteger(days) && days >= 1 && days <= 3650) return days;
  console.warn(
    `AUDIT_RETENTION_DAYS is "${raw}": it must be a whole number of days from 1 to 3650; using ${DEFAULT_RETENTION_DAYS}.`,
  );
  return DEFAULT_RETENTION_DAYS;
}

const COLUMNS = 'id, at, kind, user_id, username, actor_id, actor_username, sid, device, ip, place, detail';

/** Stores `events` in one batch (one transaction); an event already stored is left as it is. */
export async function storeEvents(env: Env, events: ActivityEvent[]): Promise<void> {
  if (events.length === 0) return;
  const insert = env.DB.prepare(
    `INSERT OR IGNORE INTO audit_events (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  await env.DB.batch(
    events.map((e) =>
      insert.bind(
        e.id,
        e.at,
        e.kind,
        e.user.id,
        e.user.username,
        e.actor?.id ?? null,
        e.actor?.username ?? null,
        e.sid ?? null,
        e.device ?? null,
        e.ip ?? null,
        e.place ?? null,
        e.detail ? JSON.stringify(e.detail) : null,
      ),
    ),
  );
}

/** Deletes what is older than the retention, by the index on `at`; how many rows went. */
export async function pruneEvents(env: Env, now = Date.now()): Promise<number> {
  const before = new Date(now - retentionDays(env) * 86_400_000).toISOString();
  const result = await env.DB.prepare('DELETE FROM audit_events WHERE at < ?').bind(before).run();
  return result.meta.changes ?? 0;
}

/** What the log is asked for. */
export interface AuditFilter {
  /** A username (any case). */
  username?: string;
  kind?: ActivityKind;
  /** Only events at or after this time (ISO 8601). */
  since?: string;
  /** A page's cursor: only events older than the last one it showed. */
  cursor?: AuditCursor;
  limit?: number;
}

/** Where a page of the log ended: its last event's time and id. */
export interface AuditCursor {
  at: string;
  id: string;
}

interface AuditRow {
  id: string;
  at: string;
  kind: string;
  user_id: string;
  username: string;
  actor_id: string | null;
  actor_username: string | null;
  sid: string | null;
  device: string | null;
  ip: string | null;
  place: string | null;
  detail: string | null;
}

/** A row as the event it stores, spelled as the contract spells it (no empty members). */
export function eventOfRow(row: AuditRow): ActivityEvent {
  const event: ActivityEvent = {
    id: row.id,
    at: row.at,
    kind: row.kind as ActivityKind,
    user: { id: row.user_id, username: row.username },
  };
  if (row.actor_id !== null) event.actor = { id: row.actor_id, username: row.actor_username ?? '' };
  if (row.sid !== null) event.sid = row.sid;
  if (row.device !== null) event.device = row.device;
  if (row.ip !== null) event.ip = row.ip;
  if (row.place !== null) event.place = row.place;
  if (row.detail !== null) event.detail = JSON.parse(row.detail) as ActivityEvent['detail'];
  return event;
}

/** The cursor as text (`<at>~<id>`), for a query string. */
export const cursorText = (cursor: AuditCursor): string => `${cursor.at}~${cursor.id}`;

/** A cursor's text read back, or null when it is not one. */
export function readCursor(text: string): AuditCursor | null {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)~(evt_[A-Za-z0-9_-]{1,64})$/.exec(text);
  return match ? { at: match[1]!, id: match[2]! } : null;
}

/**
 * One page of the log, newest first, and the cursor of the next one (null: there is none). Each
 * filter rides an index: the user's (`username, at`), the kind's (`kind, at`) or the time's.
 */
export async function readEvents(
  env: Env,
  filter: AuditFilter,
): Promise<{ events: ActivityEvent[]; next: AuditCursor | null }> {
  const limit = filter.limit ?? AUDIT_PAGE;
  const where: string[] = [];
  const binds: (string | number)[] = [];
  if (filter.username !== undefined) {
    where.push('username = ?');
    binds.push(filter.username);
  }
  if (filter.kind !== undefined) {
    where.push('kind = ?');
    binds.push(filter.kind);
  }
  if (filter.since !== undefined) {
    where.push('at >= ?');
    binds.push(filter.since);
  }
  if (filter.cursor) {
    // A range on `at` (the index's), then the ties of the same millisecond by id.
    where.push('at <= ? AND (at < ? OR id < ?)');
    binds.push(filter.cursor.at, filter.cursor.at, filter.cursor.id);
  }
  const sql = `SELECT ${COLUMNS} FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY at DESC, id DESC LIMIT ?`;
  let rows: AuditRow[];
  try {
    ({ results: rows } = await env.DB.prepare(sql)
      .bind(...binds, limit + 1)
      .all<AuditRow>());
  } catch (err) {
    throw new UnavailableError(`D1: the audit log could not be read: ${err instanceof Error ? err.message : err}`);
  }
  const events = rows.slice(0, limit).map(eventOfRow);
  const last = events.at(-1);
  return { events, next: rows.length > limit && last ? { at: last.at, id: last.id } : null };
}
