/**
 * @module
 * `LoginSession`: the Durable Object that owns one QR login. It is the only place
 * where the login's state lives and changes: it stores the record (so eviction or a restart
 * loses nothing), applies the transitions of `state.ts`, ends open logins with an alarm at
 * `expires_at`, empties its storage after the end, and tells the PCs that wait on it of each
 * change. A waiting PC is a WebSocket it accepted through the Hibernation API (`waiters.ts`),
 * held at the other end by the Worker (`long-poll.ts`): nothing of a waiter lives in its
 * memory, so it can be evicted while PCs wait, and the next scan, confirm, cancel or alarm
 * wakes it.
 *
 * Every `put`, `delete` and `setAlarm` is a billed row on Cloudflare, so it writes the least
 * the contract allows: the record on each change, the alarm at creation and at most once more
 * at the end, and one `deleteAll()` when the login is handed out or cleaned up.
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import { constantTimeEqual } from '../http/crypto';
import type { OidcLogin } from '../user/oidc-types';
import type { UserRef } from '../user/types';
import { type DevicePoll, newDeviceGrant, pollDevice } from './device-grant';
import { readStatusRequest, type StatusRequest, statusAnswer, waitingMs } from './long-poll';
import {
  cancel,
  confirm,
  expireIfDue,
  type GivenProofs,
  handOutOf,
  isOpen,
  type LoginRecord,
  newMatchCode,
  notedTyped,
  type Outcome,
  type PcView,
  type PhoneView,
  pcView,
  type Requester,
  type ScanContext,
  type Step,
  scan,
  userCodeAllowed,
  verifyProofs,
} from './state';
import { userCodeObject } from './user-code';
import { acceptWaiter, refuseWaiter, tellWaiters } from './waiters';

/** The record's storage key (named before logins were called logins; stored logins keep it). */
const RECORD_KEY = 'session';
/** How long an ended login stays readable (so the PC learns how it ended) before cleanup. */
export const CLEANUP_DELAY_MS = 30_000;
/** The contract's bound: storage is empty within this long of the login's end. */
const EMPTY_WITHIN_MS = 60_000;
/** A client that ignores the long-poll: more immediate status answers than this in the window may get 429. */
const IMMEDIATE_POLL_LIMIT = 30;
const IMMEDIATE_POLL_WINDOW_MS = 10_000;
/** A `wait` shorter than this is answered about as soon as `wait=0`: it counts as immediate too. */
const SHORT_WAIT_MS = 1000;

/** What the Worker passes when it creates a login. */
export interface CreateLogin {
  pollHash: string;
  ttlMs: number;
  requester: Requester;
  matchCode: boolean;
  userCode: string | null;
  /** Set when an OAuth device-flow client starts the session: the client it is issued to, and its scope. */
  device?: { clientId: string; clientName?: string | null; scope: string | null };
  /** Set when an OpenID Connect authorization request starts it: the client, and the request. */
  oidc?: OidcLogin;
  /** The DPoP key the creating request proved: the login is bound to it. */
  jkt?: string | null;
}

export class LoginSession extends DurableObject<Env> {
  /** The confirmed record just handed out, kept in memory in case the Worker cannot sign the PC in. */
  #delivered: LoginRecord | null = null;
  /** Times of recent immediate status answers, for the polling limit (a limit that "may" refuse: memory is enough). */
  #immediate: number[] = [];

