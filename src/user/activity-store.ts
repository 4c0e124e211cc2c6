/**
 * @module
 * A user's recent security events, as a table of that user's own object (`user-object.ts`): the
 * last `ACTIVITY_KEPT` (at most `ACTIVITY_DAYS` old) of what happened to the account, in the
 * words of `ActivityKind`. The object writes each event in the same synchronous step as the fact
 * it records (a session started or ended, a reused refresh token, a passkey added or removed),
 * then hands the same event, with the same id, to the operator's audit log (the `AUDIT` queue,
 * see `activity/`), which stores it once whatever the queue redelivers.
 *
 * Bounded and cheap: a row is the event as JSON beside its time and kind, keyed by SQLite's rowid
 * (no index to write); each insert forgets, in the same step, what falls past the cap or the age,
 * and refused attempts (which anyone who knows a username can cause) keep at most
 * `REFUSED_KEPT` rows, so that a stranger's guesses never push the user's own sign-ins out of
 * the list. The object's alarm forgets what ages out between writes (`forgetOld`). No token, no
 * secret, no password ever enters an event: who (the user, the admin who acted), when, how, and
 * where from (the device's User-Agent, the IP, the place), as the linked devices show them.
 */
import { randomToken } from '../http/crypto';
import type { EndedRow } from './session-store';
import type { SignInFrom } from './types';

/** The most events a user's object keeps. */
export const ACTIVITY_KEPT = 100;
/** How long a user's object keeps an event. */
export const ACTIVITY_DAYS = 90;
export const ACTIVITY_MS = ACTIVITY_DAYS * 86_400_000;
/** The most refused attempts kept among them (the oldest refused go first). */
export const REFUSED_KEPT = 50;
/**
 * The alarm forgets aged events at most this often: an event is never shown past `ACTIVITY_DAYS`
 * (reads filter by age), and is gone from storage within a day after.
 */
const PRUNE_GRANULARITY_MS = 86_400_000;

/**
 * What happened:
 * - `sign_in`: a session started (`detail.via`: how; `sid`, `device`, `ip`, `place`: where).
 * - `sign_in_refused`: a wrong password, a passkey that did not sign in, a disabled account
 *   (`detail.reason`); where the attempt came from.
 * - `step_up_refused`: a passkey that did not confirm a login (or an admin's step-up).
 * - `sign_out`: a session ended (`detail.by`: itself, another device, an admin, a reused
 *   refresh token, the account disabled, the cap of sessions, its approver signed out).
 * - `refresh_token_reused`: a refresh token sent again after its rotation (theft): where it came from.
 * - `passkey_added`, `passkey_removed` (`detail.name`).
 * - `account_disabled`, `account_enabled`: by an admin (`actor`).
 * - `admin_step_up`: an admin confirmed with a passkey to use `/admin`.
 * - `admin_search`, `admin_view`, `admin_audit`: what an admin looked at (the audit log only).
 */
export const ACTIVITY_KINDS = [
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
] as const;
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];

/** Kinds that a stranger can cause: kept at most `REFUSED_KEPT`. */
const REFUSED_KINDS: readonly ActivityKind[] = ['sign_in_refused', 'step_up_refused'];

/** Who an event is about, or who acted (an admin): as the audit log names them. */
export interface ActorRef {
  id: string;
  username: string;
}

/** Where a request or a session came from, as the linked devices show it. */
export interface ActivityPlace {
  /** The User-Agent (at most 512 characters). */
  device?: string;
  ip?: string;
  place?: string | null;
}

/** Where a request or a session came from, as an event names it. */
export type Where = ActivityPlace;

/** A sign-in's origin (`SignInFrom`) as an event's `device`, `ip` and `place`. */
export const whereFrom = (from: SignInFrom): Where => ({ device: from.user_agent, ip: from.ip, place: from.place });

/**
 * Why sessions ended, as their `sign_out` events say (`detail.by`): the session signed itself
 * out; another of the user's devices signed it out (`sid`: which); an admin did (`actor`); its
 * refresh token was reused; the account was disabled (by an admin: `actor`); the user's cap of
 * sessions made room; its approver was signed out (said of the sessions that end with it).
 */
export type SignOutCause =
  | { by: 'self' }
  | { by: 'device'; sid: string | null }
  | { by: 'admin'; actor: ActorRef }
  | { by: 'reuse' }
  | { by: 'disabled'; actor?: ActorRef }
  | { by: 'limit' };

/** An event before it has an id and a time: what the writer knows. */
export interface ActivityDraft extends ActivityPlace {
  kind: ActivityKind;
  actor?: ActorRef;
  sid?: string;
  detail?: Record<string, string | number | boolean | null>;
}

/**
 * One event, exactly as the audit log and `npm run audit -- --json` spell it: `{ id, at, kind,
 * user, actor?, sid?, device?, ip?, place?, detail? }` (members without a value are left out).
 */
export interface ActivityEvent {
  id: string;
  at: string;
  kind: ActivityKind;
  user: ActorRef;
  actor?: ActorRef;
  sid?: string;
  device?: string;
  ip?: string;
  place?: string;
  detail?: Record<string, string | number | boolean | null>;
}

/** One message of the `AUDIT` queue: events of one verb, in the order they happened. */
export interface AuditMessage {
  audit: ActivityEvent[];
}

