/**
 * @module
 * The QR login's state machine, as pure functions of a record and the clock.
 * The Durable Object (`login-session.ts`) stores the record and applies these steps; keeping
 * them pure keeps every transition of the diagram in one readable place:
 *
 *     noscan ──scan──▶ scan-wait-confirm ──confirm──▶ scan-confirm
 *                                       └──cancel───▶ scan-cancel
 *     noscan | scan-wait-confirm ──(expires_at)──▶ expired
 *
 * It is over 400 lines because the diagram's steps, the record they read and the views they
 * answer belong together: split, a transition would be read in one file and its record in another.
 */
import type { ErrorCode } from '../http/errors';
import { placesDiffer } from '../http/request-info';
import type { ConfirmWith } from '../passkeys/relying-party';
import type { OidcLogin } from '../user/oidc-types';
import type { UserRef } from '../user/types';

export type LoginStatus = 'noscan' | 'scan-wait-confirm' | 'scan-confirm' | 'scan-cancel' | 'expired';

export const STATUSES: readonly LoginStatus[] = [
  'noscan',
  'scan-wait-confirm',
  'scan-confirm',
  'scan-cancel',
  'expired',
];

/** Who asked for the QR code, shown on the phone before it confirms. */
export interface Requester {
  user_agent: string;
  ip: string;
  country: string | null;
  city: string | null;
  created_at: string;
}

/**
 * A session started by the OAuth device flow (RFC 8628): its client (id, and name as `OAUTH_CLIENTS`
 * registers it), and how often that client may poll the token endpoint (kept in storage).
 */
export interface DeviceGrant {
  client_id: string;
  client_name?: string;
  /** Seconds the client must leave between two token polls; each `slow_down` adds 5. */
  interval_s: number;
  /** When the client last polled, or null before its first poll (which may come at once). */
  last_poll_at: number | null;
  /** The scope the client asked for (`openid` brings an id_token). */
  scope?: string | null;
}

/** Everything the login's object stores. Times are epoch milliseconds. */
export interface LoginRecord {
  status: LoginStatus;
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
  /**
   * The proofs confirming needs beyond the scanner's tap (see `PROOFS`): the match code, set at
   * creation; a passkey, set by the scan that binds the scanner and fixed from then on. Absent
   * on a record of before this list (it then needs the match code when it has one).
   */
  requires?: ProofKind[];
  /** Why a passkey is required, for the phone to say. */
  step_up_reason?: StepUpReason | null;
  /** Users who reached this login by typing its code (`/api/codes/resolve`), before anyone scanned. */
  typed_by?: string[];
  /** More users typed the code than `typed_by` holds: whoever scans is taken to have typed it. */
  typed_by_more?: boolean;
  /** The code to type, once the PC asked for one (its lookup object is named after it). */
  user_code: string | null;
  /** Present on a session that an OAuth device-flow client started. */
  device?: DeviceGrant;
  /**
   * The DPoP key (JWK thumbprint) the login was created with (RFC 9449): its poll must prove
   * the same key, and what it hands out is bound to it. Absent: a bearer login.
   */
  jkt?: string;
  /**
   * Present on a login made for an OpenID Connect authorization request (`/api/authorize`): the
   * client, and the validated request the code will be bound to. The hand-out then gives the
   * browser a code and a cookie, never a token.
   */
  oidc?: OidcLogin;
  /** Why a `scan-cancel` ended: the phone's Cancel, or a wrong number pick. */
  cancel_reason?: CancelReason | null;
  /**
   * The session that confirmed (null for a site's own token): the login is handed out only
   * while it is alive.
   */
  approver?: string | null;
  /** @deprecated `approver` as a login stored by the last version names it (read, never written). */
  approver_sid?: string | null;
}

/** A confirmed login as the object hands it out, once: who signs in, from where, approved by whom. */
export interface HandOut {
  user: UserRef;
  requester: Requester;
  approver: string | null;
  /** The authorization request the login was made for, if any. */
  oidc?: OidcLogin;
  /** The phone typed the code instead of scanning the QR. */
  typed?: true;
  /** The DPoP key the login is bound to: the tokens handed out are bound to it too. */
  jkt?: string;
}

/** The hand-out of a confirmed record. */
export const handOutOf = (rec: LoginRecord & { scanner: UserRef }): HandOut => ({
  user: rec.scanner,
  requester: rec.requester,
  approver: rec.approver ?? rec.approver_sid ?? null,
  ...(rec.oidc ? { oidc: rec.oidc } : {}),
  ...(typedBy(rec, rec.scanner.id) ? { typed: true as const } : {}),
  ...(rec.jkt ? { jkt: rec.jkt } : {}),
});

