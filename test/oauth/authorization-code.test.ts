/**
 * The authorization code flow driven by openid-client, a relying party nobody here wrote, with
 * its usual configuration: discovery, the authorize URL (code + PKCE S256 + nonce + state), the
 * browser's sign-in by scan (the page's API and the phone's, as the page and the phone call
 * them), the code exchange with its id_token checked by the library, userinfo, a refresh and a
 * revocation.
 */
import { createRemoteJWKSet, customFetch, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { describe, expect, it } from 'vitest';
import { act, api, bearer, login } from '../helpers';
import { introspect, inUserObject, refresh } from '../sessions/support';
import { devRsaKey } from '../tokens/support';
import {
  authorizeParams,
  basicAuth,
  exchange,
  GRAFANA,
  pageStart,
  phoneDoes,
  pkce,
  pollStatus,
  redirectParams,
  SPA,
  signInByScan,
  WIKI,
} from './oidc-support';
import { authorizeDevice, ORIGIN, oauthErrorOf, phoneAnswers, pollToken, postForm, workerFetch } from './support';

const issuer = new URL(ORIGIN);

const discover = (id: string, secret: string | undefined, auth: client.ClientAuth) =>
  client.discovery(issuer, id, secret, auth, { [client.customFetch]: workerFetch });

/** The browser's whole trip for `url`: the authorize page, the page's QR, the phone's scan; where it ends. */
async function browserSignsIn(url: URL, user: [string, string] = ['dong', '111']) {
  const page = await api(url.pathname + url.search, { redirect: 'manual' });
  expect(page.status).toBe(200);
  expect(page.headers.get('Content-Type')).toMatch(/^text\/html/);
  expect(page.headers.get('Content-Security-Policy')).toContain("frame-ancestors 'none'");
  const signedIn = await signInByScan(Object.fromEntries(url.searchParams), user);
  return { ...signedIn, url: new URL(signedIn.redirect_to) };
}

describe('openid-client signs a user in by scan', () => {
  it('code + PKCE + nonce: the id_token it validates, userinfo, a refresh, then a revocation', async () => {
    const config = await discover(GRAFANA.id, GRAFANA.secret, client.ClientSecretBasic(GRAFANA.secret));
    expect(config.serverMetadata()).toMatchObject({
      authorization_endpoint: `${ORIGIN}/oauth/authorize`,
      pushed_authorization_request_endpoint: `${ORIGIN}/oauth/par`,
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
    });
    const verifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: GRAFANA.redirect,
      scope: 'openid profile offline_access email',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      nonce,
      state,
    });

    const { url: back, cookie, start } = await browserSignsIn(url);
    expect(start.client_name).toBe('Grafana');
    expect(back.origin + back.pathname).toBe(GRAFANA.redirect);
    expect(back.searchParams.get('iss')).toBe(ORIGIN);
    expect(back.searchParams.get('code')).toMatch(/^[0-9a-f]{64}[A-Za-z0-9_-]{43}$/);
    expect(cookie).toMatch(/^__Host-sso=[0-9a-f]{64}[A-Za-z0-9_-]{43}$/);

    const tokens = await client.authorizationCodeGrant(config, back, {
      pkceCodeVerifier: verifier,
      expectedNonce: nonce,
      expectedState: state,
    });
    // The unknown scope `email` is ignored, not refused.
    expect(tokens).toMatchObject({ token_type: 'bearer', expires_in: 900, scope: 'openid profile offline_access' });
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({
      iss: ORIGIN,
      sub: 'u_dong',
      aud: GRAFANA.id,
      nonce,
      name: '东东',
      preferred_username: 'dong',
      sid: expect.any(String),
      auth_time: expect.any(Number),
      at_hash: expect.any(String),
    });

    // Any backend verifies the id_token with the published keys alone.
    const keys = createRemoteJWKSet(new URL(`${ORIGIN}/.well-known/jwks.json`), { [customFetch]: workerFetch });
    await jwtVerify(tokens.id_token!, keys, { issuer: ORIGIN, audience: GRAFANA.id });
    // The id_token's sid is the browser's session, listed on the phone with the client under it.
    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info).toEqual({ sub: 'u_dong', name: '东东', preferred_username: 'dong' });
    expect(await introspect(tokens.access_token)).toMatchObject({ active: true, client_id: GRAFANA.id });

    const renewed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(renewed.refresh_token).not.toBe(tokens.refresh_token);
    expect(renewed.claims()).toMatchObject({
      sub: 'u_dong',
      aud: GRAFANA.id,
      sid: claims.sid,
      auth_time: claims.auth_time,
    });
    await client.tokenRevocation(config, renewed.refresh_token!);
    expect((await api('/oauth/userinfo', { headers: bearer(renewed.access_token) })).status).toBe(401);
  });

  it('client_secret_post and a public client (none) sign in too; without offline_access no refresh token', async () => {
    for (const [c, auth, secret] of [
      [WIKI, client.ClientSecretPost(WIKI.secret), WIKI.secret],
      [SPA, client.None(), undefined],
    ] as const) {
      const config = await discover(c.id, secret, auth);
      const verifier = client.randomPKCECodeVerifier();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: c.redirect,
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      const { url: back } = await browserSignsIn(url, ['guang', '222']);
      const tokens = await client.authorizationCodeGrant(config, back, {
        pkceCodeVerifier: verifier,
        expectedState: client.skipStateCheck,
      });
      expect(tokens.refresh_token).toBeUndefined();
      expect(tokens.scope).toBe('openid');
      const claims = tokens.claims()!;
      expect(claims.sub).toBe('u_guang');
      // Without `profile` neither the id_token nor userinfo says the name.
      expect(claims.name).toBeUndefined();
      expect(claims.nonce).toBeUndefined();
      expect(await client.fetchUserInfo(config, tokens.access_token, claims.sub)).toEqual({ sub: 'u_guang' });
    }
  });

  it('the id_token is signed RS256 by default, with the RSA key named by kid', async () => {
    const config = await discover(GRAFANA.id, GRAFANA.secret, client.ClientSecretBasic(GRAFANA.secret));
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: GRAFANA.redirect,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 's',
    });
    const { url: back } = await browserSignsIn(url);
    const tokens = await client.authorizationCodeGrant(config, back, {
      pkceCodeVerifier: verifier,
      expectedState: 's',
    });
    expect(decodeProtectedHeader(tokens.id_token!)).toMatchObject({
      typ: 'JWT',
      alg: 'RS256',
      kid: devRsaKey().kid,
    });
  });
});

