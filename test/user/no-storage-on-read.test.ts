/**
 * The third audit's A7: a user's object that its alarm emptied stays empty when something only
 * reads it. A revoked device's `/api/me`, a junk refresh token naming the object (refreshed,
 * revoked, introspected) or a sign-out of an unknown session answer "nothing" and make no
 * tables, no stored value and no alarm; the next sign-in makes them again, with the alarm that
 * cleans them up.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api, bearer, login } from '../helpers';
import { oauthErrorOf } from '../oauth/support';
import { ageActivity, introspect, refresh, revoke, userObject } from '../sessions/support';

const me = (token: string) => api('/api/me', { headers: bearer(token) });

/** What the user's object stores: its own tables, its stored values, its alarm. */
function stored(userId: string) {
  return runInDurableObject(userObject(userId), async (_instance, state) => ({
    tables: state.storage.sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'",
      )
      .toArray()
      .map((row) => row.name),
    values: [...state.storage.kv.list()].length,
    alarm: await state.storage.getAlarm(),
  }));
}

const EMPTY = { tables: [], values: 0, alarm: null };

/** A refresh token of the right shape naming `userId`'s object, but never issued. */
function junkRefreshToken(userId: string): string {
  const objectId = env.USER_SESSIONS.idFromName(`accounts:${userId}`).toString();
  return `${objectId}${'A'.repeat(20)}${crypto.randomUUID().replaceAll('-', '').slice(0, 23)}`;
}

describe('an emptied user object', () => {
  it('stays empty when a revoked device or a junk refresh token reads it, and fills again at a sign-in', async () => {
    const signedIn = await login('guang', '222');
    expect((await api('/api/logout', { method: 'POST', headers: bearer(signedIn.token) })).status).toBe(204);
    // The sign-in and the sign-out stay in the user's recent activity for 90 days: past them,
    // the alarm empties the object.
    await ageActivity('u_guang', 91 * 86_400_000);
    expect(await runDurableObjectAlarm(userObject('u_guang'))).toBe(true);
    expect(await stored('u_guang')).toEqual(EMPTY);

    // The signed-out device keeps asking who it is.
    expect((await me(signedIn.token)).status).toBe(401);
    expect(await stored('u_guang')).toEqual(EMPTY);

    // Its spent refresh token, and one that was never issued, each name the object.
    for (const token of [signedIn.refresh_token, junkRefreshToken('u_guang')]) {
      expect(await oauthErrorOf(await refresh(token))).toMatchObject({ status: 400, error: 'invalid_grant' });
      expect((await revoke(token)).status).toBe(200);
      expect(await introspect(token)).toEqual({ active: false });
    }
    expect(await userObject('u_guang').revoke('no-such-session')).toEqual([]);
    expect(await userObject('u_guang').list(null)).toEqual([]);
    expect(await userObject('u_guang').activity()).toEqual([]);
    expect(await userObject('u_guang').passkeyAt('no-such-session')).toBeNull();
    expect(await stored('u_guang')).toEqual(EMPTY);
    // No alarm was left to ring.
    expect(await runDurableObjectAlarm(userObject('u_guang'))).toBe(false);

    // A sign-in makes the tables again, with the alarm that will clean them up.
    const again = await login('guang', '222');
    expect((await me(again.token)).status).toBe(200);
    const filled = await stored('u_guang');
    expect(filled.tables).toEqual(expect.arrayContaining(['sessions', 'rotated', 'activity']));
    expect(filled.alarm).toBeGreaterThan(Date.now());
  });

  it('an object never used makes no storage either', async () => {
    expect(await oauthErrorOf(await refresh(junkRefreshToken('u_nobody')))).toMatchObject({
      status: 400,
      error: 'invalid_grant',
    });
    expect(await userObject('u_nobody').check('no-such-session')).toBeNull();
    expect(await userObject('u_nobody').passkeys()).toEqual([]);
    expect(await stored('u_nobody')).toEqual(EMPTY);
  });
});
