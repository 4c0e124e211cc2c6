/**
 * `SIGNING_KEY` as a JWK set: an RSA key (RS256, 2048 bits or more) beside the Ed25519 one,
 * both published, each signing what asks for its algorithm (an id_token, a logout token) while
 * access tokens keep the Ed25519 key; rotation of both through `SIGNING_KEY_PREVIOUS`; and a
 * malformed set refused with a logged reason that names the secret.
 */
import { env } from 'cloudflare:workers';
import { Hono } from 'hono';
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { app } from '../../src/app';
import type { AppEnv } from '../../src/http/app-env';
import { ConfigError } from '../../src/http/errors';
import { type SigningAlg, signingAlgs } from '../../src/tokens/keys';
import { issueIdToken, signWith } from '../../src/tokens/signing';
import { bearer, freshIp, login, ORIGIN } from '../helpers';
import { devKey, devRsaKey, signWith as forge, type Jwk, newKey, PRIVATE_MEMBERS, parts } from './support';

type Keys = Partial<Pick<typeof env, 'SIGNING_KEY' | 'SIGNING_KEY_PREVIOUS'>>;
const withKeys = (keys: Keys) => ({ ...env, ...keys });
const set = (...keys: Jwk[]) => JSON.stringify({ keys });
const publicHalf = (jwk: Jwk): Jwk =>
  Object.fromEntries(Object.entries(jwk).filter(([m]) => !(PRIVATE_MEMBERS as readonly string[]).includes(m))) as Jwk;

const request = (path: string, init?: RequestInit) => new Request(`${ORIGIN}${path}`, init);
const signIn = (keys: Keys) =>
  app.fetch(
    request('/api/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': freshIp() },
      body: JSON.stringify({ username: 'dong', password: '111' }),
    }),
    withKeys(keys),
  );
const me = (token: string, keys: Keys) => app.fetch(request('/api/me', { headers: bearer(token) }), withKeys(keys));
async function published(keys: Keys): Promise<JSONWebKeySet & { keys: Jwk[] }> {
  const res = await app.fetch(request('/.well-known/jwks.json'), withKeys(keys));
  expect(res.status).toBe(200);
  return res.json();
}

/** What a backend does with an id_token: the published keys, only the algorithms it expects. */
const verifyWithJwks = (token: string, jwks: JSONWebKeySet, algorithms: SigningAlg[]) =>
  jwtVerify(token, createLocalJWKSet(jwks), { issuer: ORIGIN, audience: 'a-client', algorithms });

const claims = () => {
  const iat = Math.floor(Date.now() / 1000);
  return { iss: ORIGIN, aud: 'a-client', sub: 'u_dong', sid: 's-1', iat, exp: iat + 120 };
};

/** An id_token for dong as `issueIdToken` makes it for a client, with `alg` (or the default). */
async function idToken(keys: Keys, alg?: SigningAlg): Promise<Response> {
  const user = { id: 'u_dong', username: 'dong', display_name: '东东' };
  const route = new Hono<AppEnv>().get('/', async (c) =>
    c.text(await issueIdToken(c, { user, sid: 's-1', clientId: 'a-client', authTimeMs: Date.now() - 5_000, alg })),
  );
  return route.fetch(request('/'), withKeys(keys));
}

describe('the development keys (.dev.vars)', () => {
  it('are an Ed25519 key that signs access tokens and an RSA key of 2048 bits, both published', async () => {
    expect([devKey().kid, devRsaKey().kid]).toEqual([
      'development-key-do-not-deploy',
      'development-rsa-key-do-not-deploy',
    ]);
    expect(atob(devRsaKey().n!.replace(/-/g, '+').replace(/_/g, '/')).length * 8).toBe(2048);
    const { token } = await login('dong', '111');
    expect(parts(token).header).toEqual({ alg: 'EdDSA', typ: 'JWT', kid: devKey().kid });
    expect((await published({})).keys.map((k) => [k.kty, k.alg, k.kid])).toEqual([
      ['OKP', 'EdDSA', devKey().kid],
      ['RSA', 'RS256', devRsaKey().kid],
    ]);
    expect(signingAlgs(env)).toEqual(['EdDSA', 'RS256']);
  });
});

