/**
 * The device flow driven by the OAuth client libraries people use (oauth4webapi and
 * openid-client, by the author of node-oidc-provider), with no code of ours on the client
 * side: discovery, device authorization, polling and the token. The phone's side is the QR
 * login's API, unchanged.
 */
import { createRemoteJWKSet, customFetch, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, bearer } from '../helpers';
import {
  CLI_UA,
  CLIENT_ID,
  ORIGIN,
  phoneAnswers,
  qrcodeIdOf,
  storedRecord,
  waitedSinceLastPoll,
  workerFetch,
} from './support';

const issuer = new URL(ORIGIN);
const options = { [oauth.customFetch]: workerFetch, headers: { 'User-Agent': CLI_UA } };

/** The OAuth error a library rejected with. */
async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof oauth.ResponseBodyError) return err.error;
    throw err;
  }
  throw new Error('expected an OAuth error, got a token');
}

describe('oauth4webapi', () => {
  const cli: oauth.Client = { client_id: CLIENT_ID };

  async function discover() {
    const res = await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oauth2' });
    return oauth.processDiscoveryResponse(issuer, res);
  }

  it('discovers the server from /.well-known/oauth-authorization-server', async () => {
    const as = await discover();
    expect(as).toMatchObject({
      issuer: ORIGIN,
      device_authorization_endpoint: `${ORIGIN}/oauth/device_authorization`,
      token_endpoint: `${ORIGIN}/oauth/token`,
      jwks_uri: `${ORIGIN}/.well-known/jwks.json`,
      grant_types_supported: expect.arrayContaining(['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token']),
      // A device-flow client is public; OpenID Connect clients may authenticate with a secret.
      token_endpoint_auth_methods_supported: expect.arrayContaining(['none']),
    });
  });

  it('signs a CLI in: device authorization, pending, slow_down (the interval grows by 5 s), the phone confirms, token', async () => {
    const as = await discover();
    const auth = await oauth.processDeviceAuthorizationResponse(
      as,
      cli,
      await oauth.deviceAuthorizationRequest(as, cli, oauth.None(), { scope: 'profile' }, options),
    );
    expect(auth).toMatchObject({
      user_code: expect.stringMatching(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/),
      verification_uri: `${ORIGIN}/link`,
      verification_uri_complete: expect.stringMatching(/^https:\/\/login\.example\/confirm\?id=[0-9a-f]{64}$/),
      expires_in: 120,
      interval: 5,
    });
    const poll = async () =>
      oauth.processDeviceCodeResponse(
        as,
        cli,
        await oauth.deviceCodeGrantRequest(as, cli, oauth.None(), auth.device_code, options),
      );

    // The first poll may come at once; the next one, too soon, is told to slow down.
    expect(await rejection(poll())).toBe('authorization_pending');
    expect(await rejection(poll())).toBe('slow_down');
    // 6 s later is enough for the old interval, not for the new one (10 s): slow_down again.
    await waitedSinceLastPoll(auth, 6_000);
    expect(await rejection(poll())).toBe('slow_down');
    expect((await storedRecord(auth))?.device?.interval_s).toBe(15);
    await waitedSinceLastPoll(auth, 15_000);
    expect(await rejection(poll())).toBe('authorization_pending');

    // The phone scans the QR of verification_uri_complete and confirms; the next poll gets the token.
    await phoneAnswers(auth, 'confirm');
    await waitedSinceLastPoll(auth, 15_000);
    const tokens = await poll();
    expect(tokens).toMatchObject({ token_type: 'bearer', expires_in: 900 });
    // Any backend verifies the access token with the published keys alone.
    const keys = createRemoteJWKSet(new URL(as.jwks_uri ?? ''), { [customFetch]: workerFetch });
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, keys, {
      issuer: as.issuer,
      audience: 'qrcode-login',
      algorithms: ['EdDSA', 'ES256'],
      requiredClaims: ['exp', 'iat', 'jti', 'sid'],
    });
    expect(protectedHeader).toMatchObject({ typ: 'JWT', kid: expect.any(String) });
    expect(payload).toMatchObject({ sub: 'u_dong', username: 'dong', name: '东东' });
    expect(payload.exp! - payload.iat!).toBe(tokens.expires_in);
    const me = await api('/api/me', { headers: bearer(tokens.access_token) });
    expect(await me.json()).toMatchObject({ username: 'dong', display_name: '东东' });

    // Once: every later poll of that code is invalid_grant.
    expect(await rejection(poll())).toBe('invalid_grant');
  });

  it('hears access_denied when the phone cancels', async () => {
    const as = await discover();
    const auth = await oauth.processDeviceAuthorizationResponse(
      as,
      cli,
      await oauth.deviceAuthorizationRequest(as, cli, oauth.None(), {}, options),
    );
    await phoneAnswers(auth, 'cancel');
    const res = await oauth.deviceCodeGrantRequest(as, cli, oauth.None(), auth.device_code, options);
    expect(await rejection(oauth.processDeviceCodeResponse(as, cli, res))).toBe('access_denied');
  });
});

