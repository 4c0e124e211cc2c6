/**
 * IDENTITY=jwt: the phone user is the site's own user, proven by the site's JWT and verified
 * against its JWKS (cached, refetched for an unknown kid at most every 30 s) or an HS256 secret.
 */
import { env } from 'cloudflare:workers';
import { decodeJwt, exportJWK, type JWK, SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { app } from '../../src/app';
import { clearJwksCache } from '../../src/identity/jwks-cache';
import { bearer, createQr, errorOf, ORIGIN, PC_UA, type QrBody } from '../helpers';

const SERVER = inject('identityServer');
const ISSUER = 'https://site.example';
const AUDIENCE = 'qr-login';

type Alg = 'RS256' | 'ES256' | 'EdDSA';
const PARAMS: Record<Alg, Parameters<typeof crypto.subtle.generateKey>[0]> = {
  RS256: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  EdDSA: { name: 'Ed25519' },
};

interface SiteKey {
  alg: Alg;
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function siteKey(alg: Alg, kid = `${alg}-${crypto.randomUUID().slice(0, 8)}`): Promise<SiteKey> {
  const pair = (await crypto.subtle.generateKey(PARAMS[alg], true, ['sign', 'verify'])) as CryptoKeyPair;
  return { alg, kid, privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' } };
}

interface PublishOptions {
  cacheControl?: string;
  status?: number;
  name?: string;
  /** How the set answers (see test/support/jwks-server.ts); `location` for a redirect. */
  answer?: 'json' | 'html' | 'hang' | 'hang-body' | 'redirect' | 'huge';
  location?: string;
}

/** Publishes `keys` as the JWKS of a fresh set; returns its URL. */
async function publish(keys: SiteKey[], options: PublishOptions = {}) {
  const { name = crypto.randomUUID(), ...rest } = options;
  await fetch(`${SERVER}/sets/${name}`, {
    method: 'PUT',
    body: JSON.stringify({ keys: keys.map((k) => k.jwk), ...rest }),
  });
  return {
    url: `${SERVER}/sets/${name}/jwks.json`,
    hits: async () => Number(await (await fetch(`${SERVER}/sets/${name}/hits`)).text()),
  };
}

/** A token of the site's, as its login would mint it; `claims` override (or, as undefined, drop) any claim. */
function siteToken(key: SiteKey, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  const payload = Object.fromEntries(
    Object.entries({
      sub: 'site-user-42',
      preferred_username: 'ada',
      name: 'Ada Lovelace',
      iss: ISSUER,
      aud: AUDIENCE,
      iat: now,
      exp: now + 600,
      ...claims,
    }).filter(([, value]) => value !== undefined),
  );
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header })
    .sign(key.privateKey);
}

const jwtEnv = (extra: Partial<typeof env> = {}) => ({
  ...env,
  IDENTITY: 'jwt',
  IDENTITY_ISSUER: ISSUER,
  IDENTITY_AUDIENCE: AUDIENCE,
  IDENTITY_LOGIN_URL: 'https://site.example/login',
  ...extra,
});

let ip = 0;
function call(path: string, init: RequestInit, e: ReturnType<typeof jwtEnv>) {
  const headers = new Headers(init.headers);
  headers.set('CF-Connecting-IP', `192.0.2.${(ip++ % 250) + 1}`);
  return app.fetch(new Request(`${ORIGIN}${path}`, { ...init, headers }), e, {
    waitUntil: () => {},
    passThroughOnException: () => {},
    props: {},
  } as unknown as ExecutionContext);
}
const me = (token: string, e: ReturnType<typeof jwtEnv>) => call('/api/me', { headers: bearer(token) }, e);

beforeEach(() => clearJwksCache());
afterEach(() => vi.useRealTimers());

describe('IDENTITY=jwt with a JWKS', () => {
  it('accepts RS256, ES256 and EdDSA tokens of the site and names its user', async () => {
    const keys = await Promise.all((['RS256', 'ES256', 'EdDSA'] as Alg[]).map((a) => siteKey(a)));
    const { url } = await publish(keys);
    for (const key of keys) {
      const res = await me(await siteToken(key), jwtEnv({ IDENTITY_JWKS_URL: url }));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ id: 'site-user-42', username: 'ada', display_name: 'Ada Lovelace' });
    }
    // Without preferred_username and name, the sub stands for both.
    const res = await me(
      await siteToken(keys[0]!, { preferred_username: undefined, name: undefined }),
      jwtEnv({ IDENTITY_JWKS_URL: url }),
    );
    expect(await res.json()).toEqual({ id: 'site-user-42', username: 'site-user-42', display_name: 'site-user-42' });
  });

  it('refuses alg none, a foreign alg, an unknown kid, a wrong signature, wrong iss/aud, no exp, expiry and nbf beyond 60 s, and logs the check each failed, never the token', async () => {
    const key = await siteKey('ES256');
    const other = await siteKey('ES256', key.kid);
    const { url } = await publish([key]);
    const e = jwtEnv({ IDENTITY_JWKS_URL: url });
    const now = Math.floor(Date.now() / 1000);
    const good = await siteToken(key);
    const [h, p] = good.split('.');
    const none = `${btoa(JSON.stringify({ alg: 'none', typ: 'JWT', kid: key.kid })).replace(/=+$/, '')}.${p}.`;
    const hs = await new SignJWT({ sub: 'x' })
      .setProtectedHeader({ alg: 'HS256', kid: key.kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime(now + 600)
      .sign(new TextEncoder().encode('a-secret-that-is-long-enough-0123456789'));
    // What is refused, and the check that the log names for it.
    const bad: [string, string, string][] = [
      ['alg none', none, 'algorithm'],
      ['HS256 under the same kid', hs, 'algorithm'],
      [
        'RS256 header on an EC key',
        `${btoa(JSON.stringify({ alg: 'RS256', kid: key.kid })).replace(/=+$/, '')}.${p}.${good.split('.')[2]}`,
        'algorithm',
      ],
      ['unknown kid', await siteToken(key, {}, { kid: 'nobody' }), 'unknown kid'],
      ['wrong signature', await siteToken(other), 'signature'],
      [
        'another payload',
        `${h}.${btoa(JSON.stringify({ sub: 'admin', iss: ISSUER, aud: AUDIENCE, exp: now + 600 })).replace(/=+$/, '')}.${good.split('.')[2]}`,
        'signature',
      ],
      ['wrong iss', await siteToken(key, { iss: 'https://evil.example' }), 'issuer'],
      ['wrong aud', await siteToken(key, { aud: 'another-app' }), 'audience'],
      [
        'no exp',
        await new SignJWT({ sub: 'x' })
          .setProtectedHeader({ alg: 'ES256', kid: key.kid })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .sign(key.privateKey),
        'expiry',
      ],
      ['expired 90 s ago', await siteToken(key, { exp: now - 90 }), 'expiry'],
      ['not before 90 s from now', await siteToken(key, { nbf: now + 90 }), 'not-before'],
      ['no sub', await siteToken(key, { sub: undefined }), 'subject'],
      ['not a JWS', 'not-a.json-web.signature', 'format'],
    ];
    const failures: string[] = [];
    const everything: string[] = [];
    for (const [what, token, check] of bad) {
      let answer: { status: number; error?: string; reason?: string; message?: string } = { status: 0 };
      const log = await logOf(async () => {
        answer = await errorOf(await me(token, e));
      });
      everything.push(...log);
      if (answer.status !== 401 || answer.error !== 'unauthorized')
        failures.push(`${what}: ${answer.status} ${answer.error}`);
      // Only a token whose time is up is the user's to fix (sign in again); any other refusal is
      // the site's or the Worker's configuration, and the answer says which check, as the log does.
      const reason = what === 'expired 90 s ago' ? 'site_token_expired' : 'site_token_refused';
      if (answer.reason !== reason) failures.push(`${what}: reason ${answer.reason}, not ${reason}`);
      if (reason === 'site_token_refused' && !answer.message?.includes(`refused (${check})`)) {
        failures.push(`${what}: message ${answer.message}`);
      }
      if (log.length !== 1 || !log[0]?.includes(`refused a site token (${check})`)) {
        failures.push(`${what}: logged ${JSON.stringify(log)}`);
      }
    }
    expect(failures).toEqual([]);
    // No token, nor its signature, is in the log; the line says what a person needs to fix it.
    const log = everything.join('\n');
    const signature = (token: string) => token.split('.')[2] ?? '';
    const leaked = bad.filter(([, t]) => log.includes(t) || (signature(t).length > 20 && log.includes(signature(t))));
    expect(leaked).toEqual([]);
    expect(everything[6]).toContain(`its "iss" is "https://evil.example", not IDENTITY_ISSUER "${ISSUER}"`);
    expect(everything[6]).toContain(`[kid "${key.kid}", alg "ES256"]`);
    // Within the 60 s of clock skew, both ends are tolerated.
    expect((await me(await siteToken(key, { exp: now - 30 }), e)).status).toBe(200);
    expect((await me(await siteToken(key, { nbf: now + 30 }), e)).status).toBe(200);
  });

  it('fetches the JWKS once for many requests, and again only after its max-age (at least 5 minutes)', async () => {
    const key = await siteKey('EdDSA');
    const set = await publish([key], { cacheControl: 'public, max-age=600' });
    const e = jwtEnv({ IDENTITY_JWKS_URL: set.url });
    vi.useFakeTimers({ toFake: ['Date'] });
    const token = await siteToken(key, { exp: Math.floor(Date.now() / 1000) + 3600 });
    await Promise.all(Array.from({ length: 5 }, () => me(token, e)));
    for (let i = 0; i < 5; i++) expect((await me(token, e)).status).toBe(200);
    expect(await set.hits()).toBe(1);
    vi.advanceTimersByTime(9 * 60_000);
    expect((await me(token, e)).status).toBe(200);
    expect(await set.hits()).toBe(1);
    vi.advanceTimersByTime(2 * 60_000);
    expect((await me(token, e)).status).toBe(200);
    expect(await set.hits()).toBe(2);
  });

  it('keeps a set for 5 minutes even when its Cache-Control asks for less', async () => {
    const key = await siteKey('EdDSA');
    const set = await publish([key], { cacheControl: 'max-age=10' });
    const e = jwtEnv({ IDENTITY_JWKS_URL: set.url });
    vi.useFakeTimers({ toFake: ['Date'] });
    const token = await siteToken(key, { exp: Math.floor(Date.now() / 1000) + 3600 });
    expect((await me(token, e)).status).toBe(200);
    vi.advanceTimersByTime(4 * 60_000);
    expect((await me(token, e)).status).toBe(200);
    expect(await set.hits()).toBe(1);
    vi.advanceTimersByTime(2 * 60_000);
    expect((await me(token, e)).status).toBe(200);
    expect(await set.hits()).toBe(2);
  });

  it('refetches for an unknown kid (a rotation), but at most once every 30 s', async () => {
    const first = await siteKey('ES256');
    const second = await siteKey('ES256');
    const name = crypto.randomUUID();
    const set = await publish([first], { name });
    const e = jwtEnv({ IDENTITY_JWKS_URL: set.url });
    vi.useFakeTimers({ toFake: ['Date'] });
    expect((await me(await siteToken(first), e)).status).toBe(200);
    // The site rotates in a second key: the first token with its kid makes one refetch.
    await publish([first, second], { name });
    vi.advanceTimersByTime(31_000);
    expect((await me(await siteToken(second), e)).status).toBe(200);
    expect(await set.hits()).toBe(2);
    // Unknown kids in a burst cause no further fetch within 30 s.
    for (let i = 0; i < 5; i++) {
      expect((await me(await siteToken(first, {}, { kid: `forged-${i}` }), e)).status).toBe(401);
    }
    expect(await set.hits()).toBe(2);
    vi.advanceTimersByTime(31_000);
    expect((await me(await siteToken(first, {}, { kid: 'forged-late' }), e)).status).toBe(401);
    expect(await set.hits()).toBe(3);
  });

  it('answers 503 with Retry-After when the JWKS is unreachable and nothing is cached; serves stale keys otherwise', async () => {
    const key = await siteKey('EdDSA');
    const name = crypto.randomUUID();
    const down = await publish([key], { name, status: 500 });
    const e = jwtEnv({ IDENTITY_JWKS_URL: down.url });
    const res = await me(await siteToken(key), e);
    // The phone tells this from a lost connection, and says the site's keys are the trouble.
    expect(await errorOf(res)).toMatchObject({
      status: 503,
      error: 'service_unavailable',
      reason: 'site_keys_unavailable',
      message: 'The site’s sign-in keys cannot be fetched right now; try again shortly.',
    });
    expect(res.headers.get('Retry-After')).toMatch(/^\d+$/);

    // Up again, it is fetched once the 30 s since the failed fetch have passed; then down past
    // its max-age: the cached keys still serve.
    await publish([key], { name });
    vi.useFakeTimers({ toFake: ['Date'] });
    const token = await siteToken(key, { exp: Math.floor(Date.now() / 1000) + 3600 });
    vi.advanceTimersByTime(31_000);
    expect((await me(token, e)).status).toBe(200);
    await publish([key], { name, status: 500 });
    vi.advanceTimersByTime(6 * 60_000);
    expect((await me(token, e)).status).toBe(200);
  });

  it('is a logged 500 when misconfigured: no issuer or audience, a plain-http remote JWKS, no key source', async () => {
    const key = await siteKey('EdDSA');
    const token = await siteToken(key);
    for (const extra of [
      { IDENTITY_JWKS_URL: 'http://127.0.0.1:1/jwks.json', IDENTITY_ISSUER: '' },
      { IDENTITY_JWKS_URL: 'http://127.0.0.1:1/jwks.json', IDENTITY_AUDIENCE: '' },
      { IDENTITY_JWKS_URL: 'http://site.example/jwks.json' },
      {},
      { IDENTITY_JWT_SECRET: 'short' },
    ]) {
      expect(await errorOf(await me(token, jwtEnv(extra)))).toMatchObject({ status: 500, error: 'server_error' });
    }
    expect(await errorOf(await me(token, { ...jwtEnv(), IDENTITY: 'ldap' }))).toMatchObject({ status: 500 });
  });
});

describe('the site’s JWKS is fetched at most once every 30 s, whatever happens', () => {
  /** `count` requests of `token`, one after the other; their statuses and Retry-After headers. */
  async function many(count: number, token: string, e: ReturnType<typeof jwtEnv>) {
    const answers: string[] = [];
    for (let i = 0; i < count; i++) {
      const res = await me(token, e);
      const retry = Number(res.headers.get('Retry-After'));
      answers.push(res.status === 503 && retry >= 1 && retry <= 30 ? '503 Retry-After' : String(res.status));
    }
    return [...new Set(answers)];
  }

  it('a JWKS that answers HTML, an error, a set without keys, 300 KB or a redirect: 200 requests, one fetch, each 503', async () => {
    const key = await siteKey('EdDSA');
    const token = await siteToken(key, { exp: Math.floor(Date.now() / 1000) + 3600 });
    const good = await publish([key]);
    const failing: [string, PublishOptions, SiteKey[]][] = [
      ['HTML', { answer: 'html' }, [key]],
      ['500', { status: 500 }, [key]],
      ['no keys', {}, []],
      ['300 KB', { answer: 'huge' }, [key]],
      ['a redirect to good keys', { answer: 'redirect', location: good.url }, [key]],
    ];
    vi.useFakeTimers({ toFake: ['Date'] });
    for (const [what, options, keys] of failing) {
      clearJwksCache();
      const set = await publish(keys, options);
      const e = jwtEnv({ IDENTITY_JWKS_URL: set.url });
      expect(await many(200, token, e), what).toEqual(['503 Retry-After']);
      expect(await set.hits(), what).toBe(1);
      // 30 s later, one more fetch (and still no keys).
      vi.advanceTimersByTime(31_000);
      expect(await many(20, token, e), what).toEqual(['503 Retry-After']);
      expect(await set.hits(), what).toBe(2);
    }
    // The keys behind the redirect were never fetched, let alone trusted.
    expect(await good.hits()).toBe(0);
  });

  it('a redirect to keys on another host over http is not followed', async () => {
    const attacker = await siteKey('ES256');
    const served = await publish([attacker]);
    const elsewhere = served.url.replace('127.0.0.1', 'localhost');
    const set = await publish([], { answer: 'redirect', location: elsewhere });
    const res = await me(await siteToken(attacker), jwtEnv({ IDENTITY_JWKS_URL: set.url }));
    expect(await errorOf(res)).toMatchObject({ status: 503, error: 'service_unavailable' });
    expect(await served.hits()).toBe(0);
  });

  it('stale keys and a JWKS that answers 500: the stale keys serve, forged tokens fail, one fetch per 30 s', async () => {
    const key = await siteKey('ES256');
    const stranger = await siteKey('ES256', key.kid);
    const name = crypto.randomUUID();
    const set = await publish([key], { name });
    const e = jwtEnv({ IDENTITY_JWKS_URL: set.url });
    vi.useFakeTimers({ toFake: ['Date'] });
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const token = await siteToken(key, { exp });
    const forged = await siteToken(stranger, { exp });
    const unknownKid = await siteToken(key, { exp }, { kid: 'not-in-the-set' });
    expect((await me(token, e)).status).toBe(200);
    await publish([key], { name, status: 500 });
    vi.advanceTimersByTime(6 * 60_000);
    for (let i = 0; i < 50; i++) {
      expect((await me(token, e)).status).toBe(200);
      expect((await me(forged, e)).status).toBe(401);
      expect((await me(unknownKid, e)).status).toBe(401);
    }
    expect(await set.hits()).toBe(2);
    vi.advanceTimersByTime(31_000);
    expect(await many(20, unknownKid, e)).toEqual(['401']);
    expect(await many(20, token, e)).toEqual(['200']);
    expect(await set.hits()).toBe(3);
  });

  it('a JWKS that hangs: concurrent requests share one fetch, later ones answer 503 at once until 30 s have passed', async () => {
    const key = await siteKey('EdDSA');
    const token = await siteToken(key, { exp: Math.floor(Date.now() / 1000) + 3600 });
    const hangs = [await publish([key], { answer: 'hang' }), await publish([key], { answer: 'hang-body' })];
    vi.useFakeTimers({ toFake: ['Date'] });
    // Both hang at once, so the test waits for one fetch timeout (5 s), not two.
    await Promise.all(
      hangs.map(async (set) => {
        const e = jwtEnv({ IDENTITY_JWKS_URL: set.url });
        const first = await Promise.all(Array.from({ length: 20 }, () => me(token, e)));
        expect(first.map((r) => r.status)).toEqual(Array(20).fill(503));
        expect(await set.hits()).toBe(1);
        // Within the 30 s, nobody waits on the JWKS again, nor fetches it.
        expect(await many(3, token, e)).toEqual(['503 Retry-After']);
        expect(await set.hits()).toBe(1);
      }),
    );
    // 30 s on, the site answers again: one fetch, and the token is accepted.
    vi.advanceTimersByTime(31_000);
    for (const set of hangs) {
      const name = new URL(set.url).pathname.split('/')[2];
      await publish([key], { name });
      expect((await me(token, jwtEnv({ IDENTITY_JWKS_URL: set.url }))).status).toBe(200);
      expect(await set.hits()).toBe(2);
    }
  });
});

/** What `work` wrote to console.warn and console.error. */
async function logOf(work: () => unknown): Promise<string[]> {
  const lines: string[] = [];
  const keep = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
  const warn = vi.spyOn(console, 'warn').mockImplementation(keep);
  const error = vi.spyOn(console, 'error').mockImplementation(keep);
  try {
    await work();
  } finally {
    warn.mockRestore();
    error.mockRestore();
  }
  return lines;
}

describe('IDENTITY=jwt with a shared secret', () => {
  it('accepts HS256 tokens signed with IDENTITY_JWT_SECRET and nothing else', async () => {
    const secret = 'the-site-and-the-worker-share-this-secret-0123456789';
    const e = jwtEnv({ IDENTITY_JWT_SECRET: secret });
    const sign = (key: string, alg = 'HS256') =>
      new SignJWT({ sub: 'u-7', name: 'Grace' })
        .setProtectedHeader({ alg })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('10m')
        .sign(new TextEncoder().encode(key));
    const res = await me(await sign(secret), e);
    expect(await res.json()).toEqual({ id: 'u-7', username: 'u-7', display_name: 'Grace' });
    expect((await me(await sign('another-secret-another-secret-another-secret'), e)).status).toBe(401);
    // A secret kept as base64, which the site signs with decoded while the Worker uses its text:
    // refused, and the answer says it is the site's token, not the user's sign-in, that is wrong.
    const base64 = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    const decoded = await new SignJWT({ sub: 'u-7' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('10m')
      .sign(Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0)));
    expect(await errorOf(await me(decoded, jwtEnv({ IDENTITY_JWT_SECRET: base64 })))).toMatchObject({
      status: 401,
      error: 'unauthorized',
      reason: 'site_token_refused',
      message: expect.stringContaining('refused (signature)'),
    });
    expect((await me(await sign(secret, 'HS512'), e)).status).toBe(401);
  });
});

describe('a whole QR login as the site’s user', () => {
  it('the PC’s token carries the site’s sub; linked devices list and revoke it for that user', async () => {
    const key = await siteKey('EdDSA');
    const { url } = await publish([key]);
    const e = jwtEnv({ IDENTITY_JWKS_URL: url });
    const phone = bearer(await siteToken(key, { sub: `site-${crypto.randomUUID()}` }));

    // There is no password login: accounts are the site's.
    const login = await call(
      '/api/login',
      { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"username":"dong","password":"111"}' },
      e,
    );
    expect(await errorOf(login)).toMatchObject({ status: 404, error: 'not_found' });

    const created = await call('/api/qrcodes', { method: 'POST', headers: { 'User-Agent': PC_UA } }, e);
    const qr = (await created.json()) as QrBody;
    expect((await call(`/api/qrcodes/${qr.qrcode_id}/scan`, { method: 'POST', headers: phone }, e)).status).toBe(200);
    expect((await call(`/api/qrcodes/${qr.qrcode_id}/confirm`, { method: 'POST', headers: phone }, e)).status).toBe(
      200,
    );
    const done = (await (
      await call(`/api/qrcodes/${qr.qrcode_id}/status`, { headers: { 'X-Poll-Token': qr.poll_token } }, e)
    ).json()) as { token: string; user: { id: string; display_name: string } };
    expect(done.user.display_name).toBe('Ada Lovelace');
    const pcToken = done.token;
    const claims = decodeJwt(pcToken);
    expect(claims.sub).toBe(done.user.id);

    // The PC's own token works in jwt mode too.
    expect(await (await me(pcToken, e)).json()).toEqual(done.user);
    const devices = (await (await call('/api/sessions', { headers: phone }, e)).json()) as {
      sid: string;
      via: string;
      current: boolean;
    }[];
    expect(devices).toHaveLength(1);
    expect(devices[0]).toMatchObject({ via: 'qrcode', current: false, sid: claims.sid });
    expect((await call(`/api/sessions/${claims.sid}`, { method: 'DELETE', headers: phone }, e)).status).toBe(204);
    expect((await me(pcToken, e)).status).toBe(401);
  });

  it('accounts mode refuses the site’s tokens', async () => {
    const key = await siteKey('EdDSA');
    const { url } = await publish([key]);
    const qr = await createQr();
    const res = await call(
      `/api/qrcodes/${qr.qrcode_id}/scan`,
      { method: 'POST', headers: bearer(await siteToken(key)) },
      { ...jwtEnv({ IDENTITY_JWKS_URL: url }), IDENTITY: 'accounts' },
    );
    expect(await errorOf(res)).toMatchObject({ status: 401, error: 'unauthorized' });
  });
});