describe('signing with a chosen algorithm', () => {
  it('an RS256 id_token verifies with jose against the published JWKS, RS256 only', async () => {
    const res = await idToken({}, 'RS256');
    expect(res.status).toBe(200);
    const token = await res.text();
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', typ: 'JWT', kid: devRsaKey().kid });
    const { payload } = await verifyWithJwks(token, await published({}), ['RS256']);
    expect(payload).toMatchObject({ sub: 'u_dong', aud: 'a-client', sid: 's-1', name: '东东' });
    // A backend that expects RS256 refuses the same claims signed EdDSA, and the other way round.
    const ed = await (await idToken({}, 'EdDSA')).text();
    await expect(verifyWithJwks(ed, await published({}), ['RS256'])).rejects.toThrow(/alg/);
    await expect(verifyWithJwks(token, await published({}), ['EdDSA'])).rejects.toThrow(/alg/);
  });

  it('issueIdToken without an algorithm signs RS256 (OpenID Connect Core §15.1), while access tokens stay EdDSA', async () => {
    const token = await (await idToken({})).text();
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', kid: devRsaKey().kid });
  });

  it('signWith signs with each key of the set, and each verifies with the published JWKS', async () => {
    const ec = (await newKey('ES256', 'p256-now')).privateJwk;
    const keys = { SIGNING_KEY: set(ec, devRsaKey(), devKey()) };
    const jwks = await published(keys);
    for (const [alg, kid] of [
      ['ES256', 'p256-now'],
      ['RS256', devRsaKey().kid],
      ['EdDSA', devKey().kid],
    ] as const) {
      const token = await signWith(withKeys(keys), alg, claims());
      expect(decodeProtectedHeader(token)).toEqual({ alg, typ: 'JWT', kid });
      expect((await verifyWithJwks(token, jwks, [alg])).payload.sid).toBe('s-1');
    }
    // Access tokens: the set's first EdDSA or ES256 key, wherever the RSA key stands.
    const { token } = (await (await signIn(keys)).json()) as { token: string };
    expect(parts(token).header).toMatchObject({ alg: 'ES256', kid: 'p256-now' });
    expect((await me(token, keys)).status).toBe(200);
  });

  it('an algorithm SIGNING_KEY has no key for is a configuration error naming the secret', async () => {
    const single = { SIGNING_KEY: JSON.stringify(devKey()) };
    for (const alg of ['RS256', 'ES256'] as const) {
      const failed = signWith(withKeys(single), alg, claims());
      await expect(failed).rejects.toBeInstanceOf(ConfigError);
      await expect(failed).rejects.toThrow(`SIGNING_KEY has no ${alg} key`);
    }
  });

  it('a token of ours is checked with the key its kid names, by that key’s algorithm only', async () => {
    const { token } = await login('dong', '111');
    const claimsOf = parts(token).claims;
    const stranger = (await newKey('RS256', devRsaKey().kid)).privateJwk;
    const rsaKid = { alg: 'RS256', typ: 'JWT', kid: devRsaKey().kid };
    // The same claims signed with our RSA key verify; a stranger's RSA key, or another algorithm
    // in the header for our RSA key's kid, do not.
    expect((await me(await forge(devRsaKey(), rsaKid, claimsOf), {})).status).toBe(200);
    expect((await me(await forge(stranger, rsaKid, claimsOf), {})).status).toBe(401);
    expect((await me(await forge(devKey(), { ...rsaKid, alg: 'EdDSA' }, claimsOf), {})).status).toBe(401);
    expect((await me(await forge(devRsaKey(), { ...rsaKid, alg: 'PS256' }, claimsOf), {})).status).toBe(401);
  });
});

