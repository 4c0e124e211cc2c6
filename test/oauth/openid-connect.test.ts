/**
 * OpenID Connect for device-flow clients, driven by openid-client with no extra configuration:
 * the device flow with `openid` yields an id_token the library validates, userinfo answers for
 * the same subject, a refresh rotates the refresh token, revocation ends the login, and a
 * site's backend introspects with HTTP Basic.
 */
import * as client from 'openid-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, bearer } from '../helpers';
import { INTROSPECTOR } from '../sessions/support';
import { CLIENT_ID, ORIGIN, phoneAnswers, workerFetch } from './support';

const issuer = new URL(ORIGIN);

const discover = (clientId = CLIENT_ID, auth: client.ClientAuth = client.None(), secret?: string) =>
  client.discovery(issuer, clientId, secret, auth, { [client.customFetch]: workerFetch });

/** Runs the device flow with `scope` as a CLI would: the phone confirms, the library polls once. */
async function deviceLogin(config: client.Configuration, scope: string) {
  const auth = await client.initiateDeviceAuthorization(config, { scope });
  await phoneAnswers(auth, 'confirm', ['guang', '222']);
  // The library waits `interval` seconds before it polls: run its clock by hand.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  const polling = client.pollDeviceAuthorizationGrant(config, auth);
  await vi.waitUntil(() => vi.getTimerCount() > 0);
  await vi.advanceTimersByTimeAsync(5000);
  const tokens = await polling;
  vi.useRealTimers();
  return tokens;
}

describe('openid-client, OpenID Connect', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('finds userinfo, revocation and introspection in the discovery document', async () => {
    const config = await discover();
    expect(config.serverMetadata()).toMatchObject({
      userinfo_endpoint: `${ORIGIN}/oauth/userinfo`,
      revocation_endpoint: `${ORIGIN}/oauth/revoke`,
      introspection_endpoint: `${ORIGIN}/oauth/introspect`,
      // RS256 first (OpenID Connect Core §15.1), then the current key's algorithm.
      id_token_signing_alg_values_supported: ['RS256', 'EdDSA'],
      scopes_supported: expect.arrayContaining(['openid', 'offline_access']),
    });
  });

  it('the device flow with openid: an id_token it validates, userinfo for the same subject', async () => {
    const config = await discover();
    const tokens = await deviceLogin(config, 'openid profile');
    expect(tokens).toMatchObject({ token_type: 'bearer', expires_in: 900, id_token: expect.any(String) });
    // openid-client has already checked the id_token's signature (by the JWKS), iss, aud and exp.
    const claims = tokens.claims();
    expect(claims).toMatchObject({
      iss: ORIGIN,
      sub: 'u_guang',
      aud: CLIENT_ID,
      name: '光光',
      preferred_username: 'guang',
      auth_time: expect.any(Number),
    });
    const info = await client.fetchUserInfo(config, tokens.access_token, claims!.sub);
    expect(info).toEqual({ sub: 'u_guang', name: '光光', preferred_username: 'guang' });
  });

  it('no id_token without openid', async () => {
    const config = await discover();
    const tokens = await deviceLogin(config, 'profile');
    expect(tokens.id_token).toBeUndefined();
    expect(tokens.refresh_token).toEqual(expect.any(String));
  });

  it('refreshes (a new refresh token each time, the id_token renewed), then revokes', async () => {
    const config = await discover();
    const first = await deviceLogin(config, 'openid');
    const second = await client.refreshTokenGrant(config, first.refresh_token!);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.claims()).toMatchObject({ sub: 'u_guang', aud: CLIENT_ID, auth_time: first.claims()!.auth_time });
    expect((await api('/api/me', { headers: bearer(second.access_token) })).status).toBe(200);
    // The spent token is refused, as the library reports it.
    await expect(client.refreshTokenGrant(config, first.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });

    await client.tokenRevocation(config, second.refresh_token!);
    expect((await api('/api/me', { headers: bearer(second.access_token) })).status).toBe(401);
    await expect(client.fetchUserInfo(config, second.access_token, 'u_guang')).rejects.toBeInstanceOf(
      client.WWWAuthenticateChallengeError,
    );
  });

  it('a site’s backend introspects with client_secret_basic', async () => {
    const cli = await discover();
    const tokens = await deviceLogin(cli, 'openid');
    const backend = await discover(INTROSPECTOR.id, client.ClientSecretBasic(INTROSPECTOR.secret), INTROSPECTOR.secret);
    expect(await client.tokenIntrospection(backend, tokens.access_token)).toMatchObject({
      active: true,
      sub: 'u_guang',
      client_id: CLIENT_ID,
    });
    await client.tokenRevocation(cli, tokens.access_token);
    expect(await client.tokenIntrospection(backend, tokens.refresh_token!)).toMatchObject({ active: false });
  });
});
