/**
 * The third audit's A2, the storage half: a session's refresh family keeps the hashes of its
 * last 10 rotated tokens, not one row per refresh for 30 days, and a token older than those is
 * still known as the family's (its first 21 random characters): sent again, it signs the whole
 * session out as any reused token does. A session of an earlier version (no family yet) keeps
 * its old rotated hashes until their own end, so nothing it could detect before goes unseen.
 */
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { randomToken, sha256Hex } from '../../src/http/crypto';
import { api, bearer, login } from '../helpers';
import { oauthErrorOf } from '../oauth/support';
import {
  ageRotations,
  formRequest,
  introspect,
  inUserObject,
  REFRESH_GRANT,
  type Refreshed,
  refresh,
  revoke,
  userObject,
  withWebhooks,
} from '../sessions/support';

const me = (token: string) => api('/api/me', { headers: bearer(token) });

/** Refreshes `times` times, each a minute after the last (by the object's clock); every token handed out, in order. */
async function refreshTimes(userId: string, first: string, times: number): Promise<Refreshed[]> {
  const answers: Refreshed[] = [];
  let token = first;
  for (let i = 0; i < times; i++) {
    await ageRotations(userId, 61_000);
    const res = await refresh(token);
    if (res.status !== 200) throw new Error(`refresh ${i} failed: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as Refreshed;
    answers.push(body);
    token = body.refresh_token;
  }
  return answers;
}

const rotatedOf = (userId: string, sid: string) =>
  inUserObject<{ generation: number | null }>(userId, 'SELECT generation FROM rotated WHERE sid = ?', sid);

describe('a refresh family', () => {
  it('keeps the last 10 rotated hashes, however often it refreshes', async () => {
    const signedIn = await login('guang', '222');
    const sid = decodeJwt(signedIn.token).sid as string;
    const answers = await refreshTimes('u_guang', signedIn.refresh_token, 25);
    expect(await rotatedOf('u_guang', sid)).toHaveLength(10);
    // Every token of the family shares its first 21 random characters; the rest is new each time.
    const parts = [signedIn.refresh_token, ...answers.map((a) => a.refresh_token)].map((t) => t.slice(64));
    expect(new Set(parts.map((p) => p.slice(0, 21))).size).toBe(1);
    expect(new Set(parts.map((p) => p.slice(21))).size).toBe(26);
    // The newest works.
    expect((await refresh(answers.at(-1)!.refresh_token)).status).toBe(200);
  });

  it('a token older than the kept ones, sent again, signs the whole session out and says so', async () => {
    const signedIn = await login('guang', '222');
    const sid = decodeJwt(signedIn.token).sid;
    const answers = await refreshTimes('u_guang', signedIn.refresh_token, 12);
    const latest = answers.at(-1)!;
    const { res, events } = await withWebhooks(
      formRequest('/oauth/token', { grant_type: REFRESH_GRANT, refresh_token: signedIn.refresh_token }),
    );
    expect(await oauthErrorOf(res)).toEqual({
      status: 400,
      error: 'invalid_grant',
      error_description: 'This refresh token had already been used: its session is signed out.',
    });
    expect(events).toEqual([
      expect.objectContaining({
        type: 'session.revoked',
        data: { sid, user: { id: 'u_guang', username: 'guang', display_name: '光光' } },
      }),
    ]);
    expect((await me(latest.access_token)).status).toBe(401);
    expect(await introspect(latest.refresh_token)).toEqual({ active: false });
    expect(await oauthErrorOf(await refresh(latest.refresh_token))).toMatchObject({ error: 'invalid_grant' });
  });

  it('a mangled copy of a token changes nothing while the family has forgotten none of its tokens', async () => {
    const signedIn = await login('guang', '222');
    const answers = await refreshTimes('u_guang', signedIn.refresh_token, 10);
    const latest = answers.at(-1)!;
    const last = latest.refresh_token.at(-1) === 'A' ? 'B' : 'A';
    const mangled = await oauthErrorOf(await refresh(`${latest.refresh_token.slice(0, -1)}${last}`));
    expect(mangled).toMatchObject({ status: 400, error: 'invalid_grant' });
    expect(mangled.error_description).toMatch(/unknown/);
    expect((await me(latest.access_token)).status).toBe(200);
    expect((await refresh(latest.refresh_token)).status).toBe(200);
  });

  it('a token older than the kept ones revokes its session at /oauth/revoke too', async () => {
    const signedIn = await login('guang', '222');
    const answers = await refreshTimes('u_guang', signedIn.refresh_token, 11);
    expect((await revoke(signedIn.refresh_token)).status).toBe(200);
    expect((await me(answers.at(-1)!.access_token)).status).toBe(401);
  });

  it('a session of an earlier version keeps its old rotated hashes, and their reuse still signs it out', async () => {
    // An account whose object the last version left: its tables without families, one session,
    // and a token it rotated out an hour ago (kept 30 days by that version).
    await env.DB.prepare(
      "INSERT INTO users (id, username, display_name, password_hash) VALUES ('u_earlier', 'earlier', 'Earlier', 'x')",
    ).run();
    const objectId = env.USER_SESSIONS.idFromName('accounts:u_earlier');
    const current = `${objectId}${randomToken(32)}`;
    const rotatedOut = `${objectId}${randomToken(32)}`;
    const now = Date.now();
    const sid = randomToken(16);
    await runInDurableObject(userObject('u_earlier'), async (_instance, state) => {
      state.storage.sql.exec(`
        CREATE TABLE sessions (sid TEXT PRIMARY KEY, via TEXT NOT NULL, parent TEXT, client_id TEXT, scope TEXT,
          user_agent TEXT NOT NULL, ip TEXT NOT NULL, place TEXT, created_at INTEGER NOT NULL,
          last_used_at INTEGER NOT NULL, ends_at INTEGER NOT NULL, refresh_hash TEXT UNIQUE,
          refresh_expires_at INTEGER, refreshed_at INTEGER NOT NULL);
        CREATE TABLE rotated (hash TEXT PRIMARY KEY, sid TEXT NOT NULL, rotated_at INTEGER NOT NULL,
          expires_at INTEGER NOT NULL);
        CREATE INDEX rotated_by_sid ON rotated(sid);`);
      state.storage.sql.exec(
        `INSERT INTO sessions VALUES (?, 'password', NULL, NULL, NULL, 'Old phone', '203.0.113.9', NULL, ?, ?, ?, ?, ?, ?)`,
        sid,
        now - 7_200_000,
        now - 3_600_000,
        now + 86_400_000,
        await sha256Hex(current),
        now + 3_600_000,
        now - 3_600_000,
      );
      state.storage.sql.exec(
        'INSERT INTO rotated VALUES (?, ?, ?, ?)',
        await sha256Hex(rotatedOut),
        sid,
        now - 3_600_000,
        now + 86_400_000,
      );
      state.storage.kv.put('user', { id: 'u_earlier', username: 'earlier', display_name: 'Earlier' });
    });

    // It refreshes as ever; its next tokens are of the family its token began.
    const answers = await refreshTimes('u_earlier', current, 12);
    expect(answers.every((a) => a.refresh_token.slice(64, 85) === current.slice(64, 85))).toBe(true);
    const kept = await rotatedOf('u_earlier', sid);
    expect(kept.filter((r) => r.generation === null)).toHaveLength(1);
    expect(kept.filter((r) => r.generation !== null)).toHaveLength(10);

    // The token it rotated out before the upgrade is still known: reused, it ends the session.
    expect(await oauthErrorOf(await refresh(rotatedOut))).toMatchObject({
      status: 400,
      error: 'invalid_grant',
      error_description: expect.stringMatching(/already been used/),
    });
    expect((await me(answers.at(-1)!.access_token)).status).toBe(401);
  });
});
