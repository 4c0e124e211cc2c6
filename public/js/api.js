/**
 * @module
 * Calls the API and turns every answer into `{ ok, status, body, retryAfter, date }`: never throws
 * for HTTP errors (a network failure still throws, for `connection.js` to handle).
 */
export async function api(path, { method = 'GET', token, pollToken, body, signal } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (pollToken) headers['X-Poll-Token'] = pollToken;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
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
    // The server's clock (to the second), for countdowns on a phone whose clock is off.
    date: Date.parse(res.headers.get('Date') ?? '') || null,
  };
}

/** A token kept under `key` in `storage` (localStorage unless told). */
export function tokenStore(key, storage = localStorage) {
  return {
    get: () => storage.getItem(key),
    set: (value) => storage.setItem(key, value),
    clear: () => storage.removeItem(key),
  };
}
