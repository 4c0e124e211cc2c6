/**
 * Forged and damaged login tokens: every one answers 401 `unauthorized` on every route that
 * needs a signed-in user. Each forgery reuses the claims of a real, live token, so only the
 * forged part can be what the verifier refuses.
 */
import { env } from 'cloudflare:workers';
import { sign } from 'hono/jwt';
import { expect, it } from 'vitest';
import { act, api, bearer, createQr, errorOf, login, postJson } from '../helpers';

const SECRET = env.JWT_SECRET ?? '';
const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const enc = (value: unknown) => b64url(new TextEncoder().encode(JSON.stringify(value)));

async function hmac(hash: 'SHA-256' | 'SHA-512', secret: string, data: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash }, false, [
    'sign',
  ]);
  return b64url(new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(data))));
}

/** A token with any header and claims, HMAC-signed with `secret` (SHA-256 unless told). */
async function forge(header: object, claims: object, secret = SECRET, hash: 'SHA-256' | 'SHA-512' = 'SHA-256') {
  const data = `${enc(header)}.${enc(claims)}`;
  return `${data}.${await hmac(hash, secret, data)}`;
}

it('refuses every forged, expired or damaged token with 401 on every signed-in route', async () => {
  const { token } = await login('dong', '111');
  const claims = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as Record<
    string,
    unknown
  >;
  const now = Math.floor(Date.now() / 1000);
  const hs256 = { alg: 'HS256', typ: 'JWT' };
  const { exp: _exp, ...noExp } = claims;
  const [h, p, s] = token.split('.') as [string, string, string];

  // The control: the real token and a hand-made HS256 twin of it are both accepted.
  expect((await api('/api/me', { headers: bearer(token) })).status).toBe(200);
  expect((await api('/api/me', { headers: bearer(await forge(hs256, claims)) })).status).toBe(200);

  const forged: [string, string][] = [
    ['alg none, no signature', `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims)}.`],
    ['alg none with the real signature', `${enc({ alg: 'none', typ: 'JWT' })}.${p}.${s}`],
    ['HS512 (hono/jwt)', await sign(claims, SECRET, 'HS512')],
    ['HS512 by hand', await forge({ alg: 'HS512', typ: 'JWT' }, claims, SECRET, 'SHA-512')],
    ['RS256 header, HMAC body with the secret', await forge({ alg: 'RS256', typ: 'JWT' }, claims)],
    ['RS256 header, real signature', `${enc({ alg: 'RS256', typ: 'JWT' })}.${p}.${s}`],
    ['ES256 header', await forge({ alg: 'ES256', typ: 'JWT' }, claims)],
    ['expired', await forge(hs256, { ...claims, iat: now - 7200, exp: now - 3600 })],
    ['expires this second', await forge(hs256, { ...claims, exp: now })],
    ['missing exp', await forge(hs256, noExp)],
    ['exp as a string', await forge(hs256, { ...claims, exp: String(now + 3600) })],
    ['wrong iss', await forge(hs256, { ...claims, iss: 'someone-else' })],
    ['missing iss', await forge(hs256, { ...claims, iss: undefined })],
    ['wrong aud', await forge(hs256, { ...claims, aud: 'another-api' })],
    ['missing aud', await forge(hs256, { ...claims, aud: undefined })],
    ['missing sid', await forge(hs256, { ...claims, sid: undefined })],
    ['unknown sid', await forge(hs256, { ...claims, sid: crypto.randomUUID() })],
    ['another user, same sid', await forge(hs256, { ...claims, sub: 'not-a-user' })],
    ['other secret', await forge(hs256, claims, 'another-secret-another-secret-0123456789')],
    ['other secret (hono/jwt)', await sign(claims, 'another-secret-another-secret-0123456789', 'HS256')],
    ['signature of another payload', `${h}.${enc({ ...claims, username: 'guang' })}.${s}`],
    ['truncated signature', token.slice(0, -5)],
    ['no signature', `${h}.${p}.`],
    ['two parts', `${h}.${p}`],
    ['truncated in the payload', token.slice(0, h.length + 10)],
    // Trailing whitespace never reaches the Worker: HTTP trims header values itself.
    ['leading space', ` ${token}`],
    ['space before the signature', `${h}.${p}. ${s}`],
    ['space inside', `${h}. ${p}.${s}`],
    ['empty', ''],
    ['garbage', 'not-a-token'],
  ];

  const qr = await createQr();
  const routes: [string, (t: string) => Promise<Response>][] = [
    ['/api/me', (t) => api('/api/me', { headers: { Authorization: `Bearer ${t}` } })],
    ['/api/sessions', (t) => api('/api/sessions', { headers: { Authorization: `Bearer ${t}` } })],
    ['scan', (t) => act(qr, 'scan', t)],
    ['confirm', (t) => act(qr, 'confirm', t)],
    ['cancel', (t) => act(qr, 'cancel', t)],
    ['/api/logout', (t) => api('/api/logout', { method: 'POST', headers: { Authorization: `Bearer ${t}` } })],
    [
      '/api/codes/resolve',
      (t) => postJson('/api/codes/resolve', { user_code: qr.user_code }, { Authorization: `Bearer ${t}` }),
    ],
  ];
  const failures: string[] = [];
  for (const [what, t] of forged) {
    for (const [route, send] of routes) {
      const { status, error } = await errorOf(await send(t));
      if (status !== 401 || error !== 'unauthorized') failures.push(`${what} on ${route}: ${status} ${error}`);
    }
  }
  // Without any Authorization header, and with another scheme.
  for (const headers of [{} as Record<string, string>, { Authorization: `Basic ${token}` }, { Authorization: token }]) {
    const res = await api('/api/me', { headers });
    if (res.status !== 401) failures.push(`header ${JSON.stringify(headers).slice(0, 40)}: ${res.status}`);
  }
  expect(failures).toEqual([]);
  // None of that touched the session or signed anyone out: the real token still works.
  expect((await api('/api/me', { headers: bearer(token) })).status).toBe(200);
  expect((await act(qr, 'scan', token)).status).toBe(200);
});
