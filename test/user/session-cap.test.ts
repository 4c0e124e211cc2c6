/**
 * The third audit's A6: a user keeps at most 50 sessions. A sign-in past that ends the least
 * recently used session that approved none (its tokens answer 401 at once, and the site hears
 * `session.revoked`); the session that approves the login is never the one that ends. The
 * devices list has at most 50 entries, even in an object filled before the cap.
 */
import { env } from 'cloudflare:workers';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/identity/passwords';
import { act, api, bearer, createQr, freshIp, login, ORIGIN, status } from '../helpers';
import { inUserObject, withWebhooks } from '../sessions/support';

const me = (token: string) => api('/api/me', { headers: bearer(token) });
const sidOf = (token: string) => decodeJwt(token).sid as string;
const HOUR = 3_600_000;

/** `count` sessions written straight into the user's object, used `usedAgo` ms ago (as many devices would leave them). */
async function fill(userId: string, count: number, usedAgo: number, parent: string | null = null): Promise<string[]> {
  const now = Date.now();
  const sids = Array.from({ length: count }, () => `filler-${crypto.randomUUID()}`);
  for (const [i, sid] of sids.entries()) {
    await inUserObject(
      userId,
      `INSERT INTO sessions (sid, via, parent, user_agent, ip, created_at, last_used_at, ends_at, refreshed_at)
       VALUES (?, ?, ?, 'Some browser', '203.0.113.1', ?, ?, ?, ?)`,
      sid,
      parent ? 'qrcode' : 'password',
      parent,
      now - usedAgo - HOUR,
      // The first of them the least recently used.
      now - usedAgo + i,
      now + 24 * HOUR,
      now - usedAgo,
    );
  }
  return sids;
}

const setUsed = (userId: string, sid: string, at: number) =>
  inUserObject(userId, 'UPDATE sessions SET last_used_at = ? WHERE sid = ?', at, sid);

const count = async (userId: string) =>
  (await inUserObject<{ n: number }>(userId, 'SELECT COUNT(*) AS n FROM sessions'))[0]!.n;

const PASSWORD = 's3cret-pass';

/** A new account, as `npm run accounts -- add` makes it: its user id and username. */
async function newAccount(): Promise<{ id: string; username: string }> {
  const username = `many-${crypto.randomUUID().slice(0, 8)}`;
  await env.DB.prepare('INSERT INTO users (id, username, display_name, password_hash) VALUES (?, ?, ?, ?)')
    .bind(`u_${username}`, username, 'Many', await hashPassword(PASSWORD))
    .run();
  return { id: `u_${username}`, username };
}

const loginRequest = (username: string) =>
  new Request(`${ORIGIN}/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': freshIp() },
    body: JSON.stringify({ username, password: PASSWORD }),
  });

describe('a user’s sessions', () => {
  it('at 50, a sign-in ends the least recently used one, says so, and leaves the others', async () => {
    const { id, username } = await newAccount();
    const idlest = await login(username, PASSWORD);
    const recent = await login(username, PASSWORD);
    await setUsed(id, sidOf(idlest.token), Date.now() - 48 * HOUR);
    await fill(id, 48, 2 * HOUR);
    expect(await count(id)).toBe(50);

    const { res, events } = await withWebhooks(loginRequest(username));
    expect(res.status).toBe(200);
    expect(events.filter((e) => e.type === 'session.revoked')).toEqual([
      expect.objectContaining({
        data: { sid: sidOf(idlest.token), user: { id, username, display_name: 'Many' } },
      }),
    ]);
    expect(await count(id)).toBe(50);
    expect((await me(idlest.token)).status).toBe(401);
    expect((await me(recent.token)).status).toBe(200);
    expect((await me(((await res.json()) as { token: string }).token)).status).toBe(200);
  });

  it('never ends the phone that approves the login, nor one whose PCs are still signed in: their idlest PC goes first', async () => {
    const { id, username } = await newAccount();
    const phone = await login(username, PASSWORD);
    const other = await login(username, PASSWORD);
    // The phone and the other phone are the least recently used of all; the other has a PC.
    await setUsed(id, sidOf(phone.token), Date.now() - 72 * HOUR);
    await setUsed(id, sidOf(other.token), Date.now() - 48 * HOUR);
    const [itsPc] = await fill(id, 1, 24 * HOUR, sidOf(other.token));
    const rest = await fill(id, 47, 2 * HOUR);
    expect(await count(id)).toBe(50);

    // The phone approves a PC: the phone stays (it approves), the other phone stays (its PC is
    // signed in): the other phone's PC, the idlest of the rest, ends.
    const qr = await createQr();
    expect((await act(qr, 'scan', phone.token)).status).toBe(200);
    expect((await act(qr, 'confirm', phone.token)).status).toBe(200);
    const pc = (await (await status(qr, '?after=1')).json()) as { token?: string };
    expect(pc.token).toEqual(expect.any(String));
    expect((await me(pc.token!)).status).toBe(200);
    expect((await me(phone.token)).status).toBe(200);
    expect((await me(other.token)).status).toBe(200);
    const left = (await inUserObject<{ sid: string }>(id, 'SELECT sid FROM sessions')).map((r) => r.sid);
    expect(left).not.toContain(itsPc);
    expect(left).toEqual(expect.arrayContaining(rest));
    expect(left).toHaveLength(50);
  });

  it('are listed 50 at most, most recently used first, even when an object from before the cap holds more', async () => {
    const { id, username } = await newAccount();
    const phone = await login(username, PASSWORD);
    await fill(id, 70, 2 * HOUR);
    const res = await api('/api/sessions', { headers: bearer(phone.token) });
    const devices = (await res.json()) as { sid: string; current: boolean }[];
    expect(devices).toHaveLength(50);
    expect(devices[0]).toMatchObject({ sid: sidOf(phone.token), current: true });

    // The next sign-in brings the object back to 50, the new session included.
    await login(username, PASSWORD);
    expect(await count(id)).toBe(50);
    expect((await me(phone.token)).status).toBe(200);
  });
});
