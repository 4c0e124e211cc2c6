/**
 * Refresh tokens (RFC 6749 §6, RFC 9700 §4.14): every refresh rotates, a rotated token sent
 * again is refused (within 10 s: two tabs racing, nothing else happens; later: theft, and the
 * whole session is signed out), concurrent refreshes have exactly one winner, and every bad
 * request gets one clear RFC 6749 error and changes nothing.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/identity/passwords';
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
import {
  ageRotations,
  formRequest,
  introspect,
  inUserObject,
  REFRESH_GRANT,
  type Refreshed,
  refresh,
  userObject,
  withWebhooks,
} from './support';

const me = (token: string) => api('/api/me', { headers: bearer(token) });

async function refreshed(refreshToken: string, clientId?: string): Promise<Refreshed> {
  const res = await refresh(refreshToken, clientId);
  if (res.status !== 200) throw new Error(`refresh failed: ${res.status} ${await res.text()}`);
  return res.json();
}

describe('a refresh', () => {
  it('answers a new access token and the refresh token’s successor; the one sent stops working', async () => {
    const signedIn = await login('guang', '222');
    const res = await refresh(signedIn.refresh_token);
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const body = (await res.json()) as Refreshed;
    expect(body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
      refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{107}$/),
    });
    expect(body.refresh_token).not.toBe(signedIn.refresh_token);
    // The same session, a new token.
    const before = decodeJwt(signedIn.token);
    const after = decodeJwt(body.access_token);
    expect(after).toMatchObject({ sid: before.sid, sub: 'u_guang', username: 'guang' });
    expect(after.jti).not.toBe(before.jti);
    expect((await me(body.access_token)).status).toBe(200);
    // The old refresh token is spent; the new one works.
    expect(await oauthErrorOf(await refresh(signedIn.refresh_token))).toMatchObject({
      status: 400,
      error: 'invalid_grant',
    });
    expect((await refresh(body.refresh_token)).status).toBe(200);
  });

  it('of concurrent refreshes of one token, exactly one succeeds', async () => {
    const signedIn = await login();
    const answers = await Promise.all(Array.from({ length: 6 }, () => refresh(signedIn.refresh_token)));
    const winners = answers.filter((res) => res.status === 200);
    expect(winners).toHaveLength(1);
    for (const res of answers.filter((r) => r.status !== 200)) {
      expect(await oauthErrorOf(res)).toMatchObject({ status: 400, error: 'invalid_grant' });
    }
    // The losers were the same client racing (within 10 s): the session lives on.
    const { refresh_token } = (await winners[0]!.json()) as Refreshed;
    expect((await refresh(refresh_token)).status).toBe(200);
    expect((await me(signedIn.token)).status).toBe(200);
  });

  it('a rotated token sent again within 10 s is refused and revokes nothing', async () => {
    const signedIn = await login();
    const next = await refreshed(signedIn.refresh_token);
    const again = await oauthErrorOf(await refresh(signedIn.refresh_token));
    expect(again).toMatchObject({ status: 400, error: 'invalid_grant' });
    expect(again.error_description).toMatch(/just rotated/);
    expect((await me(next.access_token)).status).toBe(200);
    expect((await refresh(next.refresh_token)).status).toBe(200);
  });

  it('a rotated token sent again more than 10 s later signs the whole session out, successor too, and says so', async () => {
    const signedIn = await login();
    const sid = decodeJwt(signedIn.token).sid;
    const next = await refreshed(signedIn.refresh_token);
    await ageRotations('u_dong', 11_000);
    const { res, events } = await withWebhooks(
      formRequest('/oauth/token', { grant_type: REFRESH_GRANT, refresh_token: signedIn.refresh_token }),
    );
    expect(await oauthErrorOf(res)).toMatchObject({ status: 400, error: 'invalid_grant' });
    expect(events).toEqual([
      expect.objectContaining({
        type: 'session.revoked',
        data: { sid, user: { id: 'u_dong', username: 'dong', display_name: '东东' } },
      }),
    ]);
    // Everything of that session is dead: its access tokens and its successor refresh token.
    expect((await me(next.access_token)).status).toBe(401);
    expect((await me(signedIn.token)).status).toBe(401);
    expect(await oauthErrorOf(await refresh(next.refresh_token))).toMatchObject({ error: 'invalid_grant' });
    expect(await introspect(next.refresh_token)).toEqual({ active: false });
  });

  it('survives its user’s object being evicted between two rotations', async () => {
    const signedIn = await login('guang', '222');
    const first = await refreshed(signedIn.refresh_token);
    await evictDurableObject(userObject('u_guang'));
    const second = await refreshed(first.refresh_token);
    await evictDurableObject(userObject('u_guang'));
    expect((await me(second.access_token)).status).toBe(200);
    expect(await oauthErrorOf(await refresh(first.refresh_token))).toMatchObject({ error: 'invalid_grant' });
    expect((await refresh(second.refresh_token)).status).toBe(200);
  });

  it('ends with the session: after the refresh token’s idle life, and at the session’s longest life', async () => {
    const idle = await login();
    const idleSid = decodeJwt(idle.token).sid as string;
    await inUserObject('u_dong', 'UPDATE sessions SET refresh_expires_at = ? WHERE sid = ?', Date.now() - 1, idleSid);
    expect(await oauthErrorOf(await refresh(idle.refresh_token))).toMatchObject({ error: 'invalid_grant' });
    // An ended session's access token is refused too, before its own exp.
    expect((await me(idle.token)).status).toBe(401);

    const old = await login();
    const oldSid = decodeJwt(old.token).sid as string;
    await inUserObject('u_dong', 'UPDATE sessions SET ends_at = ? WHERE sid = ?', Date.now() - 1, oldSid);
    expect(await oauthErrorOf(await refresh(old.refresh_token))).toMatchObject({ error: 'invalid_grant' });
  });

  it('renews nothing once the account is disabled: the session is signed out, and says so', async () => {
    // An account as `npm run accounts -- add` makes it, then disabled as `… disable` does.
    const username = `closing-${crypto.randomUUID().slice(0, 8)}`;
    await env.DB.prepare('INSERT INTO users (id, username, display_name, password_hash) VALUES (?, ?, ?, ?)')
      .bind(`u_${username}`, username, 'Closing', await hashPassword('s3cret-pass'))
      .run();
    const signedIn = await login(username, 's3cret-pass');
    const next = await refreshed(signedIn.refresh_token);
    await env.DB.prepare('UPDATE users SET disabled_at = ? WHERE username = ?')
      .bind(new Date().toISOString(), username)
      .run();
    const { res, events } = await withWebhooks(
      formRequest('/oauth/token', { grant_type: REFRESH_GRANT, refresh_token: next.refresh_token }),
    );
    expect(await oauthErrorOf(res)).toEqual({
      status: 400,
      error: 'invalid_grant',
      error_description: 'This account is disabled or was deleted: its session is signed out.',
    });
    expect(events).toEqual([
      expect.objectContaining({
        type: 'session.revoked',
        data: { sid: decodeJwt(signedIn.token).sid, user: { id: `u_${username}`, username, display_name: 'Closing' } },
      }),
    ]);
    // Its last access token stops at once too; enabling the account again does not revive it.
    expect((await me(next.access_token)).status).toBe(401);
    await env.DB.prepare('UPDATE users SET disabled_at = NULL WHERE username = ?').bind(username).run();
    expect(await oauthErrorOf(await refresh(next.refresh_token))).toMatchObject({ error: 'invalid_grant' });
  });

  it('never outlives SESSION_MAX_SECONDS, however often it is refreshed', async () => {
    const signedIn = await login();
    const sid = decodeJwt(signedIn.token).sid as string;
    const soon = Date.now() + 60_000;
    await inUserObject('u_dong', 'UPDATE sessions SET ends_at = ? WHERE sid = ?', soon, sid);
    await refreshed(signedIn.refresh_token);
    const [row] = await inUserObject<{ refresh_expires_at: number }>(
      'u_dong',
      'SELECT refresh_expires_at FROM sessions WHERE sid = ?',
      sid,
    );
    expect(row?.refresh_expires_at).toBe(soon);
  });
});

describe('a device-flow client’s refresh', () => {
  async function deviceTokens(scope?: string): Promise<Refreshed> {
    const auth = await authorizeDevice(CLIENT_ID, scope);
    await phoneAnswers(auth, 'confirm');
    const res = await pollToken(auth.device_code);
    if (res.status !== 200) throw new Error(`device token failed: ${res.status} ${await res.text()}`);
    return res.json();
  }

  it('names its client, and rotates like a page’s', async () => {
    const tokens = await deviceTokens();
    const next = await refreshed(tokens.refresh_token, CLIENT_ID);
    expect(decodeJwt(next.access_token)).toMatchObject({
      client_id: CLIENT_ID,
      sid: decodeJwt(tokens.access_token).sid,
    });
  });

  it('is refused for another client, or without a client, and nothing changes', async () => {
    const tokens = await deviceTokens();
    for (const res of [await refresh(tokens.refresh_token, OTHER_CLIENT_ID), await refresh(tokens.refresh_token)]) {
      const error = await oauthErrorOf(res);
      expect(error).toMatchObject({ status: 400, error: 'invalid_grant' });
      expect(error.error_description).toMatch(/another client/);
    }
    // A page's token sent by a client is another client's too.
    const page = await login();
    expect(await oauthErrorOf(await refresh(page.refresh_token, CLIENT_ID))).toMatchObject({ error: 'invalid_grant' });
    expect((await refresh(tokens.refresh_token, CLIENT_ID)).status).toBe(200);
    expect((await refresh(page.refresh_token)).status).toBe(200);
  });
});

describe('bad refreshes: one clear RFC 6749 error each, and nothing changes', () => {
  it('answers each with its error and leaves the real token working', async () => {
    const signedIn = await login();
    const token = signedIn.refresh_token;
    const cases: [string, Promise<Response>, number, string][] = [
      ['truncated', refresh(token.slice(0, -1)), 400, 'invalid_grant'],
      [
        'one character changed',
        refresh(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`),
        400,
        'invalid_grant',
      ],
      ['malformed', refresh('not a token at all'), 400, 'invalid_grant'],
      ['an id this namespace never made', refresh(`${'f'.repeat(64)}${token.slice(64)}`), 400, 'invalid_grant'],
      ['an access token', refresh(signedIn.token), 400, 'invalid_grant'],
      ['a client not registered', refresh(token, 'nobody-registered-me'), 401, 'invalid_client'],
      ['no refresh_token', postForm('/oauth/token', { grant_type: REFRESH_GRANT }), 400, 'invalid_request'],
      [
        'a duplicated field',
        postForm('/oauth/token', `grant_type=${REFRESH_GRANT}&refresh_token=${token}&refresh_token=${token}`),
        400,
        'invalid_request',
      ],
      [
        'an unknown grant',
        postForm('/oauth/token', { grant_type: 'password', refresh_token: token }),
        400,
        'unsupported_grant_type',
      ],
      [
        'JSON instead of a form',
        api('/oauth/token', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ grant_type: REFRESH_GRANT, refresh_token: token }),
        }),
        400,
        'invalid_request',
      ],
    ];
    for (const [what, answer, status, error] of cases) {
      const got = await oauthErrorOf(await answer);
      expect({ what, status: got.status, error: got.error }).toEqual({ what, status, error });
      expect(got.error_description).toEqual(expect.any(String));
    }
    // None of it spent or revoked anything.
    expect((await me(signedIn.token)).status).toBe(200);
    expect((await refresh(token)).status).toBe(200);
  });

  it('a user whose object is gone: invalid_grant, and the object stays empty', async () => {
    const signedIn = await login('guang', '222');
    const sid = decodeJwt(signedIn.token).sid as string;
    // Every session of guang's ends; the alarm then empties the object.
    for (const row of await inUserObject<{ sid: string }>('u_guang', 'SELECT sid FROM sessions')) {
      await userObject('u_guang').revoke(row.sid);
    }
    expect((await api(`/api/sessions/${sid}`, { method: 'DELETE', headers: bearer(signedIn.token) })).status).toBe(401);
    // (its sign-ins and sign-outs, kept 90 days as recent activity, have aged out too)
    await inUserObject('u_guang', 'UPDATE activity SET at = at - ?', 91 * 86_400_000);
    expect(await runDurableObjectAlarm(userObject('u_guang'))).toBe(true);
    expect(await runInDurableObject(userObject('u_guang'), (_i, state) => state.storage.sql.databaseSize)).toBeLessThan(
      16_384,
    );
    expect(await runDurableObjectAlarm(userObject('u_guang'))).toBe(false);
    expect(await oauthErrorOf(await refresh(signedIn.refresh_token))).toMatchObject({
      status: 400,
      error: 'invalid_grant',
    });
  });
});
