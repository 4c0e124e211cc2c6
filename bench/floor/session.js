/**
 * @module
 * `FloorSession`: one SQLite-backed Durable Object per login, with the least state keeping the
 * login needs. Each transition is one record write plus its alarm in the same turn (one
 * storage transaction), and the confirmed record is deleted as the token is handed out (so
 * exactly one poll gets it). The same record, transitions and answers as the app's
 * `LoginSession`, without number matching, cancel, the code to type or the polling limits,
 * which a whole login does not use.
 *
 * Two ways to hold the PC's wait: `status()` keeps it in the object, a promise woken on change
 * (the design before issue 18, `FLOOR_WAIT=held`); `fetch()` accepts a WebSocket through the
 * Hibernation API and keeps nothing of the waiter in memory, the Worker holding the wait and its
 * timer (the design since, `FLOOR_WAIT=socket`). Each change sends the new state on the sockets.
 */
import { DurableObject } from 'cloudflare:workers';

const KEY = 'session';
const CLEANUP_MS = 30_000;

/** @typedef {{ id: string, username: string, display_name: string }} User */
/**
 * @typedef {{ status: string, version: number, created_at: number, expires_at: number,
 *   ended_at: number | null, poll_hash: string, requester: Record<string, unknown>,
 *   scanner: User | null }} Rec
 */

/** @param {string} status */
const isOpen = (status) => status === 'noscan' || status === 'scan-wait-confirm';

/** @param {Rec} rec @param {string} status @param {Partial<Rec>} [patch] @returns {Rec} */
const advance = (rec, status, patch = {}) => ({
  ...rec,
  ...patch,
  status,
  version: rec.version + 1,
  ended_at: isOpen(status) ? null : Date.now(),
});

/** @param {Rec} rec */
const pcView = (rec) => ({
  status: rec.status,
  version: rec.version,
  expires_at: new Date(rec.expires_at).toISOString(),
  ...(rec.scanner ? { scanner: rec.scanner } : {}),
});

/** @param {Rec} rec @param {boolean} withRequester */
const phoneView = (rec, withRequester) => ({
  status: rec.status,
  version: rec.version,
  expires_at: new Date(rec.expires_at).toISOString(),
  ...(withRequester ? { requester: rec.requester } : {}),
});

const encoder = new TextEncoder();
/** Constant-time comparison, as the app compares poll-token hashes. @param {string} a @param {string} b */
function sameText(a, b) {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  return x.byteLength === y.byteLength && crypto.subtle.timingSafeEqual(x, y);
}

const GONE = { error: 'qrcode_expired', status: 410 };

export class FloorSession extends DurableObject {
  /** @type {Set<() => void>} */
  #waiters = new Set();

