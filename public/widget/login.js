/**
 * @module
 * The PC's side of a login, with no screen of its own. A QR login: it asks the Worker for a code,
 * long-polls the code's status (the server answers the moment something changes; nothing polls
 * on a timer), rides out lost connections with the PC's back-off, and tells the element what
 * happened, one step at a time. A page whose origin the Worker does not allow is told so, not
 * retried forever: a browser shows a CORS refusal to a script exactly like a network failure.
 */
import { call, isAbort } from '../kit/api.js';
import { persist } from '../kit/backoff.js';
import { ceremonyProblem, usePasskey } from '../kit/passkey.js';

const POLL_WAIT_S = 25;
/** A long-poll that has not answered well after `wait` went through a dead connection. */
const POLL_TIMEOUT_MS = (POLL_WAIT_S + 15) * 1000;

/**
 * The PC's back-off: at most 5 s between tries, so that a server that comes back is noticed
 * within 5 s (issue 12), and any 5xx is taken for "not now".
 * @type {import('../kit/backoff.js').RetryPolicy}
 */
export const PC_RETRY = { maxSeconds: 5, transient: (status) => status >= 500 };

/**
 * @typedef {object} NewQr the answer of `POST /api/qrcodes`
 * @property {string} qrcode_id
 * @property {string} poll_token
 * @property {string} scan_url
 * @property {string} img
 * @property {string} status
 * @property {number} version
 * @property {string} expires_at
 * @property {string} [user_code] from a Worker of before codes on demand
 * @property {string} [verification_url]
 */

/** @typedef {{ id?: string, username?: string, display_name?: string }} User */

/**
 * @typedef {object} Status an answer of `GET /api/qrcodes/:id/status`
 * @property {string} status
 * @property {number} version
 * @property {User} [scanner]
 * @property {string} [match_code]
 * @property {string} [reason]
 * @property {string} [token]
 * @property {string} [redirect_to] a login of the authorize page: where the browser goes now
 * @property {string} [refresh_token]
 * @property {number} [expires_in]
 * @property {'DPoP'} [token_type] a login bound to this browser's DPoP key
 * @property {User} [user]
 */

/** @typedef {'expired' | 'cancelled' | 'matchFailed' | 'failed' | 'rateLimited' | 'origin'} EndReason */

/**
 * Why a login of the authorize page sends the browser back to its client: the phone confirmed
 * (a code), the phone cancelled (`access_denied`), or the request is too old for a new code.
 * @typedef {'confirmed' | 'cancelled' | 'denied'} LeaveReason
 */

/**
 * Where a login's codes come from, when not from `POST /api/qrcodes`: an answer whose body is a
 * new code (`NewQr`), or `{ redirect_to }` when there is none to show any more.
 * @callback StartQr
 * @param {AbortSignal} signal
 * @returns {Promise<import('../kit/api.js').Answer>}
 */

/**
 * What happened: a new code to show, a change of its status, the login, or the end (the status
 * that ended it, if one did; the seconds to wait after a 429; this page's origin, if refused).
 * @typedef {{ kind: 'code', qr: NewQr }
 *   | { kind: 'status', status: Status }
 *   | { kind: 'login', status: Status }
 *   | { kind: 'leave', why: LeaveReason, to: string, status?: Status }
 *   | { kind: 'end', why: EndReason, status?: { status: string, version: number }, retryAfter?: number, origin?: string }} Step
 */

/** The Worker refuses this page's origin. */
class OriginRefused extends Error {
  /** @param {string} origin */
  constructor(origin) {
    super(`${origin} is not in ALLOWED_ORIGINS`);
    this.origin = origin;
  }
}

/** Servers that said this page's origin may call them: they are not asked again. */
const allowing = new Set();

/**
 * `call`, and when it fails like a lost connection on a server of another origin, asks that
 * server whether it allows this page at all (`GET /api/origin-check`, readable from any origin).
 * @param {string} server
 * @param {string} path
 * @param {import('../kit/api.js').CallOptions} options
 */
