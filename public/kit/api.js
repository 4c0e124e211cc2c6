/**
 * @module
 * The one API client of the pages and the element. Every answer becomes an `Answer`, whatever
 * its status; only a network failure (a `TypeError`), a timeout (`TimeoutError`) or an abort
 * (`AbortError`) throws.
 */

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
 * @property {string | null} [token] sent as `Authorization: Bearer`
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
export async function call(path, { server, method = 'GET', token, pollToken, body, signal, timeoutMs } = {}) {
  /** @type {Record<string, string>} */
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
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
    const res = await fetch(new URL(path, server ?? location.href), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: own.signal,
      cache: 'no-store',
    });
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
