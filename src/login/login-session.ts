/**
 * @module
 * `LoginSession`: the Durable Object that owns one QR login session. It is the only place
 * where the session's state lives and changes: it stores the record (so eviction or a restart
 * loses nothing), applies the transitions of `state.ts`, ends open sessions with an alarm at
 * `expires_at`, empties its storage with a cleanup alarm after the end, and holds the PC's
 * waiting long-polls in memory, answering all of them the moment the state changes.
 */
import { DurableObject } from 'cloudflare:workers';
import { constantTimeEqual } from '../crypto';
import type { Env } from '../env';
import { type DevicePoll, newDeviceGrant, pollDevice } from './device-grant';
import {
  cancel,
  confirm,
  expireIfDue,
  handOutOf,
  isOpen,
  type Outcome,
  type PcView,
  type PhoneView,
  pcView,
  type Requester,
  type SessionRecord,
  type Step,
  scan,
  type UserRef,
  userCodeAllowed,
} from './state';

const RECORD_KEY = 'session';
/** How long an ended session stays readable (so the PC learns how it ended) before cleanup. */
export const CLEANUP_DELAY_MS = 30_000;
/** A client that ignores the long-poll: more immediate status answers than this in the window may get 429. */
const IMMEDIATE_POLL_LIMIT = 30;
const IMMEDIATE_POLL_WINDOW_MS = 10_000;
/** A `wait` shorter than this is answered about as soon as `wait=0`: it counts as immediate too. */
const SHORT_WAIT_MS = 1000;
/** Long-polls waiting on one QR at once; a fifth answers 429 (each holds a connection and memory). */
const MAX_WAITING_POLLS = 4;

/** What the Worker passes when it creates a session. */
export interface CreateSession {
  pollHash: string;
  ttlMs: number;
  requester: Requester;
  matchCode: boolean;
  userCode: string | null;
  /** Set when an OAuth device-flow client starts the session: the client it is issued to, and its scope. */
  device?: { clientId: string; scope: string | null };
}

export class LoginSession extends DurableObject<Env> {
  /** Waiting long-polls, with when each ends: woken by a change (or its timer), each reads the record again. */
  #waiters = new Map<() => void, number>();
  /** The confirmed record just handed out, kept in memory in case the Worker cannot sign the PC in. */
  #delivered: SessionRecord | null = null;
  /** Times of recent immediate status answers, for the polling limit. */
  #immediate: number[] = [];
  /** The alarm this instance last set; null when unknown (a fresh instance sets it again). */
  #alarm: number | null = null;