  #read(): LoginRecord | null {
    return this.ctx.storage.kv.get<LoginRecord>(RECORD_KEY) ?? null;
  }

  /**
   * The record as it stands: an open login past `expires_at` reads as `expired`. That record
   * is never written (the stored one stays open until cleanup, and reads the same every time),
   * so expiry costs no row; the PCs that wait hear of it the first time it is seen.
   */
  #current(): LoginRecord | null {
    const rec = this.#read();
    const expired = rec && expireIfDue(rec, Date.now());
    if (!expired) return rec;
    tellWaiters(this.ctx, pcView(expired));
    return expired;
  }

  /**
   * Stores a change of state and tells every waiting PC, synchronously, so that no other request
   * runs between a decision and its write. While a login is open its alarm stays at
   * `expires_at` (set at creation); at the end it moves to the cleanup, unless it already rings
   * within the contract's minute of the end (the alarm then re-arms itself if it rings too early).
   */
  #commit(prev: LoginRecord, next: LoginRecord): Promise<void> | undefined {
    this.ctx.storage.kv.put(RECORD_KEY, next);
    tellWaiters(this.ctx, pcView(next));
    if (isOpen(next.status) || next.ended_at === null) return;
    if (isOpen(prev.status) && prev.expires_at <= next.ended_at + EMPTY_WITHIN_MS) return;
    return this.ctx.storage.setAlarm(next.ended_at + CLEANUP_DELAY_MS);
  }

  /**
   * Forgets the login: one `deleteAll()` takes the record, the alarm (compatibility date
   * 2026-02-24 on) and, on Cloudflare, the database's own metadata, which nothing else removes
   * and which would otherwise stay billed forever. Then the code to type, if there was one.
   */
  async #erase(rec: LoginRecord | null): Promise<void> {
    // Synchronous for what follows: from here on the login is gone, whatever else runs.
    const emptied = this.ctx.storage.deleteAll();
    tellWaiters(this.ctx, null);
    await emptied;
    if (rec?.user_code) await this.#forgetUserCode(rec.user_code);
  }

  async #forgetUserCode(code: string): Promise<void> {
    try {
      await userCodeObject(this.env, code).forget();
    } catch (err) {
      // The code object also ends by its own alarm; this is only the early goodbye.
      console.warn('could not forget a user code', err);
    }
  }

  async #apply<T>(step: (rec: LoginRecord, now: number) => Step<T>): Promise<Outcome<T>> {
    const rec = this.#current();
    const result = rec ? step(rec, Date.now()) : null;
    if (rec && result?.next) await this.#commit(rec, result.next);
    return result ? result.outcome : { ok: false, error: 'qrcode_expired' };
  }

  /** Starts the login. Called once, by the Worker, right after `newUniqueId()`. */
  async create(init: CreateLogin): Promise<PcView> {
    const now = Date.now();
    const matching = init.matchCode ? newMatchCode() : null;
    const rec: LoginRecord = {
      status: 'noscan',
      version: 0,
      created_at: now,
      expires_at: now + init.ttlMs,
      ended_at: null,
      poll_hash: init.pollHash,
      requester: init.requester,
      scanner: null,
      match_code: matching?.match_code ?? null,
      match_choices: matching?.match_choices ?? null,
      requires: matching ? ['match_code'] : [],
      user_code: init.userCode,
    };
    if (init.device) rec.device = newDeviceGrant(init.device.clientId, init.device.scope, init.device.clientName);
    if (init.oidc) rec.oidc = init.oidc;
    if (init.jkt) rec.jkt = init.jkt;
    this.ctx.storage.kv.put(RECORD_KEY, rec);
    await this.ctx.storage.setAlarm(rec.expires_at);
    return pcView(rec);
  }

  /**
   * The PC's status poll, as `long-poll.ts` sends it. Answers at once (JSON) when the session is
   * past `after` (or `after` is null), when the PC may not wait, or when a confirmed login waits
   * to be handed out; else accepts a WebSocket to wait on (at most four at once), on which the
   * next state is sent. The answer in `scan-confirm` carries `deliver` (the Worker signs the
   * token) and ends the login: every later one is 410.
   */
  override async fetch(request: Request): Promise<Response> {
    const ask = readStatusRequest(request);
    if (!ask) return new Response('Not found', { status: 404 });
    return this.#status(ask);
  }

  async #status(ask: StatusRequest): Promise<Response> {
    const rec = this.#current();
    if (!rec) return statusAnswer({ ok: false, error: 'qrcode_expired' });
    if (!constantTimeEqual(rec.poll_hash, ask.pollHash)) return statusAnswer({ ok: false, error: 'unauthorized' });
    // A bound login answers only a poll that proves its key: a copied poll token alone learns nothing.
    if (rec.jkt && rec.jkt !== ask.jkt) return statusAnswer({ ok: false, error: 'unauthorized', dpop: true });
    const news = ask.after === null || rec.version > ask.after;
    if (ask.counted && (news || ask.waitMs < SHORT_WAIT_MS)) {
      const limited = this.#countImmediate();
      if (limited) return statusAnswer(limited);
    }
    if (news || !ask.mayWait || ask.waitMs === 0 || rec.status === 'scan-confirm') {
      return statusAnswer({ ok: true, value: await this.#answer(rec) });
    }
    const now = Date.now();
    const full = this.env.RATE_LIMIT === 'off' ? null : refuseWaiter(this.ctx, now);
    if (full) return statusAnswer(full);
    const view = pcView(rec);
    return acceptWaiter(this.ctx, view, now + waitingMs(view, ask.waitMs, now));
  }

  /** The PC's view of `rec`; in `scan-confirm` it claims the login, and the login ends. */
  async #answer(rec: LoginRecord): Promise<PcView> {
    const view = pcView(rec);
    if (rec.status === 'scan-confirm' && rec.scanner) {
      // The token is handed out once: this answer claims it. The claim (emptying storage)
      // happens before the first await, so exactly one poll gets here.
      view.deliver = handOutOf({ ...rec, scanner: rec.scanner });
      this.#delivered = rec;
      await this.#erase(rec);
    }
    return view;
  }

  /** Messages on a waiter's socket: the Worker sends none, and anything that arrives is ignored. */
  override webSocketMessage(): void {}

  /**
   * The Worker could not finish the sign-in it was handed (D1 was down): put the confirmed
   * login back, so that the PC's retry gets its token instead of a lost login. Only the
   * claim that just happened can be undone, and only while nothing replaced it.
   */
  async undeliver(): Promise<boolean> {
    const rec = this.#delivered;
    this.#delivered = null;
    if (!rec || this.#read()) return false;
    this.ctx.storage.kv.put(RECORD_KEY, rec);
    await this.ctx.storage.setAlarm((rec.ended_at ?? Date.now()) + CLEANUP_DELAY_MS);
    return true;
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

  /**
   * The code to type already given to this login (`value: null` when none yet). Only the PC
   * (its poll token) may ask, and only before anyone scanned.
   */
  async userCode(pollHash: string): Promise<Outcome<string | null>> {
    const rec = this.#current();
    if (!rec) return { ok: false, error: 'qrcode_expired' };
    if (!constantTimeEqual(rec.poll_hash, pollHash)) return { ok: false, error: 'unauthorized' };
    return userCodeAllowed(rec);
  }

  /**
   * Gives the login the code the Worker just claimed for it, unless it got one in the meantime
   * (then that one is answered, and the Worker lets its own claim go). Not a change of state:
   * no new version, nobody told.
   */
  async attachUserCode(pollHash: string, code: string): Promise<Outcome<string>> {
    const rec = this.#current();
    if (!rec) return { ok: false, error: 'qrcode_expired' };
    if (!constantTimeEqual(rec.poll_hash, pollHash)) return { ok: false, error: 'unauthorized' };
    const allowed = userCodeAllowed(rec);
    if (!allowed.ok) return allowed;
    if (allowed.value) return { ok: true, value: allowed.value };
    this.ctx.storage.kv.put(RECORD_KEY, { ...rec, user_code: code });
    return { ok: true, value: code };
  }

  /** The phone scans: `noscan → scan-wait-confirm`; `context` fixes whether confirming will need a passkey. */
  scan(user: UserRef, context: ScanContext): Promise<Outcome<PhoneView>> {
    return this.#apply((rec, now) => scan(rec, user, now, context));
  }

  /**
   * The scanner confirms: `scan-wait-confirm → scan-confirm`, from the session `approver`
   * (null: a site's token), with the proofs `given` (each verified before the step).
   */
  confirm(user: UserRef, given: GivenProofs, approver: string | null): Promise<Outcome<PhoneView>> {
    return this.#apply((rec, now) => confirm(rec, user, verifyProofs(rec, given), now, approver));
  }

  /**
   * `userId` reached this login by typing its code (`/api/codes/resolve`): remembered until the
   * scan, for `CONFIRM_WITH=passkey-when-risky`. Not a change of state: no version, nobody told.
   */
  noteTyped(userId: string): void {
    const rec = this.#current();
    const next = rec && notedTyped(rec, userId);
    if (next) this.ctx.storage.kv.put(RECORD_KEY, next);
  }

  /** The scanner cancels: `scan-wait-confirm → scan-cancel`. */
  cancel(user: UserRef): Promise<Outcome<PhoneView>> {
    return this.#apply((rec, now) => cancel(rec, user, now));
  }

  /**
   * The device flow's token poll (RFC 8628), checked in the order of `pollDevice`. Success
   * claims the login like the PC's status poll does: storage is emptied before the first
   * await, so of two racing polls exactly one gets it. A poll while the login is pending
   * stores its time (for `slow_down`); no other poll writes anything.
   */
  async pollDeviceToken(secretHash: string, clientId: string, jkt: string | null = null): Promise<DevicePoll> {
    const rec = this.#current();
    const { next, outcome } = pollDevice(rec, secretHash, clientId, Date.now(), jkt);
    // Bookkeeping, not a change of state: no version, nobody told.
    if (next) this.ctx.storage.kv.put(RECORD_KEY, next);
    if (outcome.ok) {
      this.#delivered = rec;
      await this.#erase(rec);
    }
    return outcome;
  }

  /** Expiry at `expires_at`; cleanup after the end. Alarms may run late, never early. */
  override async alarm(): Promise<void> {
    // Reading the record tells the waiting PCs of an expiry.
    const rec = this.#current();
    if (!rec) return this.#erase(null);
    // Woken before expiry (only a test does this): keep the alarm where it belongs.
    if (isOpen(rec.status)) return this.ctx.storage.setAlarm(rec.expires_at);
    const cleanupAt = (rec.ended_at ?? 0) + CLEANUP_DELAY_MS;
    if (Date.now() >= cleanupAt) return this.#erase(rec);
    return this.ctx.storage.setAlarm(cleanupAt);
  }
}
