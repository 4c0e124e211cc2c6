/**
 * Accounts and tokens: password sign-in, `/api/me`, and every kind of bad token.
 */
import { env } from 'cloudflare:workers';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { verifyPassword } from '../src/accounts/passwords';
import { app } from '../src/app';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '../src/auth/tokens';
import { api, bearer, errorOf, freshIp, login, postJson } from './helpers';

const me = (token: string) => api('/api/me', { headers: bearer(token) });

function claims(overrides: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: 'u_dong',
    username: 'dong',
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
async function forged(overrides: Record<string, unknown>, key = env.JWT_SECRET!, alg: 'HS256' | 'HS512' = 'HS256') {
  const { token } = await login();
  const [, payload] = token.split('.');
  const real = JSON.parse(atob(payload!.replace(/-/g, '+').replace(/_/g, '/')));
  return sign(claims({ sid: real.sid, ...overrides }), key, alg);
}

describe('POST /api/login', () => {
  it('signs in a demo user and answers a token and the user', async () => {
    const body = await login('dong', '111');
    expect(body.user).toEqual({ id: 'u_dong', username: 'dong', display_name: '东东' });
    const [header, payload] = body.token
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))));
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(payload).toMatchObject({ sub: 'u_dong', username: 'dong', iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE });
    expect(payload.exp - payload.iat).toBe(604_800);
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

  it('refuses an expired token, one without exp, alg none, HS512, wrong iss or aud, another key', async () => {
    const now = Math.floor(Date.now() / 1000);
    const header = btoa(JSON.stringify({ alg: 'none', typ: 'JWT' })).replace(/=+$/, '');
    const body = btoa(JSON.stringify(claims())).replace(/=+$/, '');
    const bad = [
      await forged({ exp: now - 10, iat: now - 700 }),
      await forged({ exp: undefined }),
      `${header}.${body}.`,
      await forged({}, env.JWT_SECRET!, 'HS512'),
      await forged({ iss: 'someone-else' }),
      await forged({ aud: 'another-api' }),
      await forged({}, 'another-secret-another-secret-another-secret'),
    ];
    for (const token of bad)
      expect(await errorOf(await me(token))).toMatchObject({ status: 401, error: 'unauthorized' });
    // The same construction with nothing changed is accepted: the refusals above are the changes.
    expect((await me(await forged({}))).status).toBe(200);
  });
});

describe('the signing key', () => {
  const request = (path: string, init?: RequestInit) => new Request(`https://login.example${path}`, init);

  it('a Worker without JWT_SECRET, or with a short one, refuses to sign with a clear 500', async () => {
    for (const secret of [undefined, 'short']) {
      const res = await app.fetch(
        request('/api/login', { method: 'POST', body: JSON.stringify({ username: 'dong', password: '111' }) }),
        { ...env, JWT_SECRET: secret },
      );
      const body = await errorOf(res);
      expect(body).toMatchObject({ status: 500, error: 'server_error' });
      expect(body.message).toMatch(/misconfigured/);
      expect(JSON.stringify(body)).not.toContain('secret');
    }
  });
});
