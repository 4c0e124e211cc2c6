/**
 * DPoP (RFC 9449) with a real client: oauth4webapi's `DPoP()` handle, with no DPoP code of
 * ours on the client side, signs a device in, refreshes, asks userinfo, and retries on
 * `use_dpop_nonce` when the server asks for nonces (`DPOP_NONCE=on`); a site's backend
 * introspects the bound tokens and reads `cnf`.
 */
import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { api, bearer } from '../helpers';
import { INTROSPECTOR } from '../sessions/support';
import { dpopAuth, dpopKey } from '../tokens/dpop-support';
import { CLI_UA, CLIENT_ID, ORIGIN, phoneAnswers, storedRecord, workerFetch } from './support';

const issuer = new URL(ORIGIN);
const cli: oauth.Client = { client_id: CLIENT_ID };
const options = { [oauth.customFetch]: workerFetch, headers: { 'User-Agent': CLI_UA } };

type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

/** The Worker with `DPOP_NONCE=on`, as a client library's fetch. */
const withNonces: Fetch = async (url, init) =>
  app.fetch(new Request(url, init), { ...env, DPOP_NONCE: 'on' }, createExecutionContext());

async function discover(fetchImpl: Fetch = workerFetch) {
  const res = await oauth.discoveryRequest(issuer, { [oauth.customFetch]: fetchImpl, algorithm: 'oauth2' });
  return oauth.processDiscoveryResponse(issuer, res);
}

/** A device signed in through oauth4webapi with the DPoP handle `dpop`: the token answer. */
async function deviceSignIn(dpop: oauth.DPoPHandle, fetchImpl: Fetch = workerFetch) {
  const opts = { ...options, [oauth.customFetch]: fetchImpl };
  const as = await discover(fetchImpl);
  const auth = await oauth.processDeviceAuthorizationResponse(
    as,
    cli,
    await oauth.deviceAuthorizationRequest(as, cli, oauth.None(), { scope: 'openid profile' }, opts),
  );
  await phoneAnswers(auth, 'confirm');
  const poll = async () =>
    oauth.processDeviceCodeResponse(
      as,
      cli,
      await oauth.deviceCodeGrantRequest(as, cli, oauth.None(), auth.device_code, { ...opts, DPoP: dpop }),
    );
  return { as, tokens: await poll().catch((err) => (oauth.isDPoPNonceError(err) ? poll() : Promise.reject(err))) };
}

