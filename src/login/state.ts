/**
 * @module
 * The QR login session's state machine, as pure functions of a record and the clock.
 * The Durable Object (`login-session.ts`) stores the record and applies these steps; keeping
 * them pure keeps every transition of the diagram in one readable place:
 *
 *     noscan ──scan──▶ scan-wait-confirm ──confirm──▶ scan-confirm
 *                                       └──cancel───▶ scan-cancel
 *     noscan | scan-wait-confirm ──(expires_at)──▶ expired
 */
import type { ErrorCode } from '../errors';

export type SessionStatus = 'noscan' | 'scan-wait-confirm' | 'scan-confirm' | 'scan-cancel' | 'expired';

export const STATUSES: readonly SessionStatus[] = [
  'noscan',
  'scan-wait-confirm',
  'scan-confirm',
  'scan-cancel',
  'expired',
];

/** A signed-in user as the session shows them. */
export interface UserRef {
  id: string;
  username: string;
  display_name: string;
}

/** Who asked for the QR code, shown on the phone before it confirms. */
export interface Requester {
  user_agent: string;
  ip: string;
  country: string | null;
  city: string | null;
  created_at: string;
}

/**
 * A session started by the OAuth device flow (RFC 8628): which client it was issued to, and
 * how often that client may poll the token endpoint (kept in storage, so eviction forgets nothing).
 */
export interface DeviceGrant {
  client_id: string;
  /** Seconds the client must leave between two token polls; each `slow_down` adds 5. */
  interval_s: number;
  /** When the client last polled, or null before its first poll (which may come at once). */
  last_poll_at: number | null;
  /** The scope the client asked for (`openid` brings an id_token). */
  scope?: string | null;
}

/** Everything the session object stores. Times are epoch milliseconds. */
export interface SessionRecord {
  status: SessionStatus;
  version: number;
  created_at: number;
  expires_at: number;
  /** When the session reached an end state (cleanup runs a grace period later). */
  ended_at: number | null;
  /** SHA-256 (hex) of the PC's poll token; the token itself is never stored. */
  poll_hash: string;
  requester: Requester;
  scanner: UserRef | null;
  /** Number matching: the two digits the PC shows and the three the phone offers. */
  match_code: string | null;
  match_choices: string[] | null;
  /** The code to type, once the PC asked for one (its lookup object is named after it). */
  user_code: string | null;
  /** Present on a session that an OAuth device-flow client started. */
  device?: DeviceGrant;
  /** Why a `scan-cancel` ended: the phone's Cancel, or a wrong number pick. */
  cancel_reason?: CancelReason | null;
  /**
   * The session that confirmed (null for a site's own token): the login is handed out only
   * while it is alive.
   */
  approver_sid?: string | null;
}

/** A confirmed login as the object hands it out, once: who signs in, from where, approved by whom. */
export interface HandOut {
  user: UserRef;
  requester: Requester;
  approver: string | null;
}

/** The hand-out of a confirmed record. */
export const handOutOf = (rec: SessionRecord & { scanner: UserRef }): HandOut => ({
  user: rec.scanner,
  requester: rec.requester,
  approver: rec.approver_sid ?? null,
});

export type CancelReason = 'cancelled' | 'match_failed';

/** What a step answers: a value, or an API error code. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ErrorCode; retryAfter?: number };

/** A step's result and, when the step changed the session, the record to store. */
export interface Step<T> {
  next: SessionRecord | null;
  outcome: Outcome<T>;
}

export const fail = <T>(error: ErrorCode): Step<T> => ({ next: null, outcome: { ok: false, error } });
const done = <T>(next: SessionRecord | null, value: T): Step<T> => ({ next, outcome: { ok: true, value } });

/** The states that still wait for someone; every other state is an end. */
export const isOpen = (s: SessionStatus): boolean => s === 'noscan' || s === 'scan-wait-confirm';

function advance(
  rec: SessionRecord,
  status: SessionStatus,
  now: number,
  patch: Partial<SessionRecord> = {},
): SessionRecord {
  return {
    ...rec,
    ...patch,
    status,
    version: rec.version + 1,
    ended_at: isOpen(status) ? null : now,
  };
}

/**
 * Expiry, checked on every request and by the alarm: at `expires_at` an open session is `expired`.
 * It ended at `expires_at`, whenever this is asked, so the expired record is the same every time
 * and never needs to be written (`LoginSession` leaves the open record in storage until cleanup).
 */