  /** @returns {Rec | null} */
  #read() {
    return this.ctx.storage.kv.get(KEY) ?? null;
  }

  /** The record and its alarm, written in one turn; every waiting poll wakes, every socket hears. @param {Rec} rec */
  #write(rec) {
    this.ctx.storage.kv.put(KEY, rec);
    const alarm = this.ctx.storage.setAlarm(isOpen(rec.status) ? rec.expires_at : (rec.ended_at ?? 0) + CLEANUP_MS);
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
    const message = JSON.stringify(pcView(rec));
    for (const socket of this.ctx.getWebSockets()) {
      try {
        socket.send(message);
        socket.close(1000, 'changed');
      } catch {}
    }
    return alarm;
  }

  /** The record, expired first when its time has come. */
  async #current() {
    const rec = this.#read();
    if (rec && isOpen(rec.status) && Date.now() >= rec.expires_at) {
      const expired = advance(rec, 'expired');
      await this.#write(expired);
      return expired;
    }
    return rec;
  }

  /** @param {{ pollHash: string, ttlMs: number, requester: Record<string, unknown> }} init */
  async create({ pollHash, ttlMs, requester }) {
    const now = Date.now();
    /** @type {Rec} */
    const rec = {
      status: 'noscan',
      version: 0,
      created_at: now,
      expires_at: now + ttlMs,
      ended_at: null,
      poll_hash: pollHash,
      requester,
      scanner: null,
    };
    await this.#write(rec);
    return pcView(rec);
  }

  /** The record a poll may read, or its error. @param {string} pollHash */
  async #polled(pollHash) {
    const rec = await this.#current();
    if (!rec) return { error: GONE };
    if (!sameText(rec.poll_hash, pollHash)) return { error: { error: 'unauthorized', status: 401 } };
    return { rec };
  }

  /**
   * The answer to a poll; in `scan-confirm` it carries `deliver`, and the record goes before the
   * first await, so exactly one poll gets it.
   * @param {Rec} rec
   */
  async #answer(rec) {
    if (rec.status !== 'scan-confirm' || !rec.scanner) return { view: pcView(rec) };
    this.ctx.storage.kv.delete(KEY);
    if (this.env.FLOOR_CONTRACT === 'on') {
      // The contract's empty storage: the record, the alarm and the object's database, in one call.
      await this.ctx.storage.deleteAll();
    } else {
      await this.ctx.storage.deleteAlarm();
    }
    return { view: pcView(rec), deliver: { user: rec.scanner, requester: rec.requester } };
  }

  /**
   * The PC's long-poll held here (`FLOOR_WAIT=held`): at once when the record is past `after`,
   * else when it changes, expires or `waitMs` passes.
   * @param {string} pollHash @param {number | null} after @param {number} waitMs
   */
  async status(pollHash, after, waitMs) {
    const polled = await this.#polled(pollHash);
    if (!polled.rec) return polled.error;
    let rec = polled.rec;
    if (after !== null && rec.version <= after) {
      const untilExpiry = isOpen(rec.status) ? rec.expires_at - Date.now() : waitMs;
      await new Promise((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#waiters.delete(wake);
          resolve(undefined);
        };
        const timer = setTimeout(wake, Math.max(0, Math.min(waitMs, untilExpiry)));
        this.#waiters.add(wake);
      });
      rec = await this.#current();
      if (!rec) return GONE;
    }
    return this.#answer(rec);
  }

  /**
   * The PC's long-poll held by the Worker (`FLOOR_WAIT=socket`): JSON at once when the record is
   * past `after` (or `wait` is 0, or the login waits to be handed out), else a hibernatable
   * socket on which the next state comes, and the state it waits from in `x-floor-state`.
   * @param {Request} request
   */
  async fetch(request) {
    const url = new URL(request.url);
    const after = url.searchParams.get('after');
    const waitMs = Number(url.searchParams.get('wait'));
    const polled = await this.#polled(request.headers.get('x-poll-hash') ?? '');
    if (!polled.rec) return Response.json(polled.error);
    const rec = polled.rec;
    const news = after === null || rec.version > Number(after);
    if (news || waitMs === 0 || rec.status === 'scan-confirm' || request.headers.get('upgrade') !== 'websocket') {
      return Response.json(await this.#answer(rec));
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    const state = encodeURIComponent(JSON.stringify(pcView(rec)));
    return new Response(null, { status: 101, webSocket: client, headers: { 'x-floor-state': state } });
  }

  /** The Worker sends nothing on its socket; anything that comes is ignored. */
  webSocketMessage() {}

  /** `noscan → scan-wait-confirm`. @param {User} user */
  async scan(user) {
    const rec = await this.#current();
    if (!rec) return GONE;
    if (rec.status === 'scan-wait-confirm' && rec.scanner?.id === user.id) return { view: phoneView(rec, true) };
    if (rec.status !== 'noscan') return { error: 'invalid_transition', status: 409 };
    const next = advance(rec, 'scan-wait-confirm', { scanner: user });
    await this.#write(next);
    return { view: phoneView(next, true) };
  }

  /** `scan-wait-confirm → scan-confirm`, by the scanner. @param {User} user */
  async confirm(user) {
    const rec = await this.#current();
    if (!rec) return GONE;
    if (rec.status !== 'scan-wait-confirm') return { error: 'invalid_transition', status: 409 };
    if (rec.scanner?.id !== user.id) return { error: 'forbidden', status: 403 };
    const next = advance(rec, 'scan-confirm');
    await this.#write(next);
    return { view: phoneView(next, false) };
  }

  /** Expiry at `expires_at`; the record goes 30 s after the end. */
  async alarm() {
    const rec = this.#read();
    if (!rec) return;
    if (isOpen(rec.status)) {
      await (Date.now() >= rec.expires_at
        ? this.#write(advance(rec, 'expired'))
        : this.ctx.storage.setAlarm(rec.expires_at));
      return;
    }
    const cleanupAt = (rec.ended_at ?? 0) + CLEANUP_MS;
    if (Date.now() >= cleanupAt) this.ctx.storage.kv.delete(KEY);
    else await this.ctx.storage.setAlarm(cleanupAt);
  }
}
