/**
 * Our tokens are verifiable by anyone: EdDSA (or ES256) signatures, the public keys at
 * `/.well-known/jwks.json`, and key rotation through `SIGNING_KEY_PREVIOUS`, with a single
 * key (the form from before the RSA key). The JWK sets and RS256: keys.test.ts.
 */
import { env } from 'cloudflare:workers';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { api, bearer, login, ORIGIN } from '../helpers';
import { devKey, devRsaKey, type Jwk, newKey, PRIVATE_MEMBERS, parts } from './support';

const request = (path: string, init?: RequestInit) => new Request(`${ORIGIN}${path}`, init);

function signInWith(keys: Partial<typeof env>) {
  return app.fetch(
    request('/api/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': '203.0.113.7' },
      body: JSON.stringify({ username: 'guang', password: '222' }),
    }),
    { ...env, ...keys },
  );
}

const meWith = (token: string, keys: Partial<typeof env>) =>
  app.fetch(request('/api/me', { headers: bearer(token) }), { ...env, ...keys });

describe('GET /.well-known/jwks.json', () => {
  it('publishes the Ed25519 and the RSA key with kid, alg and use, cacheable by anyone, never a private part', async () => {
    const res = await api('/.well-known/jwks.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('public, max-age=300');
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
    const text = await res.text();
    const { keys } = JSON.parse(text) as { keys: Jwk[] };
    const ed = devKey();
    const rsa = devRsaKey();
    expect(keys).toEqual([
      { kty: 'OKP', crv: 'Ed25519', x: ed.x, kid: 'development-key-do-not-deploy', alg: 'EdDSA', use: 'sig' },
      { kty: 'RSA', n: rsa.n, e: 'AQAB', kid: 'development-rsa-key-do-not-deploy', alg: 'RS256', use: 'sig' },
    ]);
    for (const member of PRIVATE_MEMBERS) {
      expect(text).not.toContain(`"${member}"`);
      for (const key of [ed, rsa]) if (key[member]) expect(text).not.toContain(key[member]);
    }
  });

  it('lets a backend verify a token with jose alone: the published key, EdDSA, iss and aud', async () => {
    const { token } = await login('dong', '111');
    const jwks = createLocalJWKSet(await (await api('/.well-known/jwks.json')).json());
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: ORIGIN,
      audience: 'qrcode-login',
      algorithms: ['EdDSA', 'ES256'],
      requiredClaims: ['exp', 'sub', 'sid', 'jti'],
    });
    expect(protectedHeader).toEqual({ alg: 'EdDSA', typ: 'JWT', kid: devKey().kid });
    expect(payload).toMatchObject({ sub: 'u_dong', username: 'dong', name: '东东' });
  });
});

describe('TOKEN_ISSUER and TOKEN_AUDIENCE', () => {
  it('name the iss and aud of issued tokens, and only such tokens are accepted', async () => {
    const custom = { TOKEN_ISSUER: 'https://id.example.com', TOKEN_AUDIENCE: 'example-app' };
    const { token } = (await (await signInWith(custom)).json()) as { token: string };
    expect(parts(token).claims).toMatchObject({ iss: 'https://id.example.com', aud: 'example-app' });
    expect((await meWith(token, custom)).status).toBe(200);
    expect((await meWith(token, {})).status).toBe(401);
  });
});

describe('key rotation', () => {
  it('SIGNING_KEY_PREVIOUS still verifies and is published; new tokens use SIGNING_KEY only', async () => {
    const old = devKey();
    const next = (await newKey('EdDSA', 'next-key')).privateJwk;
    const { token: oldToken } = await login('dong', '111');
    const rotated = { SIGNING_KEY: JSON.stringify(next), SIGNING_KEY_PREVIOUS: JSON.stringify(old) };

    // The old token keeps working through the rotation; a new one is signed with the new key.
    expect((await meWith(oldToken, rotated)).status).toBe(200);
    const { token: newToken } = (await (await signInWith(rotated)).json()) as { token: string };
    expect(parts(newToken).header.kid).toBe('next-key');
    expect((await meWith(newToken, rotated)).status).toBe(200);

    const jwks = await app.fetch(request('/.well-known/jwks.json'), { ...env, ...rotated });
    const { keys } = (await jwks.json()) as { keys: Jwk[] };
    expect(keys.map((k) => k.kid)).toEqual(['next-key', old.kid]);
    expect(JSON.stringify(keys)).not.toContain(old.d!);
    expect(JSON.stringify(keys)).not.toContain(next.d!);

    // Once the old key is dropped, its tokens no longer verify.
    expect((await meWith(oldToken, { SIGNING_KEY: JSON.stringify(next) })).status).toBe(401);
  });

  it('refuses a previous key with the same kid as the current one (a logged 500)', async () => {
    const same = (await newKey('EdDSA', devKey().kid)).publicJwk;
    const res = await signInWith({ SIGNING_KEY_PREVIOUS: JSON.stringify(same) });
    expect(res.status).toBe(500);
  });
});