export function expireIfDue(rec: SessionRecord, now: number): SessionRecord | null {
  return isOpen(rec.status) && now >= rec.expires_at ? advance(rec, 'expired', rec.expires_at) : null;
}

/** What `scan`, `confirm` and `cancel` answer on success. */
export interface PhoneView {
  status: SessionStatus;
  version: number;
  expires_at: string;
  requester?: Requester;
  match_choices?: string[];
  /** The OAuth client that started a device-flow session. */
  client_id?: string;
}

function phoneView(rec: SessionRecord, withRequester: boolean): PhoneView {
  const view: PhoneView = {
    status: rec.status,
    version: rec.version,
    expires_at: new Date(rec.expires_at).toISOString(),
  };
  if (withRequester) {
    view.requester = rec.requester;
    if (rec.match_choices) view.match_choices = rec.match_choices;
    // A device-flow session names the program that asks (a CLI, a TV app), not only its User-Agent.
    if (rec.device) view.client_id = rec.device.client_id;
  }
  return view;
}

/** A phone's step on a session that has already ended answers 410 when it expired, else 409. */
function refused<T>(rec: SessionRecord): Step<T> {
  return fail(rec.status === 'expired' ? 'qrcode_expired' : 'invalid_transition');
}

/** `noscan → scan-wait-confirm`, binding the scanner; repeating it as the scanner is harmless. */
export function scan(rec: SessionRecord, user: UserRef, now: number): Step<PhoneView> {
  if (rec.status === 'noscan') {
    const next = advance(rec, 'scan-wait-confirm', now, { scanner: user });
    return done(next, phoneView(next, true));
  }
  if (rec.status === 'scan-wait-confirm' && rec.scanner?.id === user.id) return done(null, phoneView(rec, true));
  return refused(rec);
}

/** `scan-wait-confirm → scan-confirm`, only by the scanner, with the right match code when asked. */
export function confirm(
  rec: SessionRecord,
  user: UserRef,
  matchCode: string | undefined,
  now: number,
  approverSid: string | null = null,
): Step<PhoneView> {
  if (rec.status !== 'scan-wait-confirm') return refused(rec);
  if (rec.scanner?.id !== user.id) return fail('forbidden');
  if (rec.match_code !== null) {
    if (matchCode === undefined) return fail('invalid_request');
    if (matchCode !== rec.match_code) {
      const next = advance(rec, 'scan-cancel', now, { cancel_reason: 'match_failed' });
      return { next, outcome: { ok: false, error: 'match_failed' } };
    }
  }
  const next = advance(rec, 'scan-confirm', now, { approver_sid: approverSid });
  return done(next, phoneView(next, false));
}

/** `scan-wait-confirm → scan-cancel`, only by the scanner. */
export function cancel(rec: SessionRecord, user: UserRef, now: number): Step<PhoneView> {
  if (rec.status !== 'scan-wait-confirm') return refused(rec);
  if (rec.scanner?.id !== user.id) return fail('forbidden');
  const next = advance(rec, 'scan-cancel', now, { cancel_reason: 'cancelled' });
  return done(next, phoneView(next, false));
}

/** The PC asks for a code to type: only while nobody has scanned (an ended session is 410). */
export function userCodeAllowed(rec: SessionRecord): Outcome<string | null> {
  if (rec.status === 'noscan') return { ok: true, value: rec.user_code };
  return { ok: false, error: isOpen(rec.status) ? 'invalid_transition' : 'qrcode_expired' };
}

/** What the PC's status poll answers. `deliver` asks the Worker to sign the scanner in. */
export interface PcView {
  status: SessionStatus;
  version: number;
  expires_at: string;
  /** Until the token is delivered, the PC learns only who to expect by name. */
  scanner?: { display_name: string };
  match_code?: string;
  reason?: CancelReason;
  /** Set on the one answer that ends a confirmed session: who signs in, and from where. */
  deliver?: HandOut;
}

export function pcView(rec: SessionRecord): PcView {
  const view: PcView = { status: rec.status, version: rec.version, expires_at: new Date(rec.expires_at).toISOString() };
  if (rec.scanner) view.scanner = { display_name: rec.scanner.display_name };
  if (rec.match_code !== null && rec.status === 'scan-wait-confirm') view.match_code = rec.match_code;
  if (rec.status === 'scan-cancel') view.reason = rec.cancel_reason ?? 'cancelled';
  return view;
}