describe('key rotation with sets', () => {
  it('the previous Ed25519 and RSA keys still verify and are published; only the new ones sign', async () => {
    const old = { SIGNING_KEY: env.SIGNING_KEY };
    const { token: oldAccess } = await login('dong', '111');
    const oldIdToken = await (await idToken(old, 'RS256')).text();
    const next = [(await newKey('EdDSA', 'next-ed')).privateJwk, (await newKey('RS256', 'next-rsa')).privateJwk];
    // The old keys' public halves are enough, as the JWKS gives them (`jq -c '{keys: .keys[:2]}'`).
    const oldPublic = JSON.stringify({ keys: (await published(old)).keys.slice(0, 2) });
    const rotated = { SIGNING_KEY: set(...next), SIGNING_KEY_PREVIOUS: oldPublic };

    const jwks = await published(rotated);
    expect(jwks.keys.map((k) => k.kid)).toEqual(['next-ed', 'next-rsa', devKey().kid, devRsaKey().kid]);
    for (const member of PRIVATE_MEMBERS) expect(JSON.stringify(jwks)).not.toContain(`"${member}"`);
    // Tokens signed before the rotation keep verifying, with either algorithm…
    expect((await me(oldAccess, rotated)).status).toBe(200);
    expect((await verifyWithJwks(oldIdToken, jwks, ['RS256'])).protectedHeader.kid).toBe(devRsaKey().kid);
    // …and new ones are signed with the new keys only.
    const { token: newAccess } = (await (await signIn(rotated)).json()) as { token: string };
    expect(parts(newAccess).header.kid).toBe('next-ed');
    const newIdToken = await (await idToken(rotated, 'RS256')).text();
    expect(decodeProtectedHeader(newIdToken).kid).toBe('next-rsa');
    expect((await verifyWithJwks(newIdToken, jwks, ['RS256'])).payload.sub).toBe('u_dong');

    // Once the previous keys are dropped, their tokens no longer verify.
    const after = { SIGNING_KEY: rotated.SIGNING_KEY };
    expect((await me(oldAccess, after)).status).toBe(401);
    await expect(verifyWithJwks(oldIdToken, await published(after), ['RS256'])).rejects.toThrow(/no applicable key/i);
  });

  it('the first step, the current keys published as the previous ones too, changes nothing', async () => {
    const jwks = await published({});
    const firstStep = { SIGNING_KEY_PREVIOUS: JSON.stringify({ keys: jwks.keys.slice(0, 2) }) };
    expect(await published(firstStep)).toEqual(jwks);
    const { token } = (await (await signIn(firstStep)).json()) as { token: string };
    expect((await me(token, firstStep)).status).toBe(200);
  });

  it('a single key rotates to a set, and a set back to a single key', async () => {
    const single = { SIGNING_KEY: JSON.stringify(devKey()) };
    const { token } = (await (await signIn(single)).json()) as { token: string };
    const next = [(await newKey('EdDSA', 'next-ed')).privateJwk, (await newKey('RS256', 'next-rsa')).privateJwk];
    const toSet = { SIGNING_KEY: set(...next), SIGNING_KEY_PREVIOUS: JSON.stringify(publicHalf(devKey())) };
    expect((await me(token, toSet)).status).toBe(200);
    const back = { SIGNING_KEY: JSON.stringify(devKey()), SIGNING_KEY_PREVIOUS: set(...next.map(publicHalf)) };
    const { token: fromSet } = (await (await signIn(toSet)).json()) as { token: string };
    expect((await me(fromSet, back)).status).toBe(200);
    expect((await published(back)).keys.map((k) => k.kid)).toEqual([devKey().kid, 'next-ed', 'next-rsa']);
  });
});

