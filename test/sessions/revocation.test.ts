/**
 * Ending a session, and asking whether one is alive: revocation (RFC 7009) by either token,
 * introspection (RFC 7662) for a site's backend, and OpenID Connect's userinfo. A revoked
 * session's tokens are refused at once on every endpoint, and the site hears `session.revoked`.
 */
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { api, bearer, login } from '../helpers';
import {
  authorizeDevice,
  CLIENT_ID,
  OTHER_CLIENT_ID,
  oauthErrorOf,
  phoneAnswers,
  pollToken,
  postForm,
} from '../oauth/support';
import { basic, formRequest, INTROSPECTOR, introspect, type Refreshed, refresh, revoke, withWebhooks } from './support';

const me = (token: string) => api('/api/me', { headers: bearer(token) });
const DONG = { id: 'u_dong', username: 'dong', display_name: '东东' };

describe('POST /oauth/revoke (RFC 7009)', () => {
  it('a refresh token ends its session at once: refresh, access token and the webhook', async () => {
    const signedIn = await login();
    const sid = decodeJwt(signedIn.token).sid;
    const { res, events } = await withWebhooks(formRequest('/oauth/revoke', { token: signedIn.refresh_token }));
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(events).toEqual([expect.objectContaining({ type: 'session.revoked', data: { sid, user: DONG } })]);
    expect((await me(signedIn.token)).status).toBe(401);
    expect(await oauthErrorOf(await refresh(signedIn.refresh_token))).toMatchObject({ error: 'invalid_grant' });
  });

  it('an access token ends its session too (its refresh token with it)', async () => {
    const signedIn = await login();
    expect((await revoke(signedIn.token, { token_type_hint: 'access_token' })).status).toBe(200);
    expect((await me(signedIn.token)).status).toBe(401);
    expect(await oauthErrorOf(await refresh(signedIn.refresh_token))).toMatchObject({ error: 'invalid_grant' });
  });

  it('a rotated-out refresh token still names its session, and ends it', async () => {
    const signedIn = await login();
    const next = (await (await refresh(signedIn.refresh_token)).json()) as Refreshed;
    expect((await revoke(signedIn.refresh_token)).status).toBe(200);
    expect((await me(next.access_token)).status).toBe(401);
  });

  it('answers 200 for any token, known or not, and revokes nothing else', async () => {
    const bystander = await login();
    for (const token of [
      'garbage',
      signedTokenOfNobody(),
      `${'0'.repeat(64)}${'A'.repeat(43)}`,
      bystander.refresh_token.slice(1),
    ]) {
      const res = await revoke(token);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('');
    }
    expect((await me(bystander.token)).status).toBe(200);
  });

  it('a device-flow client revokes only its own tokens', async () => {
    const auth = await authorizeDevice();
    await phoneAnswers(auth, 'confirm');
    const tokens = (await (await pollToken(auth.device_code)).json()) as Refreshed;
    expect((await revoke(tokens.refresh_token, { client_id: OTHER_CLIENT_ID })).status).toBe(200);
    expect((await me(tokens.access_token)).status).toBe(200);
    expect(await oauthErrorOf(await revoke(tokens.refresh_token, { client_id: 'unregistered' }))).toMatchObject({
      status: 401,
      error: 'invalid_client',
    });
    expect((await revoke(tokens.refresh_token, { client_id: CLIENT_ID })).status).toBe(200);
    expect((await me(tokens.access_token)).status).toBe(401);
  });

  it('refuses what is not a form POST with RFC 6749 errors', async () => {
    expect(await oauthErrorOf(await api('/oauth/revoke'))).toMatchObject({ status: 405, error: 'invalid_request' });
    expect(await oauthErrorOf(await postForm('/oauth/revoke', {}))).toMatchObject({
      status: 400,
      error: 'invalid_request',
    });
    expect(await oauthErrorOf(await postForm('/oauth/revoke', 'token=a&token=b'))).toMatchObject({
      status: 400,
      error: 'invalid_request',
    });
  });
});

