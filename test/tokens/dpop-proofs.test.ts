/**
 * Bad DPoP proofs (RFC 9449 §4.3): each is refused with the RFC's error and changes nothing —
 * at the token endpoint (400 `invalid_dpop_proof`, the refresh token unspent and its session
 * alive), at a resource (401 with `WWW-Authenticate: DPoP error=…, algs="ES256 EdDSA"`), and
 * the replay store that refuses a `jti` twice wherever the proof is replayed from.
 */
import { createExecutionContext, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { api, bearer, login, ORIGIN } from '../helpers';
import { authorizeDevice, CLIENT_ID, DEVICE_CODE_GRANT, oauthErrorOf, phoneAnswers, postForm } from '../oauth/support';
import { REFRESH_GRANT } from '../sessions/support';
import { type DpopKey, dpopAuth, dpopKey, hmacJws, type ProofOptions, proof, unsignedJws } from './dpop-support';

interface Tokens {
  access_token: string;
  refresh_token: string;
  token_type: string;
}

/** A device signed in with its token poll proved by `key`: tokens bound to it. */
async function boundDevice(key: DpopKey): Promise<Tokens> {
  const auth = await authorizeDevice(CLIENT_ID, 'openid');
  await phoneAnswers(auth, 'confirm');
  const res = await postForm(
    '/oauth/token',
    { grant_type: DEVICE_CODE_GRANT, device_code: auth.device_code, client_id: CLIENT_ID },
    { DPoP: await proof(key, 'POST', '/oauth/token') },
  );
  expect(res.status).toBe(200);
  return res.json();
}

const refreshWith = (refreshToken: string, headers: Record<string, string>) =>
  postForm('/oauth/token', { grant_type: REFRESH_GRANT, refresh_token: refreshToken, client_id: CLIENT_ID }, headers);

/** A proof of `key` in a few words: what each row of the tables changes. */
type BadProof = (key: DpopKey, method: string, path: string, accessToken?: string) => Promise<string>;

const withOptions =
  (options: ProofOptions): BadProof =>
  (key, method, path, accessToken) =>
    proof(key, method, path, { accessToken, ...options });

/** The claims a good proof would carry, for the forged ones. */
const claimsOf = (method: string, path: string) => ({
  htm: method,
  htu: `https://login.example${path}`,
  jti: crypto.randomUUID(),
  iat: Math.floor(Date.now() / 1000),
});

/** Every bad proof the issue names, and what it tries. */
const BAD_PROOFS: [string, BadProof][] = [
  ['alg: none', async (key, method, path) => unsignedJws({ typ: 'dpop+jwt', jwk: key.jwk }, claimsOf(method, path))],
  [
    'HS256 (a shared secret)',
    async (key, method, path) => hmacJws({ typ: 'dpop+jwt', jwk: key.jwk }, claimsOf(method, path)),
  ],
  [
    'a private key in the header',
    async (key, method, path, token) => {
      const { exportJWK } = await import('jose');
      const privateJwk = await exportJWK(key.pair.privateKey);
      return proof(key, method, path, { accessToken: token, header: { jwk: privateJwk } });
    },
  ],
  ['typ JWT instead of dpop+jwt', withOptions({ header: { typ: 'JWT' } })],
  ['the wrong htm', withOptions({ claims: { htm: 'PUT' } })],
  ['the wrong htu', withOptions({ claims: { htu: 'https://login.example/somewhere/else' } })],
  ['another host in htu', withOptions({ claims: { htu: 'https://evil.example/oauth/token' } })],
  ['a stale iat (2 minutes old)', withOptions({ iatOffset: -120 })],
  ['a future iat (2 minutes ahead)', withOptions({ iatOffset: 120 })],
  ['no jti', withOptions({ claims: { jti: undefined } })],
  ['a 10 KB proof', withOptions({ claims: { padding: 'x'.repeat(10 * 1024) } })],
  [
    'a signature of another key',
    async (key, method, path, token) => {
      const other = await dpopKey();
      const good = await proof(other, method, path, { accessToken: token, header: { jwk: key.jwk } });
      return good;
    },
  ],
];

describe('bad proofs at the token endpoint: 400 invalid_dpop_proof, nothing spent', () => {
  it.each(BAD_PROOFS)('refuses %s, and the refresh token still refreshes', async (_name, bad) => {
    const key = await dpopKey();
    const tokens = await boundDevice(key);
    const refused = await refreshWith(tokens.refresh_token, { DPoP: await bad(key, 'POST', '/oauth/token') });
    expect(await oauthErrorOf(refused)).toMatchObject({ status: 400, error: 'invalid_dpop_proof' });
    // Nothing was spent and nobody was signed out: the access token works, the refresh token refreshes.
    const me = await api('/api/me', { headers: await dpopAuth(key, tokens.access_token, 'GET', '/api/me') });
    expect(me.status).toBe(200);
    const renewed = await refreshWith(tokens.refresh_token, { DPoP: await proof(key, 'POST', '/oauth/token') });
    expect(renewed.status).toBe(200);
  });

  it('refuses a replayed proof (a jti seen before), and the refresh token still refreshes', async () => {
    const key = await dpopKey();
    const tokens = await boundDevice(key);
    const once = await proof(key, 'POST', '/oauth/token');
    // Its first use: a good proof beside an unknown refresh token (refused for the token).
    const first = await refreshWith('not-a-refresh-token', { DPoP: once });
    expect(await oauthErrorOf(first)).toMatchObject({ error: 'invalid_grant' });
    const replayed = await refreshWith(tokens.refresh_token, { DPoP: once });
    expect(await oauthErrorOf(replayed)).toMatchObject({ status: 400, error: 'invalid_dpop_proof' });
    expect((await refreshWith(tokens.refresh_token, { DPoP: await proof(key, 'POST', '/oauth/token') })).status).toBe(
      200,
    );
  });

  it('refuses a refresh without a proof, or with a good proof of another key, as invalid_grant; nothing is revoked', async () => {
    const key = await dpopKey();
    const tokens = await boundDevice(key);
    const without = await refreshWith(tokens.refresh_token, {});
    expect(await oauthErrorOf(without)).toMatchObject({ status: 400, error: 'invalid_grant' });
    const thief = await dpopKey('EdDSA');
    const other = await refreshWith(tokens.refresh_token, { DPoP: await proof(thief, 'POST', '/oauth/token') });
    expect(await oauthErrorOf(other)).toMatchObject({ status: 400, error: 'invalid_grant' });
    const renewed = await refreshWith(tokens.refresh_token, { DPoP: await proof(key, 'POST', '/oauth/token') });
    expect(renewed.status).toBe(200);
    const next = (await renewed.json()) as Tokens;
    expect(next.token_type).toBe('DPoP');

    // A rotated-out token copied later, without the key, is not taken for theft: the session lives on.
    const late = await refreshWith(tokens.refresh_token, {});
    expect(await oauthErrorOf(late)).toMatchObject({ error: 'invalid_grant' });
    expect((await refreshWith(next.refresh_token, { DPoP: await proof(key, 'POST', '/oauth/token') })).status).toBe(
      200,
    );
  });
});

describe('good proofs', () => {
  it('takes alg Ed25519 (the fully specified name of EdDSA) as well as ES256 and EdDSA', async () => {
    const { generateKeyPair, exportJWK, calculateJwkThumbprint } = await import('jose');
    const pair = await generateKeyPair('Ed25519', { extractable: true });
    const jwk = await exportJWK(pair.publicKey);
    const key: DpopKey = { alg: 'EdDSA', pair, jwk, jkt: await calculateJwkThumbprint(jwk) };
    const tokens = await boundDevice(key);
    const signed = await proof(key, 'GET', '/api/me', { accessToken: tokens.access_token, header: { alg: 'Ed25519' } });
    const res = await api('/api/me', { headers: { Authorization: `DPoP ${tokens.access_token}`, DPoP: signed } });
    expect(res.status).toBe(200);
  });
});

describe('bad proofs at a resource: 401 with WWW-Authenticate: DPoP', () => {
  const challenge = (res: Response) => res.headers.get('WWW-Authenticate') ?? '';

  it.each([
    ...BAD_PROOFS,
    ['the wrong ath', withOptions({ claims: { ath: 'A'.repeat(43) } })] as [string, BadProof],
    ['no ath', withOptions({ claims: { ath: undefined } })] as [string, BadProof],
  ])('refuses %s, and the session stays signed in', async (_name, bad) => {
    const key = await dpopKey();
    const tokens = await boundDevice(key);
    const refused = await api('/api/me', {
      headers: {
        Authorization: `DPoP ${tokens.access_token}`,
        DPoP: await bad(key, 'GET', '/api/me', tokens.access_token),
      },
    });
    expect(refused.status).toBe(401);
    expect(challenge(refused)).toMatch(
      /^DPoP error="invalid_dpop_proof", error_description="[^"]*", algs="ES256 EdDSA"$/,
    );
    expect(await refused.json()).toMatchObject({ error: 'invalid_dpop_proof' });
    const me = await api('/api/me', { headers: await dpopAuth(key, tokens.access_token, 'GET', '/api/me') });
    expect(me.status).toBe(200);
  });

  it('refuses a replayed proof, a proof of another key, and no proof at all', async () => {
    const key = await dpopKey();
    const tokens = await boundDevice(key);
    const once = await dpopAuth(key, tokens.access_token, 'GET', '/api/me');
    expect((await api('/api/me', { headers: once })).status).toBe(200);
    const replayed = await api('/api/me', { headers: once });
    expect(replayed.status).toBe(401);
    expect(challenge(replayed)).toContain('error="invalid_dpop_proof"');

    const thief = await dpopKey();
    const stolen = await api('/api/me', { headers: await dpopAuth(thief, tokens.access_token, 'GET', '/api/me') });
    expect(stolen.status).toBe(401);
    expect(challenge(stolen)).toContain('error="invalid_dpop_proof"');

    const bare = await api('/api/me', { headers: { Authorization: `DPoP ${tokens.access_token}` } });
    expect(bare.status).toBe(401);
    expect(challenge(bare)).toContain('error="invalid_dpop_proof"');
  });

  it('refuses a bound token sent as Bearer with 401 invalid_token, everywhere', async () => {
    const key = await dpopKey();
    const tokens = await boundDevice(key);
    for (const path of ['/api/me', '/api/sessions']) {
      const res = await api(path, { headers: bearer(tokens.access_token) });
      expect(res.status).toBe(401);
      expect(challenge(res)).toMatch(/^DPoP error="invalid_token"/);
      expect(await res.json()).toMatchObject({ error: 'invalid_token' });
    }
    const info = await api('/oauth/userinfo', { headers: bearer(tokens.access_token) });
    expect(await oauthErrorOf(info)).toMatchObject({ status: 401, error: 'invalid_token' });
    expect(challenge(info)).toMatch(/^DPoP error="invalid_token"/);
    const watch = await api('/api/sessions/watch', { headers: bearer(tokens.access_token) });
    expect(watch.status).toBe(401);
    // With the key, the linked devices answer.
    const sessions = await api('/api/sessions', {
      headers: await dpopAuth(key, tokens.access_token, 'GET', '/api/sessions'),
    });
    expect(sessions.status).toBe(200);
  });

  it('refuses a bearer token sent as DPoP, and takes it as Bearer as before', async () => {
    const auth = await authorizeDevice(CLIENT_ID);
    await phoneAnswers(auth, 'confirm');
    const res = await postForm('/oauth/token', {
      grant_type: DEVICE_CODE_GRANT,
      device_code: auth.device_code,
      client_id: CLIENT_ID,
    });
    const tokens = (await res.json()) as Tokens;
    expect(tokens.token_type).toBe('Bearer');
    expect(decodeJwt(tokens.access_token).cnf).toBeUndefined();
    const key = await dpopKey();
    const asDpop = await api('/api/me', { headers: await dpopAuth(key, tokens.access_token, 'GET', '/api/me') });
    expect(asDpop.status).toBe(401);
    expect((await api('/api/me', { headers: bearer(tokens.access_token) })).status).toBe(200);
  });
});