/** A new event with its id (`evt_` and 16 random bytes) and time: the same in the object and the audit log. */
export function newEvent(user: ActorRef, draft: ActivityDraft, now = Date.now()): ActivityEvent {
  const event: ActivityEvent = {
    id: `evt_${randomToken(16)}`,
    at: new Date(now).toISOString(),
    kind: draft.kind,
    user: { id: user.id, username: user.username },
  };
  if (draft.actor) event.actor = { id: draft.actor.id, username: draft.actor.username };
  if (draft.sid) event.sid = draft.sid;
  if (draft.device) event.device = draft.device.slice(0, 512);
  if (draft.ip) event.ip = draft.ip.slice(0, 64);
  if (draft.place) event.place = draft.place.slice(0, 200);
  if (draft.detail && Object.keys(draft.detail).length > 0) event.detail = draft.detail;
  return event;
}

/** The most events in one message of the `AUDIT` queue (each under 2 KB: a message holds 128 KB). */
const EVENTS_PER_MESSAGE = 50;

/**
 * Queues `events` for the audit log, at most `EVENTS_PER_MESSAGE` a message, each send handed to
 * `later` (the object's `waitUntil`) so that nothing waits for it. A queue that is missing or fails
 * loses them from the audit log only (they stay in the user's object), and says so in the log.
 */
export function forwardToAudit(
  queue: Queue<AuditMessage> | undefined,
  events: ActivityEvent[],
  later: (work: Promise<unknown>) => void,
): void {
  if (!queue) {
    console.error(
      'audit: the AUDIT queue binding is missing (see wrangler.toml); events kept in the user object only.',
    );
    return;
  }
  for (let i = 0; i < events.length; i += EVENTS_PER_MESSAGE) {
    const message: AuditMessage = { audit: events.slice(i, i + EVENTS_PER_MESSAGE) };
    later(
      queue.send(message, { contentType: 'json' }).catch((err: unknown) => {
        console.error(
          `audit: events could not be queued and are missing from the audit log: ${JSON.stringify(message)}`,
          err,
        );
      }),
    );
  }
}

/**
 * Sessions just ended as sign-out events: `cause` for `root` (every one when no root is named,
 * with `byDevice`, the User-Agent of the device that signed it out), `approver` for those that
 * ended with it, the sessions it approved.
 */
export function signOutEvents(
  ended: EndedRow[],
  cause: SignOutCause,
  root?: string,
  byDevice?: string,
): ActivityDraft[] {
  return ended.map((session) => {
    const isRoot = root === undefined || session.sid === root;
    const detail: ActivityDraft['detail'] = { by: isRoot ? cause.by : 'approver' };
    if (isRoot && byDevice) detail.by_device = byDevice;
    const actor = 'actor' in cause && cause.actor ? { actor: cause.actor } : {};
    return {
      kind: 'sign_out',
      sid: session.sid,
      device: session.user_agent,
      ip: session.ip,
      place: session.place,
      ...actor,
      detail,
    };
  });
}

export const ACTIVITY_SCHEMA = `
  CREATE TABLE IF NOT EXISTS activity (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    event TEXT NOT NULL
  );
`;

export class ActivityStore {
  constructor(private readonly sql: () => SqlStorage) {}

  /**
   * Keeps `events` (of one verb, oldest first), forgetting in the same step what falls past
   * `ACTIVITY_KEPT`, `REFUSED_KEPT` or `ACTIVITY_DAYS`.
   */
  add(events: ActivityEvent[], now: number): void {
    const sql = this.sql();
    for (const event of events) {
      sql.exec(
        'INSERT INTO activity (at, kind, event) VALUES (?, ?, ?)',
        Date.parse(event.at),
        event.kind,
        JSON.stringify(event),
      );
    }
    if (events.some((e) => REFUSED_KINDS.includes(e.kind))) {
      const marks = REFUSED_KINDS.map(() => '?').join(', ');
      sql.exec(
        `DELETE FROM activity WHERE kind IN (${marks}) AND seq <=
           (SELECT seq FROM activity WHERE kind IN (${marks}) ORDER BY seq DESC LIMIT 1 OFFSET ?)`,
        ...REFUSED_KINDS,
        ...REFUSED_KINDS,
        REFUSED_KEPT,
      );
    }
    sql.exec(
      'DELETE FROM activity WHERE at <= ? OR seq <= (SELECT seq FROM activity ORDER BY seq DESC LIMIT 1 OFFSET ?)',
      now - ACTIVITY_MS,
      ACTIVITY_KEPT,
    );
  }

  /** The events of the last `ACTIVITY_DAYS`, newest first. */
  list(now: number): ActivityEvent[] {
    return this.sql()
      .exec<{ event: string }>('SELECT event FROM activity WHERE at > ? ORDER BY seq DESC', now - ACTIVITY_MS)
      .toArray()
      .map((row) => JSON.parse(row.event) as ActivityEvent);
  }

  /** Forgets events past `ACTIVITY_DAYS`; when the next one ages out (at most daily), or null when none is left. */
  forgetOld(now: number): number | null {
    const sql = this.sql();
    sql.exec('DELETE FROM activity WHERE at <= ?', now - ACTIVITY_MS);
    const oldest = sql.exec<{ at: number | null }>('SELECT MIN(at) AS at FROM activity').one().at;
    return oldest === null ? null : Math.max(oldest + ACTIVITY_MS, now + PRUNE_GRANULARITY_MS);
  }

  isEmpty(): boolean {
    return this.sql().exec('SELECT 1 FROM activity LIMIT 1').toArray().length === 0;
  }
}