  #read(): SessionRecord | null {
    return this.ctx.storage.kv.get<SessionRecord>(RECORD_KEY) ?? null;
  }

  /**
   * Stores a changed record and wakes every waiting poll, synchronously, so that no other
   * request can run between a decision and its write. The returned promise (the alarm for
   * what the new state needs) is awaited by the caller once the decision is made.
   */
  #commit(rec: SessionRecord): Promise<void> {
    this.ctx.storage.kv.put(RECORD_KEY, rec);
    this.#wake();
    return this.#alarmAt(isOpen(rec.status) ? rec.expires_at : (rec.ended_at ?? Date.now()) + CLEANUP_DELAY_MS);
  }

  /** Sets the alarm, unless it is already there: every `setAlarm` is a billed row write. */
  #alarmAt(time: number): Promise<void> {
    if (this.#alarm === time) return Promise.resolve();
    this.#alarm = time;
    return this.ctx.storage.setAlarm(time);
  }

  #wake(): void {
    const waiters = [...this.#waiters.keys()];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Forgets the session: the record at once, then the alarm, the rest of storage and the code to type. */
  async #erase(): Promise<void> {
    const rec = this.#read();
    this.ctx.storage.kv.delete(RECORD_KEY);
    this.#wake();
    this.#alarm = null;
    // Both in the same turn, so they commit as one transaction.
    await Promise.all([this.ctx.storage.deleteAlarm(), this.ctx.storage.deleteAll()]);
    if (rec?.user_code) this.ctx.waitUntil(this.#forgetUserCode(rec.user_code));
  }

  async #forgetUserCode(code: string): Promise<void> {
    try {
      await this.env.USER_CODE.get(this.env.USER_CODE.idFromName(code)).forget();
    } catch (err) {
      // The code object also ends by its own alarm; this is only the early goodbye.
      console.warn('could not forget a user code', err);
    }
  }

  /** The current record with expiry applied (synchronously), or null when the session is gone. */
  #current(): { rec: SessionRecord | null; pending: Promise<void> | null } {
    const rec = this.#read();
    const expired = rec && expireIfDue(rec, Date.now());
    if (!expired) return { rec, pending: null };
    return { rec: expired, pending: this.#commit(expired) };
  }

  async #apply<T>(step: (rec: SessionRecord, now: number) => Step<T>): Promise<Outcome<T>> {
    const { rec, pending } = this.#current();
    const result = rec ? step(rec, Date.now()) : null;
    const written = result?.next ? this.#commit(result.next) : null;
    await pending;
    await written;
    return result ? result.outcome : { ok: false, error: 'qrcode_expired' };
  }

  /** Starts the session. Called once, by the Worker, right after `newUniqueId()`. */
  async create(init: CreateSession): Promise<PcView> {
    const now = Date.now();
    const code = init.matchCode ? twoDigits() : null;
    const rec: SessionRecord = {
      status: 'noscan',
      version: 0,
      created_at: now,
      expires_at: now + init.ttlMs,
      ended_at: null,
      poll_hash: init.pollHash,
      requester: init.requester,
      scanner: null,
      match_code: code,
      match_choices: code ? matchChoices(code) : null,
      user_code: init.userCode,
    };
    if (init.device) rec.device = newDeviceGrant(init.device.clientId, init.device.scope);
    this.ctx.storage.kv.put(RECORD_KEY, rec);
    await this.#alarmAt(rec.expires_at);
    return pcView(rec);
  }

  /**
   * The PC's long-poll. Answers at once when the session is past `after` (or `after` is null) or
   * `waitMs` is 0, else waits for a change, for expiry, or for `waitMs` (at most four at once).
   * The first answer in `scan-confirm` carries `deliver` (the Worker signs the token) and ends
   * the session: every later one is 410.
   */
  async status(pollHash: string, after: number | null, waitMs: number): Promise<Outcome<PcView>> {
    let { rec, pending } = this.#current();
    await pending;
    if (!rec) return { ok: false, error: 'qrcode_expired' };
    if (!constantTimeEqual(rec.poll_hash, pollHash)) return { ok: false, error: 'unauthorized' };
    const news = after === null || rec.version > after;
    if (news || waitMs < SHORT_WAIT_MS) {
      const limited = this.#countImmediate();
      if (limited) return limited;
    }
    if (!news && waitMs > 0) {
      const full = this.#refuseWaiting();
      if (full) return full;
      await this.#waitForChange(rec, waitMs);
      ({ rec, pending } = this.#current());
      if (!rec) return { ok: false, error: 'qrcode_expired' };
    }
    const view = pcView(rec);
    if (rec.status === 'scan-confirm' && rec.scanner) {
      // The token is handed out once: this answer claims it and ends the session. The claim
      // (deleting the record) happens before the first await, so exactly one poll gets here.
      view.deliver = handOutOf({ ...rec, scanner: rec.scanner });
      this.#delivered = rec;
      await this.#erase();
    }
    await pending;
    return { ok: true, value: view };
  }

  /**
   * The Worker could not finish the sign-in it was handed (D1 was down): put the confirmed
   * session back, so that the PC's retry gets its token instead of a lost login. Only the
   * claim that just happened can be undone, and only while nothing replaced it.
   */
  async undeliver(): Promise<boolean> {
    const rec = this.#delivered;
    this.#delivered = null;
    if (!rec || this.#read()) return false;
    await this.#commit(rec);
    return true;
  }

  #waitForChange(rec: SessionRecord, waitMs: number): Promise<void> {
    // Wake at expiry too: the session is `expired` at `expires_at` whatever the alarm does.
    const untilExpiry = isOpen(rec.status) ? rec.expires_at - Date.now() : Number.POSITIVE_INFINITY;
    const ms = Math.max(0, Math.min(waitMs, untilExpiry));
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#waiters.set(wake, Date.now() + ms);
    });
  }

  #countImmediate(): Outcome<PcView> | null {
    if (this.env.RATE_LIMIT === 'off') return null;
    const now = Date.now();
    this.#immediate = this.#immediate.filter((t) => t > now - IMMEDIATE_POLL_WINDOW_MS);
    if (this.#immediate.length >= IMMEDIATE_POLL_LIMIT) {
      const oldest = this.#immediate[0] ?? now;
      return {
        ok: false,
        error: 'rate_limited',
        retryAfter: Math.max(1, Math.ceil((oldest + IMMEDIATE_POLL_WINDOW_MS - now) / 1000)),
      };
    }
    this.#immediate.push(now);
    return null;
  }

  /** A fifth waiting long-poll is refused, and told when the first of the four will have ended. */
  #refuseWaiting(): Outcome<PcView> | null {
    if (this.env.RATE_LIMIT === 'off' || this.#waiters.size < MAX_WAITING_POLLS) return null;
    const soonest = Math.min(...this.#waiters.values());
    return { ok: false, error: 'rate_limited', retryAfter: Math.max(1, Math.ceil((soonest - Date.now()) / 1000)) };
  }

  /**
   * The code to type already given to this session (`value: null` when none yet). Only the PC
   * (its poll token) may ask, and only before anyone scanned.
   */
  async userCode(pollHash: string): Promise<Outcome<string | null>> {
    const { rec, pending } = this.#current();
    await pending;
    if (!rec) return { ok: false, error: 'qrcode_expired' };
    if (!constantTimeEqual(rec.poll_hash, pollHash)) return { ok: false, error: 'unauthorized' };
    return userCodeAllowed(rec);
  }

  /**
   * Gives the session the code the Worker just claimed for it, unless it got one in the meantime
   * (then that one is answered, and the Worker lets its own claim go). Not a change of state:
   * no new version, nobody woken.
   */
  async attachUserCode(pollHash: string, code: string): Promise<Outcome<string>> {
    const { rec, pending } = this.#current();
    await pending;
    if (!rec) return { ok: false, error: 'qrcode_expired' };
    if (!constantTimeEqual(rec.poll_hash, pollHash)) return { ok: false, error: 'unauthorized' };
    const allowed = userCodeAllowed(rec);
    if (!allowed.ok) return allowed;
    if (allowed.value) return { ok: true, value: allowed.value };
    this.ctx.storage.kv.put(RECORD_KEY, { ...rec, user_code: code });
    return { ok: true, value: code };
  }

  /** The phone scans: `noscan → scan-wait-confirm`. */
  scan(user: UserRef): Promise<Outcome<PhoneView>> {
    return this.#apply((rec, now) => scan(rec, user, now));
  }

  /** The scanner confirms: `scan-wait-confirm → scan-confirm`, from the session `approverSid` (null: a site's token). */
  confirm(user: UserRef, matchCode: string | undefined, approverSid: string | null): Promise<Outcome<PhoneView>> {
    return this.#apply((rec, now) => confirm(rec, user, matchCode, now, approverSid));
  }

  /** The scanner cancels: `scan-wait-confirm → scan-cancel`. */
  cancel(user: UserRef): Promise<Outcome<PhoneView>> {
    return this.#apply((rec, now) => cancel(rec, user, now));
  }

  /**
   * The device flow's token poll (RFC 8628), checked in the order of `pollDevice`. Success
   * claims the login like the PC's status poll does: the record is deleted before the first
   * await, so of two racing polls exactly one gets it. A poll while the login is pending
   * stores its time (for `slow_down`); no other poll writes anything.
   */
  async pollDeviceToken(secretHash: string, clientId: string): Promise<DevicePoll> {
    const { rec, pending } = this.#current();
    const { next, outcome } = pollDevice(rec, secretHash, clientId, Date.now());
    // Bookkeeping, not a change of state: no version, no wake-up of waiting long-polls.
    if (next) this.ctx.storage.kv.put(RECORD_KEY, next);
    let claimed: Promise<void> | null = null;
    if (outcome.ok) {
      this.#delivered = rec;
      claimed = this.#erase();
    }
    await pending;
    await claimed;
    return outcome;
  }

  /** Expiry at `expires_at`; cleanup after the end. Alarms may run late, never early. */
  override async alarm(): Promise<void> {
    // The alarm that woke us is spent.
    this.#alarm = null;
    const { rec, pending } = this.#current();
    await pending;
    if (!rec) return this.#erase();
    if (isOpen(rec.status)) {
      // Woken before expiry (only a test does this): keep the alarm where it belongs.
      return this.#alarmAt(rec.expires_at);
    }
    const cleanupAt = (rec.ended_at ?? 0) + CLEANUP_DELAY_MS;
    if (Date.now() >= cleanupAt) return this.#erase();
    return this.#alarmAt(cleanupAt);
  }
}

function twoDigits(): string {
  return String(crypto.getRandomValues(new Uint32Array(1))[0]! % 100).padStart(2, '0');
}

/** Three distinct two-digit choices, the right one among them, in random order. */
function matchChoices(code: string): string[] {
  const choices = new Set([code]);
  while (choices.size < 3) choices.add(twoDigits());
  const list = [...choices];
  for (let i = list.length - 1; i > 0; i--) {
    const j = crypto.getRandomValues(new Uint32Array(1))[0]! % (i + 1);
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}
