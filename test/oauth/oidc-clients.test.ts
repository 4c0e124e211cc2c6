/**
 * `OIDC_CLIENTS` and `OIDC_CLIENT_SECRETS`: read once, checked against the contract's list of
 * members, and refused loudly (a logged configuration error naming the client and the fault,
 * a 500 in words) rather than a client silently left out; and a client's authentication by the
 * method it registered.
 */
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { app } from '../../src/app';
import type { Env } from '../../src/env';
import { clientRegistry } from '../../src/oauth/clients';
import { authorizeParams, basicAuth, GRAFANA, pkce, SPA, WIKI } from './oidc-support';
import { authorizeDevice, ORIGIN, oauthErrorOf, postForm } from './support';

const client = (extra: Record<string, unknown> = {}) => ({
  client_id: 'app',
  redirect_uris: ['https://app.example/cb'],
  token_endpoint_auth_method: 'none',
  ...extra,
});

/** The registry of `clients` (JSON-encoded unless a string), with `secrets`. */
const registry = (clients: unknown, secrets?: string, extra: Partial<Env> = {}) =>
  clientRegistry({
    ...env,
    OIDC_CLIENTS: typeof clients === 'string' ? clients : JSON.stringify(clients),
    OIDC_CLIENT_SECRETS: secrets,
    ...extra,
  } as Env);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('reading OIDC_CLIENTS', () => {
  it('fills in the defaults the contract gives', () => {
    const { clients } = registry([{ client_id: 'app', redirect_uris: ['http://127.0.0.1:8080/cb'] }], 'app:s3cret');
    expect(clients.get('app')).toEqual({
      client_id: 'app',
      client_name: 'app',
      redirect_uris: ['http://127.0.0.1:8080/cb'],
      post_logout_redirect_uris: [],
      backchannel_logout_uri: null,
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
      require_pushed_authorization_requests: false,
      dpop_bound_access_tokens: false,
      backchannel_logout_session_required: false,
    });
    expect(registry('').clients.size).toBe(0);
    expect(registry(undefined as unknown as string).clients.size).toBe(0);
  });

  it.each([
    ['not JSON', '[{', /OIDC_CLIENTS is not JSON/],
    ['not an array', { client_id: 'app' }, /must be a JSON array/],
    ['an entry that is no object', ['app'], /entry 0 must be a JSON object/],
    ['no client_id', [{ redirect_uris: ['https://a.example/cb'] }], /entry 0 needs a "client_id"/],
    ['a client_id with a colon', [client({ client_id: 'a:b' })], /without ":" or ","/],
    ['no redirect_uris', [client({ redirect_uris: [] })], /client "app": "redirect_uris" must be a non-empty array/],
    [
      'an http redirect URI',
      [client({ redirect_uris: ['http://app.example/cb'] })],
      /client "app": redirect_uris\[0\] .* must be https/,
    ],
    [
      'a redirect URI with a fragment',
      [client({ redirect_uris: ['https://app.example/cb#x'] })],
      /must not have a fragment/,
    ],
    ['a redirect URI with a user', [client({ redirect_uris: ['https://u@app.example/cb'] })], /user name or password/],
    ['a relative redirect URI', [client({ redirect_uris: ['/cb'] })], /not an absolute URL/],
    [
      'an http logout URI',
      [client({ backchannel_logout_uri: 'http://app.example/logout' })],
      /backchannel_logout_uri .* must be https/,
    ],
    [
      'a bad post-logout URI',
      [client({ post_logout_redirect_uris: ['ftp://app.example/'] })],
      /post_logout_redirect_uris\[0\]/,
    ],
    [
      'an unknown method',
      [client({ token_endpoint_auth_method: 'private_key_jwt' })],
      /"token_endpoint_auth_method" must be one of/,
    ],
    [
      'an unknown algorithm',
      [client({ id_token_signed_response_alg: 'HS256' })],
      /"id_token_signed_response_alg" must be one of/,
    ],
    ['a flag that is no boolean', [client({ require_pushed_authorization_requests: 'yes' })], /must be true or false/],
    [
      'a member it does not know',
      [client({ redirect_uri: 'https://app.example/cb' })],
      /"redirect_uri" is not a member/,
    ],
    ['a client twice', [client(), client()], /client "app" is registered twice/],
    ['a device-flow client’s id', [client({ client_id: 'test-cli' })], /also a device-flow client of OAUTH_CLIENTS/],
    ['the access tokens’ audience as id', [client({ client_id: 'qrcode-login' })], /its client_id is TOKEN_AUDIENCE/],
    [
      'a confidential client without a secret',
      [client({ token_endpoint_auth_method: 'client_secret_post' })],
      /client "app" authenticates with client_secret_post but has no secret/,
    ],
  ])('refuses %s, naming the client and the fault', (_what, clients, message) => {
    expect(() => registry(clients)).toThrow(message);
  });

  it('refuses secrets that name no client, a public client, or the same client twice', () => {
    expect(() => registry([client()], 'app:x')).toThrow(/client "app" is public/);
    expect(() => registry([client()], 'other:x')).toThrow(/"other" is not a client of OIDC_CLIENTS/);
    expect(() => registry([client({ token_endpoint_auth_method: undefined })], 'app:x,app:y')).toThrow(/two secrets/);
    expect(() => registry([client()], 'no-colon')).toThrow(/"client_id:secret"/);
  });

  it('a misconfiguration is logged with its reason and answered 500 in words; the device flow goes on', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const broken = { ...env, OIDC_CLIENTS: JSON.stringify([client({ redirect_uris: ['http://app.example/cb'] })]) };
    const { challenge } = await pkce();
    const page = await app.fetch(
      new Request(`${ORIGIN}/oauth/authorize?${new URLSearchParams(authorizeParams(GRAFANA, challenge))}`),
      broken,
    );
    expect(page.status).toBe(500);
    expect(page.headers.get('Content-Type')).toMatch(/^text\/html/);
    expect(await page.text()).toMatch(/misconfigured/);
    expect(errors).toHaveBeenCalledWith(
      expect.stringMatching(/configuration error: OIDC_CLIENTS: client "app": redirect_uris\[0\]/),
    );
    const token = await app.fetch(
      new Request(`${ORIGIN}/oauth/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=authorization_code&client_id=app&code=x&redirect_uri=x&code_verifier=x',
      }),
      broken,
    );
    expect(await oauthErrorOf(token)).toMatchObject({ status: 500, error: 'server_error' });
    const device = await app.fetch(
      new Request(`${ORIGIN}/oauth/device_authorization`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'CF-Connecting-IP': '203.0.113.77' },
        body: 'client_id=test-cli',
      }),
      broken,
    );
    expect(device.status).toBe(200);
  });
});

describe('client authentication at the token endpoint', () => {
  const codeGrant = (form: Record<string, string>, headers: Record<string, string> = {}) =>
    postForm(
      '/oauth/token',
      { grant_type: 'authorization_code', code: 'c', redirect_uri: 'r', code_verifier: 'v'.repeat(43), ...form },
      headers,
    );

  it.each([
    ['no authentication at all', {}, {}],
    ['an unknown client', {}, basicAuth('nobody', 'x')],
    ['a wrong secret', {}, basicAuth(GRAFANA.id, 'wrong')],
    ['a Basic client sending its secret in the form', { client_id: GRAFANA.id, client_secret: GRAFANA.secret }, {}],
    ['a post client using Basic', {}, basicAuth(WIKI.id, WIKI.secret)],
    ['a post client with a wrong secret', { client_id: WIKI.id, client_secret: 'wrong' }, {}],
    ['a confidential client sending only its id', { client_id: GRAFANA.id }, {}],
    ['a public client sending a secret', { client_id: SPA.id, client_secret: 'x' }, {}],
    ['a Basic header for another client than client_id', { client_id: WIKI.id }, basicAuth(GRAFANA.id, GRAFANA.secret)],
    ['a Bearer header', {}, { Authorization: 'Bearer abc' }],
  ])('refuses %s: 401 invalid_client with WWW-Authenticate: Basic', async (_what, form, headers) => {
    const res = await codeGrant(form, headers);
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toBe('Basic realm="oauth", charset="UTF-8"');
    expect((await oauthErrorOf(res)).error).toBe('invalid_client');
  });

  it('each method that matches gets as far as the code (invalid_grant for a made-up one)', async () => {
    for (const [form, headers] of [
      [{}, basicAuth(GRAFANA.id, GRAFANA.secret)],
      [{ client_id: WIKI.id, client_secret: WIKI.secret }, {}],
      [{ client_id: SPA.id }, {}],
    ] as const) {
      expect(await oauthErrorOf(await codeGrant(form, headers))).toMatchObject({ status: 400, error: 'invalid_grant' });
    }
    // Two methods at once is refused (RFC 6749 §2.3).
    const both = await codeGrant({ client_secret: GRAFANA.secret }, basicAuth(GRAFANA.id, GRAFANA.secret));
    expect(await oauthErrorOf(both)).toMatchObject({ status: 400, error: 'invalid_request' });
  });

  it('a device-flow client keeps working as it did, by its id alone', async () => {
    const auth = await authorizeDevice();
    expect(auth.device_code).toEqual(expect.any(String));
  });
});
