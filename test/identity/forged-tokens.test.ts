/**
 * Forged and damaged login tokens: every one answers 401 `unauthorized` on every route that
 * needs a signed-in user. Each forgery reuses the claims of a real, live token, so only the
 * forged part can be what the verifier refuses.
 */
import { expect, it } from 'vitest';
import { act, api, bearer, createQr, errorOf, login, postJson, userCodeOf } from '../helpers';
import { devKey, enc, hmacToken, newKey, parts, signWith } from '../tokens/support';

it('refuses every forged, expired or damaged token with 401 on every signed-in route', async () => {
  const { token } = await login('dong', '111');
  const { header: realHeader, claims } = parts(token);
  const now = Math.floor(Date.now() / 1000);
  const key = devKey();
  const ours = { alg: 'EdDSA', typ: 'JWT', kid: key.kid };
  const forge = (header: object, body: object) => signWith(key, header, body);
  const stranger = (await newKey('EdDSA', key.kid)).privateJwk;
  const p256 = (await newKey('ES256', key.kid)).privateJwk;
  const { exp: _exp, ...noExp } = claims;
  const [h, p, s] = token.split('.') as [string, string, string];

  // The control: the real token and a hand-made twin of it are both accepted.
  expect(realHeader).toEqual(ours);
  expect((await api('/api/me', { headers: bearer(token) })).status).toBe(200);
  expect((await api('/api/me', { headers: bearer(await forge(ours, claims)) })).status).toBe(200);

  const forged: [string, string][] = [
    ['alg none, no signature', `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims)}.`],
    ['alg none with the real signature', `${enc({ alg: 'none', typ: 'JWT' })}.${p}.${s}`],
    ['HS256 keyed with our public key', await hmacToken({ ...ours, alg: 'HS256' }, claims, key.x!)],
    ['HS512 keyed with our public key', await hmacToken({ ...ours, alg: 'HS512' }, claims, key.x!, 'SHA-512')],
    ['HS256 with no kid', await hmacToken({ alg: 'HS256', typ: 'JWT' }, claims, key.x!)],
    ['RS256 header, real signature', `${enc({ ...ours, alg: 'RS256' })}.${p}.${s}`],
    ['ES256 header, our signature', await forge({ ...ours, alg: 'ES256' }, claims)],
    ['ES256 key under our kid', await signWith(p256, { ...ours, alg: 'ES256' }, claims)],
    ['unknown kid', await forge({ ...ours, kid: 'someone-else' }, claims)],
    ['no kid', await forge({ alg: 'EdDSA', typ: 'JWT' }, claims)],
    ['typ not JWT', await forge({ ...ours, typ: 'at+jwt+x' }, claims)],
    ['crit header', await forge({ ...ours, crit: ['exp'] }, claims)],
    ['expired', await forge(ours, { ...claims, iat: now - 7200, exp: now - 3600 })],
    ['expires this second', await forge(ours, { ...claims, exp: now })],
    ['missing exp', await forge(ours, noExp)],
    ['exp as a string', await forge(ours, { ...claims, exp: String(now + 3600) })],
    ['issued in the future', await forge(ours, { ...claims, iat: now + 3600 })],
    ['not yet valid', await forge(ours, { ...claims, nbf: now + 3600 })],
    ['wrong iss', await forge(ours, { ...claims, iss: 'someone-else' })],
    ['missing iss', await forge(ours, { ...claims, iss: undefined })],
    ['wrong aud', await forge(ours, { ...claims, aud: 'another-api' })],
    ['missing aud', await forge(ours, { ...claims, aud: undefined })],
    ['missing sid', await forge(ours, { ...claims, sid: undefined })],
    ['unknown sid', await forge(ours, { ...claims, sid: crypto.randomUUID() })],
    ['another user, same sid', await forge(ours, { ...claims, sub: 'not-a-user' })],
    ["a stranger's key under our kid", await signWith(stranger, ours, claims)],
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
  const userCode = await userCodeOf(qr);
  const routes: [string, (t: string) => Promise<Response>][] = [
    ['/api/me', (t) => api('/api/me', { headers: { Authorization: `Bearer ${t}` } })],
    ['/api/sessions', (t) => api('/api/sessions', { headers: { Authorization: `Bearer ${t}` } })],
    ['scan', (t) => act(qr, 'scan', t)],
    ['confirm', (t) => act(qr, 'confirm', t)],
    ['cancel', (t) => act(qr, 'cancel', t)],
    ['/api/logout', (t) => api('/api/logout', { method: 'POST', headers: { Authorization: `Bearer ${t}` } })],
    [
      '/api/codes/resolve',
      (t) => postJson('/api/codes/resolve', { user_code: userCode }, { Authorization: `Bearer ${t}` }),
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
