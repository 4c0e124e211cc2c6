/**
 * Accounts and tokens: password sign-in, `/api/me`, and every kind of bad token.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { hashPassword, verifyPassword } from '../../src/identity/passwords';
import { api, bearer, errorOf, freshIp, login, ORIGIN, postJson } from '../helpers';
import { devKey, enc, hmacToken, type Jwk, newKey, parts, signWith } from '../tokens/support';

const TOKEN_ISSUER = ORIGIN;
const TOKEN_AUDIENCE = 'qrcode-login';

const me = (token: string) => api('/api/me', { headers: bearer(token) });

function claims(overrides: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: 'u_dong',
    username: 'dong',
    name: '东东',
    sid: 'not-a-session',
    jti: crypto.randomUUID(),
    iat: now,
    exp: now + 600,
    iss: TOKEN_ISSUER,
    aud: TOKEN_AUDIENCE,
    ...overrides,
  };
}

/** A token for a real live session, re-signed with changed claims or key. */
async function forged(overrides: Record<string, unknown>, key: Jwk = devKey(), header: object = {}) {
  const { token } = await login();
  const real = parts(token).claims;
  return signWith(key, { alg: key.alg, typ: 'JWT', kid: key.kid, ...header }, claims({ sid: real.sid, ...overrides }));
}

describe('POST /api/login', () => {
  it('signs in a demo user and answers a token and the user', async () => {
    const body = await login('dong', '111');
    expect(body.user).toEqual({ id: 'u_dong', username: 'dong', display_name: '东东' });
    const { header, claims: payload } = parts(body.token);
    expect(header).toEqual({ alg: 'EdDSA', typ: 'JWT', kid: 'development-key-do-not-deploy' });
    expect(payload).toMatchObject({
      sub: 'u_dong',
      username: 'dong',
      name: '东东',
      iss: TOKEN_ISSUER,
      aud: TOKEN_AUDIENCE,
    });
    // Access tokens last fifteen minutes; the refresh token renews them (test/sessions/).
    expect(Number(payload.exp) - Number(payload.iat)).toBe(900);
    expect(payload.preferred_username).toBe('dong');
    expect(body.expires_in).toBe(900);
    expect(body.refresh_token).toMatch(/^[A-Za-z0-9_-]{107}$/);
    expect(payload.jti).toEqual(expect.any(String));
    expect(payload.sid).toEqual(expect.any(String));
  });

  it('answers the same for an unknown user and a wrong password', async () => {
    const wrong = await errorOf(
      await postJson('/api/login', { username: 'dong', password: 'nope' }, { 'CF-Connecting-IP': freshIp() }),
    );
    const unknown = await errorOf(
      await postJson('/api/login', { username: 'nobody', password: 'nope' }, { 'CF-Connecting-IP': freshIp() }),
    );
    expect(wrong).toEqual(unknown);
    expect(wrong).toMatchObject({ status: 401, error: 'invalid_credentials' });
  });

  it('stores passwords only as salted PBKDF2 hashes', async () => {
    const rows = await env.DB.prepare('SELECT password_hash FROM users').all<{ password_hash: string }>();
    const hashes = rows.results.map((r) => r.password_hash);
    for (const hash of hashes) expect(hash).toMatch(/^pbkdf2_sha256\$100000\$[\w-]{22}\$[\w-]{43}$/);
    expect(new Set(hashes.map((h) => h.split('$')[2])).size).toBe(hashes.length);
    expect(await verifyPassword('111', hashes[0]!)).toBe(true);
    expect(await verifyPassword('112', hashes[0]!)).toBe(false);
  });

  it('refuses a disabled account with the answer an unknown user gets, and signs it in again once enabled', async () => {
    // An account as `npm run accounts -- add` makes it, then disabled as `… disable` does.
    const username = `disabled-${crypto.randomUUID().slice(0, 8)}`;
    await env.DB.prepare('INSERT INTO users (id, username, display_name, password_hash) VALUES (?, ?, ?, ?)')
      .bind(`u_${username}`, username, 'Disabled', await hashPassword('s3cret-pass'))
      .run();
    const attempt = async () =>
      postJson('/api/login', { username, password: 's3cret-pass' }, { 'CF-Connecting-IP': freshIp() });
    expect((await attempt()).status).toBe(200);

    await env.DB.prepare('UPDATE users SET disabled_at = ? WHERE username = ?')
      .bind(new Date().toISOString(), username)
      .run();
    const refused = await errorOf(await attempt());
    const unknown = await errorOf(
      await postJson('/api/login', { username: 'nobody', password: 's3cret-pass' }, { 'CF-Connecting-IP': freshIp() }),
    );
    expect(refused).toEqual(unknown);
    expect(refused).toMatchObject({ status: 401, error: 'invalid_credentials' });

    await env.DB.prepare('UPDATE users SET disabled_at = NULL WHERE username = ?').bind(username).run();
    expect((await attempt()).status).toBe(200);
  });

  it('refuses bodies that are not a username and password', async () => {
    for (const body of [
      'not json',
      '[]',
      { username: 'dong' },
      { username: 1, password: '111' },
      { username: 'a\u0000b', password: 'x' },
    ]) {
      expect(await errorOf(await postJson('/api/login', body, { 'CF-Connecting-IP': freshIp() }))).toMatchObject({
        status: 400,
        error: 'invalid_request',
      });
    }
  });
});