async function callFromHere(server, path, options) {
  try {
    return await call(path, { ...options, server });
  } catch (err) {
    if (!(err instanceof TypeError) || server === location.origin || allowing.has(server)) throw err;
    // A failure here is a lost connection too (thrown: tried again).
    const check = await call('/api/origin-check', { server, signal: options.signal });
    if (check.ok && check.body?.allowed === false) throw new OriginRefused(check.body.origin ?? location.origin);
    if (check.ok) allowing.add(server);
    throw err;
  }
}

/**
 * A QR login with `server`, as the steps it goes through, until it ends or `signal` aborts.
 * `hooks` show a lost connection (see `persist`); `start`, where the code comes from. With `dpop`,
 * the login is made with a proof of this browser's DPoP key and polled with one (RFC 9449): its
 * poll token alone collects nothing, and its token is bound to the key.
 * @param {string} server
 * @param {AbortSignal} signal
 * @param {Omit<import('../kit/backoff.js').RetryHooks, 'alive'>} hooks
 * @param {StartQr} [start]
 * @param {boolean} [dpop]
 * @returns {AsyncGenerator<Step, void>}
 */
export async function* qrLogin(server, signal, hooks, start, dpop = false) {
  const alive = () => !signal.aborted;
  /**
   * Calls the Worker until it answers; `retryPath` for the tries after the first (a long-poll
   * retries as an immediate answer, so that a server that is back is seen at once).
   * @param {string} path
   * @param {import('../kit/api.js').CallOptions} options
   */
  const ask = (path, options, retryPath = path) =>
    persist((attempt) => callFromHere(server, attempt ? retryPath : path, { ...options, signal }), PC_RETRY, {
      ...hooks,
      alive,
    });
  try {
    const created = start
      ? await persist(() => start(signal), PC_RETRY, { ...hooks, alive })
      : await ask('/api/qrcodes', { method: 'POST', dpop });
    if (!created) return;
    if (created.ok && typeof created.body?.redirect_to === 'string') {
      yield { kind: 'leave', why: 'denied', to: created.body.redirect_to };
      return;
    }
    if (!created.ok) {
      yield {
        kind: 'end',
        why: created.status === 429 ? 'rateLimited' : 'failed',
        retryAfter: created.retryAfter || 60,
      };
      return;
    }
    /** @type {NewQr} */
    const qr = created.body;
    yield { kind: 'code', qr };
    let version = qr.version;
    for (;;) {
      const status = `/api/qrcodes/${qr.qrcode_id}/status?after=${version}`;
      const res = await ask(
        `${status}&wait=${POLL_WAIT_S}`,
        { pollToken: qr.poll_token, timeoutMs: POLL_TIMEOUT_MS, dpop },
        `${status}&wait=0`,
      );
      if (!res) return;
      if (res.status === 429) {
        await new Promise((resolve) => setTimeout(resolve, (res.retryAfter || 1) * 1000));
        if (!alive()) return;
        continue;
      }
      // 410: the session is gone (expired and cleaned up, or its token already collected).
      if (res.status === 410) {
        yield { kind: 'end', why: 'expired', status: { status: 'expired', version } };
        return;
      }
      if (!res.ok || !res.body) {
        yield { kind: 'end', why: 'failed' };
        return;
      }
      /** @type {Status} */
      const s = res.body;
      // The authorize page's login ends at its client: with a code, or with access_denied.
      if (typeof s.redirect_to === 'string') {
        yield {
          kind: 'leave',
          why: s.status === 'scan-confirm' ? 'confirmed' : 'cancelled',
          to: s.redirect_to,
          status: s,
        };
        return;
      }
      if (s.version === version) continue;
      version = s.version;
      if (s.status === 'scan-confirm' && s.token) {
        yield { kind: 'login', status: s };
        return;
      }
      if (s.status === 'scan-cancel') {
        yield { kind: 'end', why: s.reason === 'match_failed' ? 'matchFailed' : 'cancelled', status: s };
        return;
      }
      // A confirmed session without a token was collected by another poll: this one is over.
      if (s.status === 'expired' || s.status === 'scan-confirm') {
        yield { kind: 'end', why: 'expired', status: s };
        return;
      }
      yield { kind: 'status', status: s };
    }
  } catch (err) {
    if (err instanceof OriginRefused) yield { kind: 'end', why: 'origin', origin: err.origin };
    else if (!(isAbort(err) && signal.aborted)) throw err;
  }
}

