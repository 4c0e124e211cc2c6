/**
 * No secret is ever written to a log: not the signing key (whole, or its private `d`), not the
 * webhook or site secrets, not a token, whatever the error that is logged carries. Every line
 * the Worker writes to the console while things fail is captured and searched.
 */
import { env } from 'cloudflare:workers';
import { SignJWT } from 'jose';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { app } from '../../src/app';
import { bearer, freshIp, login } from '../helpers';
import { devKeys, PRIVATE_MEMBERS } from '../tokens/support';

const WEBHOOK_SECRET = `whsec_${btoa('a-webhook-secret-that-must-stay-secret!')}`;
const SITE_SECRET = 'the-site-and-the-worker-share-this-secret-0123456789';
const INTROSPECTION_SECRET = 'an-introspection-secret-0123';
const SIGNING_KEY = env.SIGNING_KEY ?? '';
// The private members of the development keys (Ed25519 and RSA): each is a secret on its own.
const PRIVATE_PARTS = Object.fromEntries(
  devKeys().flatMap((k) =>
    PRIVATE_MEMBERS.filter((m) => k[m]).map((m) => [`${k.alg} ${m}`, k[m] as string] as [string, string]),
  ),
);
const D = PRIVATE_PARTS['EdDSA d'] ?? '';

const lines: string[] = [];
beforeEach(() => {
  lines.length = 0;
  const keep = (...args: unknown[]) => {
    lines.push(args.map((a) => (a instanceof Error ? `${a.stack}` : String(a))).join(' '));
  };
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, level).mockImplementation(keep);
  }
});
afterEach(() => vi.restoreAllMocks());

/** A D1 database whose every query fails with `message`, as a real one may (D1 names values it cannot bind). */
function failingDb(message: string): D1Database {
  const fail = (): never => {
    throw new Error(message);
  };
  const statement = { bind: fail, first: fail, run: fail, all: fail, raw: fail };
  return { prepare: () => statement, batch: fail, exec: fail, dump: fail, withSession: fail } as unknown as D1Database;
}

/** A request to a Worker configured with every secret above (with `bindings` on top). */
const run = (path: string, init: RequestInit, bindings: Partial<typeof env>) =>
  app.fetch(new Request(`https://login.example${path}`, init), {
    ...env,
    WEBHOOK_SECRET,
    IDENTITY_JWT_SECRET: SITE_SECRET,
    INTROSPECTION_CLIENTS: `site-backend:${INTROSPECTION_SECRET}`,
    ...bindings,
  });

it('errors that carry secrets and tokens are logged without them', async () => {
  expect(D.length).toBeGreaterThanOrEqual(32);
  expect(Object.keys(PRIVATE_PARTS)).toContain('RS256 qi');
  const { token, refresh_token } = await login('dong', '111');
  const siteToken = await new SignJWT({ sub: 'u-7' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('https://site.example')
    .setAudience('another-app')
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SITE_SECRET));
  const everything =
    `key ${SIGNING_KEY}, private parts ${Object.values(PRIVATE_PARTS).join(' ')}, ${WEBHOOK_SECRET}, ${SITE_SECRET}, ${INTROSPECTION_SECRET}, ` +
    `Bearer ${token}, ${siteToken}, refresh ${refresh_token}`;
  const form = { 'Content-Type': 'application/x-www-form-urlencoded' };

  const answers = [
    // D1 fails with a message that quotes the key and the values it was handed.
    await run(
      '/api/login',
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': freshIp() },
        body: '{"username":"dong","password":"111"}',
      },
      { DB: failingDb(`D1_ERROR: cannot reach the database (${everything})`) },
    ),
    await run(
      '/api/login',
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': freshIp() },
        body: '{"username":"dong","password":"111"}',
      },
      { DB: failingDb(`D1_TYPE_ERROR: Type 'object' not supported for value '${D}'`) },
    ),
    // Something unexpected throws with the same text, on an OAuth route.
    await run(
      '/oauth/device_authorization',
      { method: 'POST', headers: form, body: 'client_id=test-cli' },
      {
        RATE_LIMIT: 'off',
        LOGIN_SESSION: {
          ...env.LOGIN_SESSION,
          newUniqueId: () => {
            throw new TypeError(`unexpected: ${everything}`);
          },
        } as unknown as typeof env.LOGIN_SESSION,
      },
    ),
    // A site token refused (wrong audience) by a Worker that shares the site's secret.
    await run(
      '/api/me',
      { headers: bearer(siteToken) },
      {
        IDENTITY: 'jwt',
        IDENTITY_ISSUER: 'https://site.example',
        IDENTITY_AUDIENCE: 'qr-login',
        IDENTITY_JWT_SECRET: SITE_SECRET,
      },
    ),
    // A misconfigured signing key: its private part is not echoed.
    await run(
      '/api/login',
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': freshIp() },
        body: '{"username":"dong","password":"111"}',
      },
      { SIGNING_KEY: SIGNING_KEY.replace('"EdDSA"', '"HS256"') },
    ),
  ];
  expect(answers.map((r) => r.status)).toEqual([503, 503, 500, 401, 500]);

  // No secret, token or signature is in the log…
  const log = lines.join('\n');
  const secrets = {
    SIGNING_KEY,
    ...PRIVATE_PARTS,
    WEBHOOK_SECRET,
    SITE_SECRET,
    INTROSPECTION_SECRET,
    token,
    siteToken,
    refresh_token,
  };
  const signatures = { 'our token’s signature': token.split('.')[2]!, 'the site token’s': siteToken.split('.')[2]! };
  const found = Object.entries({ ...secrets, ...signatures })
    .filter(([, value]) => log.includes(value))
    .map(([name]) => name);
  expect(found).toEqual([]);
  // …though each failure was logged, with what a person needs to know.
  expect(log).toMatch(/backing service unavailable: D1/);
  expect(log).toMatch(/unexpected error: TypeError/);
  expect(log).toMatch(/refused a site token \(audience\)/);
  expect(log).toMatch(/configuration error: SIGNING_KEY/);
});