describe('GET /api/me', () => {
  it('answers the signed-in user', async () => {
    const { token } = await login('guang', '222');
    const res = await me(token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: 'u_guang', username: 'guang', display_name: '光光' });
  });

  it('refuses a missing, malformed or tampered token', async () => {
    const { token } = await login();
    const [h, p, s] = token.split('.');
    const tampered = `${h}.${btoa(JSON.stringify({ ...JSON.parse(atob(p!)), sub: 'u_guang' })).replace(/=+$/, '')}.${s}`;
    for (const res of [
      await api('/api/me'),
      await me('not-a-token'),
      await me(tampered),
      await me(`${token.slice(0, -4)}AAAA`),
      await api('/api/me', { headers: { Authorization: token } }),
    ]) {
      expect(await errorOf(res)).toMatchObject({ status: 401, error: 'unauthorized' });
    }
  });

  it('refuses an expired token, one without exp, alg none, HS256 with the public key, wrong iss or aud, another key', async () => {
    const now = Math.floor(Date.now() / 1000);
    const header = btoa(JSON.stringify({ alg: 'none', typ: 'JWT' })).replace(/=+$/, '');
    const body = enc(claims());
    const bad = [
      await forged({ exp: now - 10, iat: now - 700 }),
      await forged({ exp: undefined }),
      `${header}.${body}.`,
      await hmacToken({ alg: 'HS256', typ: 'JWT', kid: devKey().kid }, claims(), devKey().x!),
      await forged({ iss: 'someone-else' }),
      await forged({ aud: 'another-api' }),
      // A stranger's key under our kid, and under a kid of its own.
      await forged({}, (await newKey('EdDSA', devKey().kid)).privateJwk),
      await forged({}, (await newKey('ES256')).privateJwk),
    ];
    for (const token of bad)
      expect(await errorOf(await me(token))).toMatchObject({ status: 401, error: 'unauthorized' });
    // The same construction with nothing changed is accepted: the refusals above are the changes.
    expect((await me(await forged({}))).status).toBe(200);
  });
});

describe('the signing key', () => {
  const request = (path: string, init?: RequestInit) => new Request(`https://login.example${path}`, init);
  const signIn = (signingKey: string | undefined) =>
    app.fetch(
      request('/api/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'dong', password: '111' }),
      }),
      { ...env, SIGNING_KEY: signingKey },
    );

  it('a Worker without a usable SIGNING_KEY refuses to sign with a clear 500 that leaks nothing', async () => {
    const { publicJwk } = await newKey();
    const noKid = { ...devKey(), kid: undefined };
    const rsa = { kty: 'RSA', n: 'AQAB', e: 'AQAB', d: 'AQAB', kid: 'r', alg: 'RS256' };
    for (const key of [
      undefined,
      '',
      'not json',
      JSON.stringify(publicJwk),
      JSON.stringify(noKid),
      JSON.stringify(rsa),
    ]) {
      const body = await errorOf(await signIn(key));
      expect(body).toMatchObject({ status: 500, error: 'server_error' });
      expect(body.message).toMatch(/misconfigured/);
      expect(JSON.stringify(body)).not.toContain(devKey().d!);
    }
  });

  it('signs with ES256 too, and publishes the key it signs with', async () => {
    const { privateJwk } = await newKey('ES256', 'p256-key');
    const res = await signIn(JSON.stringify(privateJwk));
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    expect(parts(token).header).toEqual({ alg: 'ES256', typ: 'JWT', kid: 'p256-key' });
    const jwks = await app.fetch(request('/.well-known/jwks.json'), {
      ...env,
      SIGNING_KEY: JSON.stringify(privateJwk),
    });
    const { keys } = (await jwks.json()) as { keys: Jwk[] };
    expect(keys).toEqual([
      { kty: 'EC', crv: 'P-256', x: privateJwk.x, y: privateJwk.y, kid: 'p256-key', alg: 'ES256', use: 'sig' },
    ]);
  });
});