/** The replay store's namespace, with every object failing as a reset object does. */
function brokenReplayStore(): DurableObjectNamespace {
  const fail = () => Promise.reject(new Error('Network connection lost.'));
  const stub = new Proxy({}, { get: (_target, prop) => (prop === 'then' ? undefined : fail) });
  return {
    idFromName: (name: string) => env.DPOP_REPLAY.idFromName(name),
    get: () => stub,
  } as unknown as DurableObjectNamespace;
}

describe('the replay store (DpopReplay)', () => {
  it('is one object per key, named by its thumbprint, that refuses a jti twice and forgets it after the window', async () => {
    const key = await dpopKey();
    const stub = env.DPOP_REPLAY.get(env.DPOP_REPLAY.idFromName(key.jkt));
    const until = Date.now() + 61_000;
    expect(await stub.remember('j-1', until)).toBe(true);
    expect(await stub.remember('j-1', until)).toBe(false);
    expect(await stub.remember('j-2', until)).toBe(true);
    // After the window the alarm forgets them, and an object with nothing left is emptied.
    await runInDurableObject(stub, async (_instance, state) => {
      for (const [k] of state.storage.kv.list<number>({ prefix: 'jti:' })) state.storage.kv.put(k, Date.now() - 1);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const left = await runInDurableObject(stub, (_instance, state) => [...state.storage.kv.list()].length);
    expect(left).toBe(0);
    expect(await runDurableObjectAlarm(stub)).toBe(false);
  });

  it('is off the path of requests without a DPoP header: with it down, Bearer requests still answer', async () => {
    const { token } = await login();
    const key = await dpopKey();
    const tokens = await boundDevice(key);
    const down = { ...env, DPOP_REPLAY: brokenReplayStore() };
    const call = (headers: Record<string, string>) =>
      app.fetch(new Request(`${ORIGIN}/api/me`, { headers }), down, createExecutionContext());
    expect((await call(bearer(token))).status).toBe(200);
    // A bound token's request needs the store: 503, never a proof let through unchecked.
    const bound = await call(await dpopAuth(key, tokens.access_token, 'GET', '/api/me'));
    expect(bound.status).toBe(503);
  });
});
