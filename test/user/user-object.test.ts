/**
 * The user's sessions object as its own owner: its alarm forgets ended sessions and empties the
 * storage once none is left and the user's recent activity has aged out (no cron), and the last version's sessions (rows of D1's `sessions`)
 * keep working until their old end, moved into the object the first time they are seen.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { resetLegacyDrain } from '../../src/user/legacy';
import { api, bearer, login, ORIGIN } from '../helpers';
import { ageActivity, inUserObject, userObject } from '../sessions/support';
import { devKey, signWith } from '../tokens/support';

const me = (token: string) => api('/api/me', { headers: bearer(token) });

describe('the alarm', () => {
  it('forgets ended sessions, keeps live ones, and empties the object when none is left', async () => {
    const ended = await login('guang', '222');
    const live = await login('guang', '222');
    const endedSid = decodeJwt(ended.token).sid as string;
    await inUserObject('u_guang', 'UPDATE sessions SET ends_at = ? WHERE sid = ?', Date.now() - 1, endedSid);
    await inUserObject('u_guang', 'UPDATE sessions SET ends_at = ? WHERE sid != ?', Date.now() + 60_000, endedSid);
    // Alarms never run early: run it as if its time had come.
    expect(await runDurableObjectAlarm(userObject('u_guang'))).toBe(true);
    const left = await inUserObject<{ sid: string }>('u_guang', 'SELECT sid FROM sessions');
    expect(left.map((r) => r.sid)).not.toContain(endedSid);
    expect(left.map((r) => r.sid)).toContain(decodeJwt(live.token).sid);
    // The next alarm is set at the next end.
    const alarm = await runInDurableObject(userObject('u_guang'), (_i, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now());

    // The last session signs out: the object keeps only the user's recent activity, and frees
    // its storage once that has aged past 90 days too.
    await inUserObject('u_guang', 'DELETE FROM sessions WHERE sid != ?', decodeJwt(live.token).sid as string);
    expect((await api('/api/logout', { method: 'POST', headers: bearer(live.token) })).status).toBe(204);
    expect(await runDurableObjectAlarm(userObject('u_guang'))).toBe(true);
    expect((await userObject('u_guang').activity()).map((e) => e.kind)).toContain('sign_out');
    const later = await runInDurableObject(userObject('u_guang'), (_i, state) => state.storage.getAlarm());
    expect(later).toBeGreaterThan(Date.now() + 89 * 86_400_000);
    await ageActivity('u_guang', 91 * 86_400_000);
    expect(await runDurableObjectAlarm(userObject('u_guang'))).toBe(true);
    const stored = await runInDurableObject(userObject('u_guang'), (_i, state) => ({
      kv: [...state.storage.kv.list()].length,
      tables: state.storage.sql
        .exec<{ name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'",
        )
        .toArray(),
    }));
    expect(stored).toEqual({ kv: 0, tables: [] });
    expect(await runDurableObjectAlarm(userObject('u_guang'))).toBe(false);
    // Signing in again starts afresh.
    expect((await me((await login('guang', '222')).token)).status).toBe(200);
  });
});

describe('the last version’s sessions (D1)', () => {
  const iso = (ms: number) => new Date(ms).toISOString();

  async function legacySession(sid: string, expiresAt: number, revoked = false) {
    await env.DB.prepare(
      `INSERT INTO sessions (sid, user_id, username, display_name, via, user_agent, ip, place, created_at, expires_at, revoked_at)
       VALUES (?, 'u_dong', 'dong', '东东', 'qrcode', 'Old PC', '203.0.113.7', NULL, ?, ?, ?)`,
    )
      .bind(sid, iso(Date.now() - 3_600_000), iso(expiresAt), revoked ? iso(Date.now() - 60_000) : null)
      .run();
    // A token of the last version: 7 days, no preferred_username, a UUID sid.
    const iat = Math.floor(Date.now() / 1000) - 3600;
    const key = devKey();
    return signWith(
      key,
      { alg: key.alg, typ: 'JWT', kid: key.kid },
      {
        sub: 'u_dong',
        username: 'dong',
        name: '东东',
        sid,
        iat,
        exp: iat + 604_800,
        iss: ORIGIN,
        aud: 'qrcode-login',
        jti: crypto.randomUUID(),
      },
    );
  }

  const inD1 = async (sid: string) =>
    (await env.DB.prepare('SELECT sid FROM sessions WHERE sid = ?').bind(sid).first()) !== null;

  it('a live one keeps working, moved into the user’s object and out of D1; it can be signed out', async () => {
    resetLegacyDrain();
    const sid = crypto.randomUUID();
    const token = await legacySession(sid, Date.now() + 86_400_000);
    expect(await (await me(token)).json()).toEqual({ id: 'u_dong', username: 'dong', display_name: '东东' });
    expect(await inD1(sid)).toBe(false);
    const phone = await login();
    const devices = (await (await api('/api/sessions', { headers: bearer(phone.token) })).json()) as { sid: string }[];
    expect(devices).toContainEqual(expect.objectContaining({ sid, via: 'qrcode', user_agent: 'Old PC' }));
    expect((await api(`/api/sessions/${sid}`, { method: 'DELETE', headers: bearer(phone.token) })).status).toBe(204);
    expect((await me(token)).status).toBe(401);
  });

  it('a revoked or ended one stays refused, and the table drains', async () => {
    resetLegacyDrain();
    const revokedSid = crypto.randomUUID();
    const endedSid = crypto.randomUUID();
    const revoked = await legacySession(revokedSid, Date.now() + 86_400_000, true);
    const ended = await legacySession(endedSid, Date.now() - 1000);
    expect((await me(revoked)).status).toBe(401);
    expect((await me(ended)).status).toBe(401);
    expect(await inD1(revokedSid)).toBe(false);
    expect(await inD1(endedSid)).toBe(false);
  });

  it('a session of ours unknown to the object is never looked up in D1', async () => {
    resetLegacyDrain();
    const { token } = await login();
    const sid = decodeJwt(token).sid as string;
    await userObject('u_dong').revoke(sid);
    const queries: string[] = [];
    const watched = {
      prepare: (query: string) => {
        queries.push(query);
        return env.DB.prepare(query);
      },
    } as unknown as D1Database;
    const res = await app.fetch(new Request(`${ORIGIN}/api/me`, { headers: bearer(token) }), { ...env, DB: watched });
    expect(res.status).toBe(401);
    expect(queries).toEqual([]);
  });
});