export type CancelReason = 'cancelled' | 'match_failed';

// ---------------------------------------------------------------- proofs

/** What a proof that is missing or wrong answers, and whether a wrong one ends the login. */
interface ProofRule {
  missing: ErrorCode;
  wrong: ErrorCode;
  /** A wrong proof ends the login as `scan-cancel` for this reason; null: nothing changes, try again. */
  wrongEnds: CancelReason | null;
}

/**
 * The proofs a confirm may require beyond the scanner's tap, in the order they are judged, and
 * what each answers when it is missing or wrong. A wrong match code is a guess at the number on
 * the PC's screen: it ends the login. A wrong passkey may be a finger that slipped: nothing
 * changes, and the phone tries again until the code expires. A new kind of proof is one entry
 * here, the place that requires it, and its check in `verifyProofs` (or, for one the Worker
 * checks, in `login/proofs.ts`).
 */
export const PROOFS = {
  match_code: { missing: 'invalid_request', wrong: 'match_failed', wrongEnds: 'match_failed' },
  passkey: { missing: 'step_up_required', wrong: 'step_up_failed', wrongEnds: null },
} as const satisfies Record<string, ProofRule>;

export type ProofKind = keyof typeof PROOFS;

/** What the phone sent with its confirm: the number it picked, and the passkey the Worker verified for this QR. */
export interface GivenProofs {
  match_code?: string;
  /** Set only by the Worker, after `verifyStepUp` held for this QR and this user. */
  passkey?: { passkey: string };
}

/** Each proof's verdict, as `confirm` receives it: held (true), wrong (false), or not given (absent). */
export type Verdicts = Partial<Record<ProofKind, boolean>>;

/** The proofs `rec` requires, in the order of `PROOFS`. */
export function requiredProofs(rec: LoginRecord): ProofKind[] {
  const required = rec.requires ?? (rec.match_code !== null ? ['match_code'] : []);
  return (Object.keys(PROOFS) as ProofKind[]).filter((kind) => required.includes(kind));
}

/**
 * Verifies each proof given against the record, before the transition: the match code against
 * the one the PC shows; a passkey arrives verified (the Worker checked it against the challenge
 * bound to this QR, which this record cannot hold).
 */
export function verifyProofs(rec: LoginRecord, given: GivenProofs): Verdicts {
  const verdicts: Verdicts = {};
  if (given.match_code !== undefined) verdicts.match_code = given.match_code === rec.match_code;
  if (given.passkey !== undefined) verdicts.passkey = true;
  return verdicts;
}

/** Two random digits, `00` to `99`. */
function twoDigits(): string {
  return String(crypto.getRandomValues(new Uint32Array(1))[0]! % 100).padStart(2, '0');
}

