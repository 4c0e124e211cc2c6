/**
 * @module
 * The element's calls to the Worker, which may be on another origin: every answer becomes
 * `{ ok, status, body, retryAfter }`; only a network failure, a timeout or an abort throws.
 */

/**
 * Calls `path` on `server`. `timeoutMs` ends a request that never answers (a long-poll held by a
 * proxy that died) with a `TimeoutError`, treated like a network failure by the caller.
 */
export async function call(server, path, { method = 'GET', pollToken, signal, timeoutMs } = {}) {
  const headers = {};
  if (pollToken) headers['X-Poll-Token'] = pollToken;
  const own = new AbortController();
  const onAbort = () => own.abort(signal.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) own.abort(signal.reason);
  const timer = timeoutMs
    ? setTimeout(() => own.abort(new DOMException('The server did not answer in time.', 'TimeoutError')), timeoutMs)
    : null;
  try {
    const res = await fetch(new URL(path, server), { method, headers, signal: own.signal, cache: 'no-store' });
    const text = await res.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    // Retry-After is readable across origins only when the server exposes it; 0 means "not said".
    return { ok: res.ok, status: res.status, body, retryAfter: Number(res.headers.get('Retry-After')) || 0 };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** True when `err` is our own abort (a newer screen took over), not a failure to report. */
export const isAbort = (err) => err?.name === 'AbortError';
