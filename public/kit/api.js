/**
 * @module
 * The one API client of the pages and the element. Every answer becomes an `Answer`, whatever
 * its status; only a network failure (a `TypeError`), a timeout (`TimeoutError`) or an abort
 * (`AbortError`) throws. A token bound to this browser's DPoP key goes out with its proof.
 */
import { authHeaders, dpopProof, heard } from './dpop.js';

/**
 * @typedef {object} Answer
 * @property {boolean} ok
 * @property {number} status
 * @property {any} body the JSON body, or null
 * @property {number} retryAfter seconds of `Retry-After`; 0 when not said (or not exposed to another origin)
 * @property {number | null} date the server's clock from `Date` (to the second), for countdowns on a phone whose clock is off
 */

/**
 * @typedef {object} CallOptions
 * @property {string} [server] the Worker's origin; default this page's
 * @property {string} [method]
 * @property {string | null} [token] sent as `Authorization: Bearer`, or as `DPoP` with a proof for a token bound to this browser's key
 * @property {boolean} [dpop] send a DPoP proof of this browser's key (a QR login made and polled bound to it)
 * @property {string} [pollToken] sent as `X-Poll-Token`
 * @property {unknown} [body] sent as JSON
 * @property {AbortSignal} [signal]
 * @property {number} [timeoutMs] ends a request that never answers (a long-poll held by a proxy that died) with a `TimeoutError`
 */

/**
 * Calls `path` of the Worker.
 * @param {string} path
 * @param {CallOptions} [options]
 * @returns {Promise<Answer>}
 */
export async function call(path, options = {}) {
  const first = await send(path, options);
  // A server that asks for its DPoP nonce (RFC 9449 §8) is asked once more, with it.
  if (first.nonceAsked) return send(path, options);
  return first;
}

/**
 * One request of `call`.
 * @param {string} path
 * @param {CallOptions} options
 * @returns {Promise<Answer & { nonceAsked: boolean }>}
 */
async function send(path, { server, method = 'GET', token, dpop, pollToken, body, signal, timeoutMs }) {
  const url = new URL(path, server ?? location.href);
  /** @type {Record<string, string>} */
  const headers = {};
  if (token) Object.assign(headers, await authHeaders(method, url, token));
  else if (dpop) {
    const proof = await dpopProof(method, url);
    if (proof) headers.DPoP = proof;
  }
  if (pollToken) headers['X-Poll-Token'] = pollToken;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const own = new AbortController();
  const onAbort = () => own.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) own.abort(signal.reason);
  const timer = timeoutMs
    ? setTimeout(() => own.abort(new DOMException('The server did not answer in time.', 'TimeoutError')), timeoutMs)
    : undefined;
  try {
    const res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: own.signal,
      cache: 'no-store',
    });
    heard(url.href, res.headers);
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    return {
      ok: res.ok,
      status: res.status,
      body: data,
      retryAfter: Number(res.headers.get('Retry-After')) || 0,
      date: Date.parse(res.headers.get('Date') ?? '') || null,
      nonceAsked: data?.error === 'use_dpop_nonce' && res.headers.has('DPoP-Nonce'),
    };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * True when `err` is an abort (the page moved on), not a failure to report.
 * @param {unknown} err
 */
export const isAbort = (err) => err instanceof DOMException && err.name === 'AbortError';

/**
 * True when `err` means the server could not be reached: worth another try.
 * @param {unknown} err
 */
export const isNetworkFailure = (err) =>
  err instanceof TypeError || (err instanceof DOMException && err.name === 'TimeoutError');
