/** Calls the API and turns every answer into `{ ok, status, body, retryAfter }`: never throws for HTTP errors. */
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
  return { ok: res.ok, status: res.status, body: data, retryAfter: Number(res.headers.get('Retry-After')) || 0 };
}

/** A token kept in localStorage under `key`. */
export function tokenStore(key) {
  return {
    get: () => localStorage.getItem(key),
    set: (value) => localStorage.setItem(key, value),
    clear: () => localStorage.removeItem(key),
  };
}