/** A sign-in by scan for Grafana: the code, its verifier, and the browser's cookie. */
async function codeFor(scope = 'openid profile offline_access', user: [string, string] = ['dong', '111']) {
  const { verifier, challenge } = await pkce();
  const signedIn = await signInByScan(authorizeParams(GRAFANA, challenge, { scope }), user);
  return { code: redirectParams(signedIn.redirect_to).code!, verifier, ...signedIn };
}

interface TokenBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
  id_token: string;
  refresh_token?: string;
}

const claimsOf = (jwt: string) => JSON.parse(atob(jwt.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')));

describe('the code', () => {
  it('the status answer of the page’s QR carries a redirect and a cookie, never a token', async () => {
    const { verifier, challenge } = await pkce();
    const started = await pageStart(authorizeParams(GRAFANA, challenge));
    const { login: qr } = (await started.json()) as { login: Parameters<typeof pollStatus>[0] };
    // The phone is asked about Grafana by name.
    const { token } = await login();
    const scanned = await act(qr.qrcode_id, 'scan', token);
    expect(await scanned.json()).toMatchObject({ client_id: GRAFANA.id, client_name: 'Grafana' });
    await act(qr.qrcode_id, 'confirm', token);
    const res = await pollStatus(qr);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'scan-confirm', redirect_to: expect.any(String) });
    for (const key of ['token', 'refresh_token', 'user', 'expires_in']) expect(body).not.toHaveProperty(key);
    expect(redirectParams(body.redirect_to as string)).toEqual({
      code: expect.stringMatching(/^[0-9a-f]{64}[A-Za-z0-9_-]{43}$/),
      state: 'st-123',
      iss: ORIGIN,
    });
    expect(res.headers.get('Set-Cookie')).toMatch(
      /^__Host-sso=[0-9a-f]{64}[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax; Secure$/,
    );
    // Once, as every hand-out.
    expect((await pollStatus(qr)).status).toBe(410);
    const tokens = await exchange(redirectParams(body.redirect_to as string).code!, verifier);
    expect(tokens.status).toBe(200);
    expect(tokens.headers.get('Cache-Control')).toBe('no-store');
  });

  it('a cancel on the phone goes back to the client with access_denied', async () => {
    const { challenge } = await pkce();
    const started = (await (await pageStart(authorizeParams(GRAFANA, challenge))).json()) as {
      login: Parameters<typeof pollStatus>[0];
    };
    await phoneDoes(started.login, 'cancel');
    const res = await pollStatus(started.login);
    const body = (await res.json()) as Record<string, string>;
    expect(body.status).toBe('scan-cancel');
    expect(redirectParams(body.redirect_to!)).toMatchObject({ error: 'access_denied', state: 'st-123', iss: ORIGIN });
    expect(res.headers.get('Set-Cookie')).toBeNull();
  });

  it('refused without spending it: a wrong verifier, another client, another redirect URI, no verifier', async () => {
    const { code, verifier } = await codeFor();
    const other = await pkce();
    const refusals = [
      await exchange(code, other.verifier),
      await exchange(code, verifier, WIKI, { client_id: WIKI.id, client_secret: WIKI.secret }, {}),
      await exchange(code, verifier, { ...GRAFANA, redirect: 'http://localhost:3000/cb' }),
    ];
    for (const res of refusals) expect(await oauthErrorOf(res)).toMatchObject({ status: 400, error: 'invalid_grant' });
    const missing = await exchange(code, verifier, GRAFANA, { code_verifier: '' });
    expect(await oauthErrorOf(missing)).toMatchObject({ status: 400, error: 'invalid_request' });
    // Nothing was spent: the right request still gets the tokens.
    const res = await exchange(code, verifier);
    expect(res.status).toBe(200);
    const tokens = (await res.json()) as TokenBody;
    expect(tokens).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'openid profile offline_access' });
    expect(claimsOf(tokens.id_token)).toMatchObject({ aud: GRAFANA.id, nonce: 'n-456', sub: 'u_dong' });
  });

  it('used twice: invalid_grant, and what its first use gave is revoked', async () => {
    const { code, verifier } = await codeFor();
    const first = (await (await exchange(code, verifier)).json()) as TokenBody;
    expect((await api('/oauth/userinfo', { headers: bearer(first.access_token) })).status).toBe(200);
    const again = await exchange(code, verifier);
    expect(await oauthErrorOf(again)).toMatchObject({ status: 400, error: 'invalid_grant' });
    expect((await api('/oauth/userinfo', { headers: bearer(first.access_token) })).status).toBe(401);
    expect(await oauthErrorOf(await refresh(first.refresh_token!, undefined, {}))).toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('expires after 60 seconds', async () => {
    const { code, verifier } = await codeFor();
    await inUserObject('u_dong', 'UPDATE oidc_codes SET expires_at = expires_at - 61000');
    expect(await oauthErrorOf(await exchange(code, verifier))).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it('a made-up code is invalid_grant; a client that does not authenticate is 401 with WWW-Authenticate: Basic', async () => {
    const { verifier } = await pkce();
    expect(await oauthErrorOf(await exchange(`${'0'.repeat(64)}${'A'.repeat(43)}`, verifier))).toMatchObject({
      error: 'invalid_grant',
    });
    expect(await oauthErrorOf(await exchange('garbage', verifier))).toMatchObject({ error: 'invalid_grant' });
    for (const headers of [{}, basicAuth(GRAFANA.id, 'wrong secret'), basicAuth('nobody', 'x')]) {
      const res = await exchange('garbage', verifier, GRAFANA, {}, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('WWW-Authenticate')).toMatch(/^Basic /);
      expect((await oauthErrorOf(res)).error).toBe('invalid_client');
    }
  });

  it('the grant lives under the browser’s session: the phone lists it, and signing the phone out ends all', async () => {
    const { code, verifier, phone } = await codeFor('openid profile offline_access', ['guang', '222']);
    const tokens = (await (await exchange(code, verifier)).json()) as TokenBody;
    const sid = claimsOf(tokens.id_token).sid;
    const listed = (await (await api('/api/sessions', { headers: bearer(phone) })).json()) as {
      sid: string;
      via: string;
      clients?: unknown;
    }[];
    const browser = listed.find((s) => s.sid === sid);
    expect(browser).toMatchObject({ via: 'oidc', clients: [{ client_id: GRAFANA.id, client_name: 'Grafana' }] });
    // The grant itself is not a linked device of its own.
    const grant = await introspect(tokens.access_token);
    expect(grant.sid).not.toBe(sid);
    expect(listed.map((s) => s.sid)).not.toContain(grant.sid);
    // Signing the phone out signs out the browser and every client it signed in to.
    expect((await api('/api/logout', { method: 'POST', headers: bearer(phone) })).status).toBe(204);
    expect((await api('/oauth/userinfo', { headers: bearer(tokens.access_token) })).status).toBe(401);
    expect((await oauthErrorOf(await refresh(tokens.refresh_token!))).error).toBe('invalid_grant');
  });

  it('a grant without offline_access has no refresh token and ends with its access token; the browser keeps naming it', async () => {
    const { code, verifier, phone } = await codeFor('openid');
    const tokens = (await (await exchange(code, verifier)).json()) as TokenBody;
    expect(tokens.refresh_token).toBeUndefined();
    const grant = await introspect(tokens.access_token);
    const [row] = await inUserObject<{ ends_at: number; refresh_hash: string | null }>(
      'u_dong',
      'SELECT ends_at, refresh_hash FROM sessions WHERE sid = ?',
      grant.sid as string,
    );
    expect(row?.refresh_hash).toBeNull();
    expect(row!.ends_at - Date.now()).toBeLessThanOrEqual(900_000);
    // Its access token's time is up: the grant has ended, the browser still lists Grafana.
    await inUserObject('u_dong', 'UPDATE sessions SET ends_at = ? WHERE sid = ?', Date.now() - 1, grant.sid as string);
    expect((await api('/oauth/userinfo', { headers: bearer(tokens.access_token) })).status).toBe(401);
    const sid = claimsOf(tokens.id_token).sid;
    const listed = (await (await api('/api/sessions', { headers: bearer(phone) })).json()) as { sid: string }[];
    expect(listed.find((s) => s.sid === sid)).toMatchObject({
      clients: [{ client_id: GRAFANA.id, client_name: 'Grafana' }],
    });
  });

  it('an offline grant that outlives its browser’s session is listed on its own, so it can be signed out', async () => {
    const { code, verifier, phone } = await codeFor('openid offline_access', ['guang', '222']);
    const tokens = (await (await exchange(code, verifier)).json()) as TokenBody;
    const browserSid = claimsOf(tokens.id_token).sid;
    await inUserObject('u_guang', 'UPDATE sessions SET ends_at = ? WHERE sid = ?', Date.now() - 1, browserSid);
    const grant = (await introspect(tokens.access_token)).sid as string;
    const listed = (await (await api('/api/sessions', { headers: bearer(phone) })).json()) as { sid: string }[];
    expect(listed.map((s) => s.sid)).not.toContain(browserSid);
    expect(listed.find((s) => s.sid === grant)).toMatchObject({
      via: 'oidc',
      clients: [{ client_id: GRAFANA.id, client_name: 'Grafana' }],
    });
    expect((await api(`/api/sessions/${grant}`, { method: 'DELETE', headers: bearer(phone) })).status).toBe(204);
    const renewed = await postForm(
      '/oauth/token',
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! },
      basicAuth(GRAFANA.id, GRAFANA.secret),
    );
    expect(await oauthErrorOf(renewed)).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it('a client’s access token without openid gets 403 insufficient_scope at userinfo (device flow)', async () => {
    // The code flow always has `openid` (it is required); the device flow can ask without it.
    const auth = await authorizeDevice(undefined, 'profile');
    await phoneAnswers(auth, 'confirm');
    const { access_token } = (await (await pollToken(auth.device_code)).json()) as { access_token: string };
    const res = await api('/oauth/userinfo', { headers: bearer(access_token) });
    expect(res.status).toBe(403);
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer error="insufficient_scope"/);
  });
});