/**
 * The code to type for `qr` (asked for only when the user wants one): the code and where to type
 * it; `null` once the code is scanned or ended (nobody needs one any more); `failed` otherwise.
 * @param {string} server
 * @param {NewQr} qr
 * @param {AbortSignal} signal
 * @returns {Promise<{ code: string, url: string } | null | 'failed'>}
 */
export async function typedCode(server, qr, signal) {
  const res = await call(`/api/qrcodes/${qr.qrcode_id}/user-code`, {
    server,
    method: 'POST',
    pollToken: qr.poll_token,
    signal,
  }).catch(() => null);
  if (res?.ok && res.body?.user_code) return { code: res.body.user_code, url: res.body.verification_url };
  // A Worker of before codes on demand: its code came with the QR.
  if (res && (res.status === 404 || res.status === 405) && qr.user_code) {
    return { code: qr.user_code, url: qr.verification_url ?? `${server}/link` };
  }
  // Scanned or ended meanwhile: the long-poll is about to say so.
  if (res?.status === 409 || res?.status === 410) return null;
  return 'failed';
}

/**
 * Sends a passkey's assertion to the Worker: an answer whose body has `redirect_to` (or a token).
 * @callback FinishPasskey
 * @param {unknown} assertion
 * @param {AbortSignal} signal
 * @returns {Promise<import('../kit/api.js').Answer>}
 */

/**
 * Why a passkey sign-in did not happen: cancelled (or timed out, or no passkey there), refused
 * by the Worker, impossible on this page (its address is outside the RP ID), too many tries, or
 * anything else (the network included).
 * @typedef {'cancelled' | 'refused' | 'unavailable' | 'rateLimited' | 'failed'} PasskeyProblem
 */

/**
 * Signs in with a passkey from a phone nearby: the Worker's options (asked from this page's
 * origin, which the Worker must allow), `navigator.credentials.get` with `hints: ["hybrid"]` (the
 * browser draws its own QR and checks over Bluetooth that the phone is near: nothing can be
 * relayed from far away), then the assertion to the Worker, which checks this page's origin.
 * `finish` sends the assertion where the page wants it (the authorize page: for a code, never a
 * token); by default to `POST /api/passkeys/login`.
 * @param {string} server
 * @param {AbortSignal} signal
 * @param {FinishPasskey} [finish]
 * @returns {Promise<{ ok: true, answer: Status } | { ok: false, why: PasskeyProblem, retryAfter?: number }>}
 */
export async function passkeyLogin(server, signal, finish) {
  /** @param {import('../kit/api.js').Answer} res */
  const refused = (res) => ({
    ok: /** @type {const} */ (false),
    why: /** @type {PasskeyProblem} */ (res.status === 429 ? 'rateLimited' : res.status < 500 ? 'refused' : 'failed'),
    retryAfter: res.retryAfter || 60,
  });
  try {
    const options = await call('/api/passkeys/login/options', { server, method: 'POST', signal });
    if (!options.ok) return refused(options);
    let assertion;
    try {
      assertion = await usePasskey(options.body, { hints: ['hybrid'], signal });
    } catch (err) {
      const problem = ceremonyProblem(err);
      return { ok: false, why: problem === 'exists' ? 'failed' : problem };
    }
    const res = finish
      ? await finish(assertion, signal)
      : await call('/api/passkeys/login', { server, method: 'POST', body: assertion, signal });
    if (!res.ok || !(res.body?.token || typeof res.body?.redirect_to === 'string')) return refused(res);
    return { ok: true, answer: res.body };
  } catch (err) {
    if (isAbort(err)) return { ok: false, why: 'cancelled' };
    return { ok: false, why: 'failed' };
  }
}