describe('a malformed SIGNING_KEY or SIGNING_KEY_PREVIOUS', () => {
  const logged: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    logged.length = 0;
  });
  let small: Jwk;
  let stranger: Jwk;
  beforeAll(async () => {
    small = (await newKey('RS256', 'small-rsa', 1024)).privateJwk;
    stranger = (await newKey('EdDSA', 'another-ed')).privateJwk;
  });

  it('is refused with a 500 and a logged reason naming the secret and what would be right', async () => {
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void logged.push(args.join(' ')));
    const ed = devKey();
    const rsa = devRsaKey();
    const { d: _d, ...rsaWithoutD } = rsa;
    const { p: _p, ...rsaWithoutP } = rsa;
    const cases: [Keys, RegExp][] = [
      [
        { SIGNING_KEY: set(ed, small) },
        /SIGNING_KEY's key 2 \(kid "small-rsa"\) is an RSA key of 1024 bits: RS256 needs 2048 or more/,
      ],
      [
        { SIGNING_KEY: set(ed, stranger) },
        /SIGNING_KEY has two EdDSA keys \("development-key-do-not-deploy" and "another-ed"\): at most one per algorithm/,
      ],
      [{ SIGNING_KEY: set(ed, { ...rsa, kid: undefined } as unknown as Jwk) }, /SIGNING_KEY's key 2 needs a "kid"/],
      [
        { SIGNING_KEY: set(ed, { ...rsa, kid: ed.kid }) },
        /SIGNING_KEY has two keys with kid "development-key-do-not-deploy"/,
      ],
      [
        { SIGNING_KEY: set(ed, { ...rsa, alg: 'EdDSA' }) },
        /key 2 \(kid "development-rsa-key-do-not-deploy"\) with alg EdDSA must be kty OKP, crv Ed25519/,
      ],
      [
        { SIGNING_KEY: set({ ...ed, alg: 'RS256' }, rsa) },
        /key 1 \(kid "development-key-do-not-deploy"\) with alg RS256 must be kty RSA/,
      ],
      [
        { SIGNING_KEY: set(ed, { ...rsa, alg: 'PS256' }) },
        /has alg PS256: only EdDSA \(Ed25519\), ES256 \(P-256\) and RS256 \(RSA\) sign/,
      ],
      [{ SIGNING_KEY: set(ed, rsaWithoutD as Jwk) }, /key 2 .* lacks its "d" part \(it must be the private key\)/],
      [{ SIGNING_KEY: set(ed, rsaWithoutP as Jwk) }, /key 2 .* lacks its "p" part \(it must be the private key\)/],
      [
        { SIGNING_KEY: set(rsa) },
        /SIGNING_KEY has no EdDSA \(Ed25519\) or ES256 \(P-256\) key, which access tokens are signed with/,
      ],
      [{ SIGNING_KEY: JSON.stringify(rsa) }, /SIGNING_KEY has no EdDSA \(Ed25519\) or ES256 \(P-256\) key/],
      [{ SIGNING_KEY: '{"keys":[]}' }, /SIGNING_KEY has "keys" but not a list of 1 to 10 JWKs/],
      [{ SIGNING_KEY: '{"keys":{}}' }, /SIGNING_KEY has "keys" but not a list/],
      [
        { SIGNING_KEY_PREVIOUS: set(publicHalf(stranger), publicHalf({ ...stranger, kid: rsa.kid, alg: 'EdDSA' })) },
        /SIGNING_KEY_PREVIOUS has another key with kid "development-rsa-key-do-not-deploy" than SIGNING_KEY has/,
      ],
      [
        { SIGNING_KEY_PREVIOUS: set(publicHalf(small)) },
        /SIGNING_KEY_PREVIOUS's key 1 \(kid "small-rsa"\) is an RSA key of 1024 bits/,
      ],
    ];
    const everything: string[] = [];
    for (const [keys, reason] of cases) {
      logged.length = 0;
      const res = await signIn(keys);
      expect(res.status, String(reason)).toBe(500);
      expect(await res.json()).toMatchObject({ error: 'server_error' });
      expect(logged.join('\n')).toMatch(reason);
      expect((await app.fetch(request('/.well-known/jwks.json'), withKeys(keys))).status).toBe(500);
      everything.push(...logged);
    }
    // Nothing private of the keys reached the log.
    for (const key of [ed, rsa, small, stranger]) {
      for (const member of PRIVATE_MEMBERS) if (key[member]) expect(everything.join('\n')).not.toContain(key[member]);
    }
  });

  it('a previous set may hold several keys of one algorithm, and only their public halves', async () => {
    const older = (await newKey('EdDSA', 'older-ed')).publicJwk;
    const keys = { SIGNING_KEY_PREVIOUS: set(publicHalf(stranger), older) };
    expect((await published(keys)).keys.map((k) => k.kid)).toEqual([
      devKey().kid,
      devRsaKey().kid,
      'another-ed',
      'older-ed',
    ]);
    expect((await signIn(keys)).status).toBe(200);
  });
});
