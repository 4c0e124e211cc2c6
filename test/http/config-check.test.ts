/**
 * Configuration mistakes are said, not silent: each kind is found by the check of the folder that
 * owns the variable, named with what would be right, never with a secret's value; and a Worker
 * logs them on its first request, once.
 */
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { app, CONFIG_CHECKS } from '../../src/app';
import type { Env } from '../../src/env';
import { configProblems } from '../../src/http/config-check';
import { ORIGIN } from '../helpers';

const problemsWith = (extra: Partial<Env>, origin: string | null = ORIGIN) =>
  configProblems({ ...env, ...extra } as Env, CONFIG_CHECKS, { origin });

afterEach(() => vi.restoreAllMocks());

describe('the configuration check', () => {
  it('finds nothing wrong in the configuration the tests run with', () => {
    expect(problemsWith({})).toEqual([]);
  });

  // [what, the variables, the variable named, words the message must have]
  const mistakes: [string, Partial<Env>, string, string[]][] = [
    [
      'an allowed origin without its scheme',
      { ALLOWED_ORIGINS: 'https://shop.example, localhost:41100' },
      'ALLOWED_ORIGINS',
      ['"localhost:41100" is not an origin', '"http://localhost:41100"'],
    ],
    [
      'an allowed origin with a path',
      { ALLOWED_ORIGINS: 'https://shop.example/login' },
      'ALLOWED_ORIGINS',
      ['no path', '"https://shop.example"'],
    ],
    ['a wildcard among the allowed origins', { ALLOWED_ORIGINS: '*' }, 'ALLOWED_ORIGINS', ['no wildcard']],
    [
      'a public origin without its scheme',
      { PUBLIC_ORIGIN: 'login.example.com' },
      'PUBLIC_ORIGIN',
      ['"https://login.example.com"'],
    ],
    ['a signing key that is not a JWK', { SIGNING_KEY: 'not json at all' }, 'SIGNING_KEY', ['npm run keygen']],
    ['a lifetime that is not whole seconds', { JWT_TTL_SECONDS: '15m' }, 'JWT_TTL_SECONDS', ['"15m"', 'such as 900']],
    ['a QR lifetime that is not whole seconds', { QR_TTL_SECONDS: '-5' }, 'QR_TTL_SECONDS', ['such as 120']],
    ['an unknown identity source', { IDENTITY: 'ldap' }, 'IDENTITY', ['"accounts" or "jwt"']],
    [
      'IDENTITY=jwt without the issuer',
      { IDENTITY: 'jwt', IDENTITY_AUDIENCE: 'qr', IDENTITY_JWT_SECRET: 'a'.repeat(40) },
      'IDENTITY_ISSUER',
      ['"iss"'],
    ],
    [
      'a site JWKS over plain http',
      { IDENTITY: 'jwt', IDENTITY_ISSUER: 'i', IDENTITY_AUDIENCE: 'a', IDENTITY_JWKS_URL: 'http://shop.example/jwks' },
      'IDENTITY_JWKS_URL',
      ['https'],
    ],
    [
      'a site secret too short',
      { IDENTITY: 'jwt', IDENTITY_ISSUER: 'i', IDENTITY_AUDIENCE: 'a', IDENTITY_JWT_SECRET: 'short-secret' },
      'IDENTITY_JWT_SECRET',
      ['32 bytes or more'],
    ],
    [
      'a site variable without IDENTITY=jwt',
      { IDENTITY_ISSUER: 'https://shop.example' },
      'IDENTITY_ISSUER',
      ['IDENTITY is not "jwt"', 'Set IDENTITY=jwt'],
    ],
    ['half of the webhooks', { WEBHOOK_URL: 'https://hooks.example/in' }, 'WEBHOOK_SECRET', ['set both']],
    [
      'a webhook secret that is not whsec_',
      { WEBHOOK_URL: 'https://hooks.example/in', WEBHOOK_SECRET: 'plain-old-webhook-secret' },
      'WEBHOOK_SECRET',
      ['whsec_'],
    ],
    ['an unknown confirm mode', { CONFIRM_WITH: 'always' }, 'CONFIRM_WITH', ['"passkey-when-risky"']],
    [
      'a passkey domain the Worker is not under',
      { PASSKEY_RP_ID: 'other.example' },
      'PASSKEY_RP_ID',
      ['parent domain'],
    ],
    ['an accent that fades into the page', { SITE_ACCENT: '#ffd700' }, 'SITE_ACCENT', ['less than 3:1']],
    ['a logo of another origin', { SITE_LOGO: 'https://cdn.example/logo.png' }, 'SITE_LOGO', ['under public/']],
    ['a scan URL without {id}', { SCAN_URL_TEMPLATE: 'https://app.example/qr' }, 'SCAN_URL_TEMPLATE', ['{id}']],
    ['a switch that is neither on nor off', { MATCH_CODE: 'yes' }, 'MATCH_CODE', ['"on" or "off"']],
    ['rate limits switched off the wrong way', { RATE_LIMIT: 'false' }, 'RATE_LIMIT', ['"on" or "off"']],
    ['DPoP nonces switched on the wrong way', { DPOP_NONCE: 'true' }, 'DPOP_NONCE', ['"on" or "off"']],
    ['client ids without commas', { OAUTH_CLIENTS: 'cli tv-app' }, 'OAUTH_CLIENTS', ['"cli,tv-app"']],
    ['OpenID clients that are not JSON', { OIDC_CLIENTS: '[{client_id: grafana}]' }, 'OIDC_CLIENTS', ['JSON array']],
    [
      'an OpenID client whose redirect URI is plain http on a public host',
      {
        OIDC_CLIENTS: JSON.stringify([
          {
            client_id: 'wiki',
            client_name: 'Wiki',
            redirect_uris: ['http://wiki.example/cb'],
            token_endpoint_auth_method: 'none',
          },
        ]),
      },
      'OIDC_CLIENTS',
      ['"wiki"'],
    ],
    [
      'an introspection client without its id',
      { INTROSPECTION_CLIENTS: 'only-the-secret-here' },
      'INTROSPECTION_CLIENTS',
      ['id:secret'],
    ],
  ];

  for (const [what, vars, name, words] of mistakes) {
    it(`names ${name} and what would be right: ${what}`, () => {
      const found = problemsWith(vars);
      expect(found.map((p) => p.name)).toEqual([name]);
      for (const word of words) expect(found[0]?.message).toContain(word);
      expect(found[0]?.message.startsWith(name) || found[0]?.message.includes(`${name} `)).toBe(true);
    });
  }

  it('never quotes a secret, only names it', () => {
    const secrets: Partial<Env> = {
      SIGNING_KEY: '{"kty":"OKP","crv":"Ed25519","x":"abc","d":"the-private-part-of-the-key"}',
      IDENTITY: 'jwt',
      IDENTITY_ISSUER: 'i',
      IDENTITY_AUDIENCE: 'a',
      IDENTITY_JWT_SECRET: 'too-short-but-secret',
      WEBHOOK_URL: 'https://hooks.example/in',
      WEBHOOK_SECRET: 'not-whsec-but-secret',
      INTROSPECTION_CLIENTS: 'lonely-secret-without-id',
    };
    const said = problemsWith(secrets)
      .map((p) => p.message)
      .join('\n');
    expect(said).toContain('SIGNING_KEY');
    expect(said).toContain('IDENTITY_JWT_SECRET');
    expect(said).toContain('WEBHOOK_SECRET');
    expect(said).toContain('INTROSPECTION_CLIENTS');
    for (const value of [
      'the-private-part-of-the-key',
      'too-short-but-secret',
      'not-whsec-but-secret',
      'lonely-secret',
    ]) {
      expect(said).not.toContain(value);
    }
  });

  it('is logged on the first request of an isolate, once, naming the variable and what would be right', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const broken = { ...env, ALLOWED_ORIGINS: 'localhost:41100' } as Env;
    for (let i = 0; i < 3; i++) {
      const res = await app.fetch(new Request(`${ORIGIN}/api/config`), broken);
      expect(res.status).toBe(200);
    }
    const lines = error.mock.calls.map((args) => args.join(' '));
    expect(lines).toEqual([
      'configuration: ALLOWED_ORIGINS entry "localhost:41100" is not an origin (no scheme): write it as scheme://host[:port], such as "http://localhost:41100"',
    ]);
  });
});
