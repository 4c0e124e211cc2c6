/**
 * `/oauth/userinfo` answers only for an access token granted `openid` (issue 25, A8; OpenID
 * Connect Core §5.3, RFC 6750 §3.1): a device token issued without `openid`, or a page's token
 * (a password or QR login asks for no scope), gets 403 `insufficient_scope` with
 * `WWW-Authenticate: Bearer error="insufficient_scope"`; a missing or invalid token stays 401.
 */
import { describe, expect, it } from 'vitest';
import { api, bearer, login } from '../helpers';
import { authorizeDevice, CLIENT_ID, oauthErrorOf, phoneAnswers, pollToken, postForm } from './support';

interface Tokens {
  access_token: string;
  refresh_token: string;
}

/** A device-flow client's tokens, granted `scope`. */
async function deviceTokens(scope?: string): Promise<Tokens> {
  const device = await authorizeDevice(undefined, scope);
  await phoneAnswers(device, 'confirm');
  const res = await pollToken(device.device_code);
  expect(res.status).toBe(200);
  return res.json();
}

const deviceToken = async (scope?: string) => (await deviceTokens(scope)).access_token;

const userinfo = (token: string, method = 'GET') => api('/oauth/userinfo', { method, headers: bearer(token) });

describe('/oauth/userinfo needs the openid scope', () => {
  it('answers a device token granted openid, by GET and by POST, and its refreshed successor', async () => {
    const tokens = await deviceTokens('openid profile');
    const refreshed = await postForm('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      client_id: CLIENT_ID,
    });
    expect(refreshed.status).toBe(200);
    const successor = ((await refreshed.json()) as Tokens).access_token;
    for (const [token, method] of [
      [tokens.access_token, 'GET'],
      [tokens.access_token, 'POST'],
      [successor, 'GET'],
    ] as const) {
      const res = await userinfo(token, method);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ sub: 'u_dong', name: '东东', preferred_username: 'dong' });
    }
  });

  it('refuses a device token issued without openid: 403 insufficient_scope, by GET and by POST', async () => {
    for (const scope of [undefined, 'profile', 'offline_access profile']) {
      const token = await deviceToken(scope);
      for (const method of ['GET', 'POST']) {
        const res = await userinfo(token, method);
        expect(res.headers.get('WWW-Authenticate'), `${scope} ${method}`).toMatch(/^Bearer error="insufficient_scope"/);
        expect(res.headers.get('Cache-Control')).toBe('no-store');
        expect(await oauthErrorOf(res)).toMatchObject({ status: 403, error: 'insufficient_scope' });
      }
    }
  });

  it('refuses a page’s token (no scope asked for): 403 insufficient_scope', async () => {
    const { token } = await login();
    const res = await userinfo(token);
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer error="insufficient_scope"/);
    expect(await oauthErrorOf(res)).toMatchObject({ status: 403, error: 'insufficient_scope' });
  });

  it('still answers 401 for a missing or invalid token, before any scope is judged', async () => {
    const none = await api('/oauth/userinfo');
    expect(none.status).toBe(401);
    expect(none.headers.get('WWW-Authenticate')).toBe('Bearer');
    const forged = await userinfo('eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1X2RvbmcifQ.c2ln');
    expect(forged.headers.get('WWW-Authenticate')).toMatch(/^Bearer error="invalid_token"/);
    expect(await oauthErrorOf(forged)).toMatchObject({ status: 401, error: 'invalid_token' });
  });
});