describe('oauth4webapi with DPoP', () => {
  it('finds the proof algorithms in the metadata', async () => {
    const as = await discover();
    expect(as.dpop_signing_alg_values_supported).toEqual(['ES256', 'EdDSA', 'Ed25519']);
  });

  it('signs a device in with a DPoP-bound token, asks userinfo with it, and the token is useless as Bearer', async () => {
    const key = await dpopKey();
    const dpop = oauth.DPoP(cli, key.pair);
    const { as, tokens } = await deviceSignIn(dpop);
    expect(tokens.token_type).toBe('dpop');
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: key.jkt });

    const info = await oauth.processUserInfoResponse(
      as,
      cli,
      oauth.skipSubjectCheck,
      await oauth.userInfoRequest(as, cli, tokens.access_token, { ...options, DPoP: dpop }),
    );
    expect(info).toMatchObject({ sub: 'u_dong', preferred_username: 'dong' });

    // Copied, the token alone is refused: as Bearer, and as DPoP with a proof of another key.
    const asBearer = await api('/api/me', { headers: bearer(tokens.access_token) });
    expect(asBearer.status).toBe(401);
    expect(asBearer.headers.get('WWW-Authenticate')).toMatch(/^DPoP error="invalid_token".*algs="ES256 EdDSA"$/);
    const thief = await dpopKey();
    const stolen = await api('/api/me', { headers: await dpopAuth(thief, tokens.access_token, 'GET', '/api/me') });
    expect(stolen.status).toBe(401);
    expect(stolen.headers.get('WWW-Authenticate')).toContain('error="invalid_dpop_proof"');
    // The rightful client is still signed in.
    const mine = await api('/api/me', { headers: await dpopAuth(key, tokens.access_token, 'GET', '/api/me') });
    expect(await mine.json()).toMatchObject({ username: 'dong' });
  });

  it('refreshes with the key; without it, or with another key, the refresh token is refused and still works', async () => {
    const key = await dpopKey('EdDSA');
    const dpop = oauth.DPoP(cli, key.pair);
    const { as, tokens } = await deviceSignIn(dpop);
    const refreshToken = tokens.refresh_token ?? '';

    const refuse = async (handle?: oauth.DPoPHandle) => {
      const res = await oauth.refreshTokenGrantRequest(as, cli, oauth.None(), refreshToken, {
        ...options,
        ...(handle ? { DPoP: handle } : {}),
      });
      return oauth.processRefreshTokenResponse(as, cli, res).then(
        () => 'refreshed',
        (err: oauth.ResponseBodyError) => err.error,
      );
    };
    expect(await refuse()).toBe('invalid_grant');
    expect(await refuse(oauth.DPoP(cli, (await dpopKey()).pair))).toBe('invalid_grant');

    const renewed = await oauth.processRefreshTokenResponse(
      as,
      cli,
      await oauth.refreshTokenGrantRequest(as, cli, oauth.None(), refreshToken, { ...options, DPoP: dpop }),
    );
    expect(renewed.token_type).toBe('dpop');
    expect(decodeJwt(renewed.access_token).cnf).toEqual({ jkt: key.jkt });
    expect(renewed.refresh_token).not.toBe(refreshToken);
  });

  it('lets a site’s backend introspect the bound tokens: token_type DPoP and cnf', async () => {
    const key = await dpopKey();
    const { as, tokens } = await deviceSignIn(oauth.DPoP(cli, key.pair));
    const backend: oauth.Client = { client_id: INTROSPECTOR.id };
    const introspect = async (token: string) =>
      oauth.processIntrospectionResponse(
        as,
        backend,
        await oauth.introspectionRequest(
          { ...as, introspection_endpoint: `${ORIGIN}/oauth/introspect` },
          backend,
          oauth.ClientSecretBasic(INTROSPECTOR.secret),
          token,
          options,
        ),
      );
    expect(await introspect(tokens.access_token)).toMatchObject({
      active: true,
      token_type: 'DPoP',
      cnf: { jkt: key.jkt },
    });
    expect(await introspect(tokens.refresh_token ?? '')).toMatchObject({
      active: true,
      token_type: 'refresh_token',
      cnf: { jkt: key.jkt },
    });
  });

  it('with DPOP_NONCE=on, retries on use_dpop_nonce at the token endpoint and at userinfo, and signs in', async () => {
    const key = await dpopKey();
    const dpop = oauth.DPoP(cli, key.pair);
    const answers: string[] = [];
    const recording: Fetch = async (url, init) => {
      const res = await withNonces(url, init);
      if (!res.ok) answers.push(`${new URL(url).pathname} ${res.status} ${res.headers.has('DPoP-Nonce')}`);
      return res;
    };
    const { as, tokens } = await deviceSignIn(dpop, recording);
    expect(tokens.token_type).toBe('dpop');
    // The first poll had no nonce: refused with one, and the library's retry signed in.
    expect(answers).toEqual(['/oauth/token 400 true']);

    // The nonce the library keeps is still good at userinfo.
    const userinfo = () =>
      oauth.userInfoRequest(as, cli, tokens.access_token, { ...options, [oauth.customFetch]: recording, DPoP: dpop });
    const info = await oauth.processUserInfoResponse(as, cli, oauth.skipSubjectCheck, await userinfo());
    expect(info.sub).toBe('u_dong');
  });

  it('with DPOP_NONCE=on, a resource answers 401 use_dpop_nonce with a DPoP-Nonce the client can use', async () => {
    const key = await dpopKey();
    const { tokens } = await deviceSignIn(oauth.DPoP(cli, key.pair));
    const first = await withNonces(`${ORIGIN}/api/me`, {
      headers: await dpopAuth(key, tokens.access_token, 'GET', '/api/me'),
    });
    expect(first.status).toBe(401);
    expect(first.headers.get('WWW-Authenticate')).toMatch(/^DPoP error="use_dpop_nonce"/);
    const nonce = first.headers.get('DPoP-Nonce') ?? '';
    expect(nonce).not.toBe('');
    const again = await withNonces(`${ORIGIN}/api/me`, {
      headers: await dpopAuth(key, tokens.access_token, 'GET', '/api/me', { nonce }),
    });
    expect(again.status).toBe(200);
  });

  it('with DPOP_NONCE=on, a use_dpop_nonce refusal is not a poll: it never leads to slow_down', async () => {
    const key = await dpopKey();
    const dpop = oauth.DPoP(cli, key.pair);
    const opts = { ...options, [oauth.customFetch]: withNonces };
    const as = await discover(withNonces);
    const auth = await oauth.processDeviceAuthorizationResponse(
      as,
      cli,
      await oauth.deviceAuthorizationRequest(as, cli, oauth.None(), {}, opts),
    );
    const poll = async () =>
      oauth.processDeviceCodeResponse(
        as,
        cli,
        await oauth.deviceCodeGrantRequest(as, cli, oauth.None(), auth.device_code, { ...opts, DPoP: dpop }),
      );
    const first = await poll().catch((err: unknown) => err);
    expect(oauth.isDPoPNonceError(first)).toBe(true);
    expect((await storedRecord(auth))?.device?.last_poll_at).toBeNull();
    // The retry at once is the first poll the login counts.
    const second = await poll().catch((err: oauth.ResponseBodyError) => err.error);
    expect(second).toBe('authorization_pending');
  });
});