/** A JWT-shaped token signed by nobody we know. */
function signedTokenOfNobody(): string {
  const part = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${part({ alg: 'EdDSA', kid: 'someone-else' })}.${part({ sub: 'u_dong', sid: 'x' })}.c2ln`;
}

describe('POST /oauth/introspect (RFC 7662)', () => {
  it('refuses callers that are not INTROSPECTION_CLIENTS, with WWW-Authenticate', async () => {
    const { token } = await login();
    for (const headers of [
      {},
      basic(INTROSPECTOR.id, 'wrong'),
      basic('nobody', INTROSPECTOR.secret),
      { Authorization: 'Basic !!!' },
    ]) {
      const res = await postForm('/oauth/introspect', { token }, headers);
      expect(res.headers.get('WWW-Authenticate')).toMatch(/^Basic/);
      expect(await oauthErrorOf(res)).toMatchObject({ status: 401, error: 'invalid_client' });
    }
  });

  it('says whose a live access token is, and that it is not once its session ends', async () => {
    const signedIn = await login();
    const claims = decodeJwt(signedIn.token);
    expect(await introspect(signedIn.token)).toEqual({
      active: true,
      token_type: 'Bearer',
      sub: 'u_dong',
      sid: claims.sid,
      username: 'dong',
      exp: claims.exp,
      iat: claims.iat,
      iss: claims.iss,
      aud: claims.aud,
    });
    await api('/api/logout', { method: 'POST', headers: bearer(signedIn.token) });
    expect(await introspect(signedIn.token)).toEqual({ active: false });
  });

  it('knows refresh tokens: the current one is active, a rotated one is not', async () => {
    const signedIn = await login();
    const next = (await (await refresh(signedIn.refresh_token)).json()) as Refreshed;
    expect(await introspect(next.refresh_token)).toMatchObject({
      active: true,
      token_type: 'refresh_token',
      sub: 'u_dong',
      sid: decodeJwt(signedIn.token).sid,
      exp: expect.any(Number),
      iat: expect.any(Number),
    });
    expect(await introspect(signedIn.refresh_token)).toEqual({ active: false });
  });

  it('names the client of a device-flow token', async () => {
    const auth = await authorizeDevice();
    await phoneAnswers(auth, 'confirm');
    const tokens = (await (await pollToken(auth.device_code)).json()) as Refreshed;
    expect(await introspect(tokens.access_token)).toMatchObject({ active: true, client_id: CLIENT_ID });
    expect(await introspect(tokens.refresh_token)).toMatchObject({ active: true, client_id: CLIENT_ID });
  });

  it('answers active: false for garbage, forgeries and tokens of nobody', async () => {
    for (const token of ['garbage', signedTokenOfNobody(), `${'0'.repeat(64)}${'A'.repeat(43)}`]) {
      expect(await introspect(token)).toEqual({ active: false });
    }
  });
});

describe('GET /oauth/userinfo', () => {
  it('names the user of a live access token, and refuses any other with WWW-Authenticate: Bearer', async () => {
    // A device token granted openid (one without it is 403 insufficient_scope: userinfo-scope.test.ts).
    const device = await authorizeDevice(CLIENT_ID, 'openid');
    await phoneAnswers(device, 'confirm');
    const signedIn = (await (await pollToken(device.device_code)).json()) as Refreshed;
    const res = await api('/oauth/userinfo', { headers: bearer(signedIn.access_token) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: 'u_dong', name: '东东', preferred_username: 'dong' });
    const none = await api('/oauth/userinfo');
    expect(none.status).toBe(401);
    expect(none.headers.get('WWW-Authenticate')).toBe('Bearer');
    await revoke(signedIn.refresh_token);
    const revoked = await api('/oauth/userinfo', { headers: bearer(signedIn.access_token) });
    expect(revoked.headers.get('WWW-Authenticate')).toMatch(/^Bearer error="invalid_token"/);
    expect(await oauthErrorOf(revoked)).toMatchObject({ status: 401, error: 'invalid_token' });
  });
});