/** Number matching for a new login: the code the PC shows, and three choices for the phone with it among them, in random order. */
export function newMatchCode(): { match_code: string; match_choices: string[] } {
  const code = twoDigits();
  const choices = new Set([code]);
  while (choices.size < 3) choices.add(twoDigits());
  const list = [...choices];
  for (let i = list.length - 1; i > 0; i--) {
    const j = crypto.getRandomValues(new Uint32Array(1))[0]! % (i + 1);
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return { match_code: code, match_choices: list };
}

/** Why a login asks for a passkey: always (`CONFIRM_WITH=passkey`), the location warning, or a typed code. */
export const STEP_UP_REASONS = ['always', 'location', 'typed'] as const;
export type StepUpReason = (typeof STEP_UP_REASONS)[number];

/** What the scan that binds the scanner needs to know to fix the step-up: the policy, and where the phone is. */
export interface ScanContext {
  confirm_with: ConfirmWith;
  phone: { ip: string; country: string | null };
}

/** Scanning without a step-up (`CONFIRM_WITH=tap`). */
export const TAP: ScanContext = { confirm_with: 'tap', phone: { ip: '', country: null } };

/** Whether `userId` reached `rec` by typing its code, or may have: everyone may once the list overflowed. */
const typedBy = (rec: LoginRecord, userId: string): boolean =>
  rec.typed_by?.includes(userId) === true || rec.typed_by_more === true;

/**
 * Whether `user`'s confirm of `rec` needs a passkey, and why: always with `passkey`; with
 * `passkey-when-risky` when the location warning shows (the phone and the requester are in
 * different countries or networks, as the phone is told) or when this user reached the login by
 * typing its code (recorded by the Worker, never taken from the phone's word).
 */
export function stepUpReason(rec: LoginRecord, user: UserRef, context: ScanContext): StepUpReason | null {
  if (context.confirm_with === 'passkey') return 'always';
  if (context.confirm_with !== 'passkey-when-risky') return null;
  if (placesDiffer(rec.requester, context.phone)) return 'location';
  if (typedBy(rec, user.id)) return 'typed';
  return null;
}

/** The most users a login remembers as having typed its code (each needed the code itself). */
const MAX_TYPED_BY = 8;

/**
 * `rec` noting that `userId` reached it by typing its code; null when there is nothing to note
 * (already noted, or someone has scanned: the step-up is fixed by then). Not a change of state.
 * A typist beyond the list's room is not forgotten: from then on every scanner counts as one.
 */
export function notedTyped(rec: LoginRecord, userId: string): LoginRecord | null {
  const typed = rec.typed_by ?? [];
  if (rec.status !== 'noscan' || typedBy(rec, userId)) return null;
  if (typed.length >= MAX_TYPED_BY) return { ...rec, typed_by_more: true };
  return { ...rec, typed_by: [...typed, userId] };
}

/** What a step answers: a value, or an API error code. */
export type Outcome<T> =
  | { ok: true; value: T }
  /** `dpop`: refused for want of a proof of the login's DPoP key (answered with `WWW-Authenticate: DPoP`). */
  | { ok: false; error: ErrorCode; retryAfter?: number; dpop?: boolean };

/** A step's result and, when the step changed the session, the record to store. */
export interface Step<T> {
  next: LoginRecord | null;
  outcome: Outcome<T>;
}

export const fail = <T>(error: ErrorCode): Step<T> => ({ next: null, outcome: { ok: false, error } });
const done = <T>(next: LoginRecord | null, value: T): Step<T> => ({ next, outcome: { ok: true, value } });

/** The states that still wait for someone; every other state is an end. */
export const isOpen = (s: LoginStatus): boolean => s === 'noscan' || s === 'scan-wait-confirm';

function advance(rec: LoginRecord, status: LoginStatus, now: number, patch: Partial<LoginRecord> = {}): LoginRecord {
  return {
    ...rec,
    ...patch,
    status,
    version: rec.version + 1,
    ended_at: isOpen(status) ? null : now,
  };
}

/**
 * Expiry, checked on every request and by the alarm: at `expires_at` an open login is `expired`.
 * It ended at `expires_at`, whenever this is asked, so the expired record is the same every time
 * and never needs to be written (`LoginSession` leaves the open record in storage until cleanup).
 */
export function expireIfDue(rec: LoginRecord, now: number): LoginRecord | null {
  return isOpen(rec.status) && now >= rec.expires_at ? advance(rec, 'expired', rec.expires_at) : null;
}

/** What `scan`, `confirm` and `cancel` answer on success. */
export interface PhoneView {
  status: LoginStatus;
  version: number;
  expires_at: string;
  requester?: Requester;
  match_choices?: string[];
  /** The OAuth client that started a device-flow login, or that an OpenID Connect login signs in to. */
  client_id?: string;
  /** The client's registered name: an OpenID Connect client's ("Sign in to <client_name>"), or a device-flow client's. */
  client_name?: string;
  /** The scanner reached the login by typing its code. */
  typed?: true;
  /** Confirming needs a passkey, for this reason (the Worker adds the request options). */
  step_up_reason?: StepUpReason;
}

function phoneView(rec: LoginRecord, withRequester: boolean): PhoneView {
  const view: PhoneView = {
    status: rec.status,
    version: rec.version,
    expires_at: new Date(rec.expires_at).toISOString(),
  };
  if (withRequester) {
    view.requester = rec.requester;
    if (rec.match_choices) view.match_choices = rec.match_choices;
    // The program that asks (a device-flow CLI or TV app, by its registered name if it has one),
    // or the OpenID Connect client signed in to: not only a User-Agent.
    const client = rec.oidc ?? rec.device;
    if (client) view.client_id = client.client_id;
    if (client?.client_name) view.client_name = client.client_name;
    if (rec.scanner && typedBy(rec, rec.scanner.id)) view.typed = true;
    if (requiredProofs(rec).includes('passkey')) view.step_up_reason = rec.step_up_reason ?? 'always';
  }
  return view;
}

/** A phone's step on a session that has already ended answers 410 when it expired, else 409. */
function refused<T>(rec: LoginRecord): Step<T> {
  return fail(rec.status === 'expired' ? 'qrcode_expired' : 'invalid_transition');
}

/**
 * `noscan → scan-wait-confirm`, binding the scanner and fixing what confirming will need (a
 * passkey, by `context`); repeating it as the scanner is harmless and changes neither.
 */
export function scan(rec: LoginRecord, user: UserRef, now: number, context: ScanContext = TAP): Step<PhoneView> {
  if (rec.status === 'noscan') {
    const reason = stepUpReason(rec, user, context);
    const stepUp = reason ? { requires: [...requiredProofs(rec), 'passkey' as const], step_up_reason: reason } : {};
    const next = advance(rec, 'scan-wait-confirm', now, { scanner: user, ...stepUp });
    return done(next, phoneView(next, true));
  }
  if (rec.status === 'scan-wait-confirm' && rec.scanner?.id === user.id) return done(null, phoneView(rec, true));
  return refused(rec);
}

/**
 * `scan-wait-confirm → scan-confirm`, only by the scanner, with every proof the record requires
 * already verified (`verifyProofs`). A missing proof is refused before any wrong one is judged,
 * so that a retry with everything finds the login as it was.
 */
export function confirm(
  rec: LoginRecord,
  user: UserRef,
  verdicts: Verdicts,
  now: number,
  approver: string | null = null,
): Step<PhoneView> {
  if (rec.status !== 'scan-wait-confirm') return refused(rec);
  if (rec.scanner?.id !== user.id) return fail('forbidden');
  const required = requiredProofs(rec);
  const missing = required.find((kind) => verdicts[kind] === undefined);
  if (missing) return fail(PROOFS[missing].missing);
  const wrong = required.find((kind) => verdicts[kind] === false);
  if (wrong) {
    const rule: ProofRule = PROOFS[wrong];
    if (!rule.wrongEnds) return fail(rule.wrong);
    const next = advance(rec, 'scan-cancel', now, { cancel_reason: rule.wrongEnds });
    return { next, outcome: { ok: false, error: rule.wrong } };
  }
  const next = advance(rec, 'scan-confirm', now, { approver });
  return done(next, phoneView(next, false));
}

/** `scan-wait-confirm → scan-cancel`, only by the scanner. */
export function cancel(rec: LoginRecord, user: UserRef, now: number): Step<PhoneView> {
  if (rec.status !== 'scan-wait-confirm') return refused(rec);
  if (rec.scanner?.id !== user.id) return fail('forbidden');
  const next = advance(rec, 'scan-cancel', now, { cancel_reason: 'cancelled' });
  return done(next, phoneView(next, false));
}

/** The PC asks for a code to type: only while nobody has scanned (an ended login is 410). */
export function userCodeAllowed(rec: LoginRecord): Outcome<string | null> {
  if (rec.status === 'noscan') return { ok: true, value: rec.user_code };
  return { ok: false, error: isOpen(rec.status) ? 'invalid_transition' : 'qrcode_expired' };
}

/** What the PC's status poll answers. `deliver` asks the Worker to sign the scanner in. */
export interface PcView {
  status: LoginStatus;
  version: number;
  expires_at: string;
  /** Until the token is delivered, the PC learns only who to expect by name. */
  scanner?: { display_name: string };
  match_code?: string;
  reason?: CancelReason;
  /** Set on the one answer that ends a confirmed session: who signs in, and from where. */
  deliver?: HandOut;
  /**
   * An OpenID Connect login that the phone cancelled: where its denial goes (the Worker turns it
   * into the answer's `redirect_to`, and strips this).
   */
  denied?: { redirect_uri: string; state: string | null };
  /** A login bound to a DPoP key: what it hands out is a `DPoP` token (RFC 9449). */
  token_type?: 'DPoP';
}

export function pcView(rec: LoginRecord): PcView {
  const view: PcView = { status: rec.status, version: rec.version, expires_at: new Date(rec.expires_at).toISOString() };
  if (rec.scanner) view.scanner = { display_name: rec.scanner.display_name };
  if (rec.match_code !== null && rec.status === 'scan-wait-confirm') view.match_code = rec.match_code;
  if (rec.status === 'scan-cancel') view.reason = rec.cancel_reason ?? 'cancelled';
  if (rec.jkt) view.token_type = 'DPoP';
  if (rec.oidc && view.reason === 'cancelled') {
    view.denied = { redirect_uri: rec.oidc.request.redirect_uri, state: rec.oidc.request.state };
  }
  return view;
}