describe('openid-client', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('discovers through /.well-known/openid-configuration and initiates a device authorization', async () => {
    const config = await client.discovery(issuer, CLIENT_ID, undefined, client.None(), {
      [client.customFetch]: workerFetch,
    });
    expect(config.serverMetadata()).toMatchObject({ issuer: ORIGIN, token_endpoint: `${ORIGIN}/oauth/token` });
    const auth = await client.initiateDeviceAuthorization(config, { scope: 'openid' });
    expect(auth).toMatchObject({ verification_uri: `${ORIGIN}/link`, interval: 5, expires_in: 120 });
    expect(qrcodeIdOf(auth)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('polls at the interval, slows down when told, and gets the token once the phone confirms', async () => {
    // Every answer of the token endpoint, in order, as the library saw it.
    const answers: string[] = [];
    const recording = async (url: string, init: RequestInit) => {
      const res = await workerFetch(url, init);
      if (new URL(url).pathname === '/oauth/token') {
        answers.push(res.ok ? 'token' : ((await res.clone().json()) as { error: string }).error);
      }
      return res;
    };
    const config = await client.discovery(issuer, CLIENT_ID, undefined, client.None(), {
      [client.customFetch]: recording,
    });
    const auth = await client.initiateDeviceAuthorization(config, {});

    // The library waits `interval` seconds before each poll: run its clock (and the server's) by hand.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const polling = client.pollDeviceAuthorizationGrant(config, auth);
    const nextPoll = async (seconds: number, answered: number) => {
      await vi.waitUntil(() => vi.getTimerCount() > 0);
      await vi.advanceTimersByTimeAsync(seconds * 1000);
      await vi.waitUntil(() => answers.length === answered);
    };
    await nextPoll(5, 1);
    expect(answers).toEqual(['authorization_pending']);

    // That poll reached the server a second late (network jitter), so the next one, 5 s after
    // the library sent it, comes too soon: slow_down, and the library waits 10 s from then on.
    await waitedSinceLastPoll(auth, -1_000);
    await nextPoll(5, 2);
    expect(answers).toEqual(['authorization_pending', 'slow_down']);

    await phoneAnswers(auth, 'confirm');
    await nextPoll(10, 3);
    const tokens = await polling;
    expect(answers).toEqual(['authorization_pending', 'slow_down', 'token']);
    // (Still on the library's clock: the token was issued at its time.)
    const as = config.serverMetadata();
    const keys = createRemoteJWKSet(new URL(as.jwks_uri ?? ''), { [customFetch]: workerFetch });
    const { payload } = await jwtVerify(tokens.access_token, keys, { issuer: as.issuer, audience: 'qrcode-login' });
    expect(payload).toMatchObject({ username: 'dong' });
    const me = await api('/api/me', { headers: bearer(tokens.access_token) });
    expect(await me.json()).toMatchObject({ username: 'dong' });
  });

  it('stops polling with access_denied when the phone cancels', async () => {
    const config = await client.discovery(issuer, CLIENT_ID, undefined, client.None(), {
      [client.customFetch]: workerFetch,
    });
    const auth = await client.initiateDeviceAuthorization(config, {});
    await phoneAnswers(auth, 'cancel');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const polling = client.pollDeviceAuthorizationGrant(config, auth).catch((err: unknown) => err);
    await vi.waitUntil(() => vi.getTimerCount() > 0);
    await vi.advanceTimersByTimeAsync(5000);
    const err = await polling;
    expect(err).toBeInstanceOf(client.ResponseBodyError);
    expect((err as client.ResponseBodyError).error).toBe('access_denied');
  });
});
