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
import { api, bearer } from '../helpers';
import { introspect } from '../sessions/support';
import { GRAFANA, SPA, signInByScan, WIKI } from './oidc-support';
import { ORIGIN, workerFetch } from './support';

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

  it('the id_token is signed with the current key, named by kid (RS256 comes with the RSA key)', async () => {
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
      alg: 'EdDSA',
      kid: expect.any(String),
    });
  });
});
