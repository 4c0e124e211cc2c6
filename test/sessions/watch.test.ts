/**
 * Issue 29, item 1: a page learns that its session ended, at once. `GET /api/sessions/watch` is a
 * stream of server-sent events that the Worker feeds from a hibernatable socket of the user's
 * object, tagged with the session; when that session ends, however it ends, the object sends
 * `{ ended, reason }` on that session's sockets only, and the streams end. A watch is bound to the
 * session, not to the token that opened it (it outlives a renewal), and the object may be evicted
 * while pages watch.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { decodeJwt } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { hashPassword } from '../../src/identity/passwords';
import { api, bearer, errorOf, login, qrLogin } from '../helpers';
import { inUserObject, type Refreshed, refresh, userObject } from './support';

const sidOf = (token: string) => decodeJwt(token).sid as string;

/** Opens the watch of `token`'s session as a page does. */
function watchRequest(token: string, headers: Record<string, string> = {}, signal?: AbortSignal) {
  return api('/api/sessions/watch', { headers: { ...bearer(token), Accept: 'text/event-stream', ...headers }, signal });
}

/**
 * A page's open watch: the events it heard (the `data` of each, parsed), the comments, and a
 * promise of the stream's end; `hangUp()` leaves as a closed tab does.
 */
async function watch(token: string) {
  const leave = new AbortController();
  const res = await watchRequest(token, {}, leave.signal);
  expect(res.status, res.status === 200 ? '' : await res.text()).toBe(200);
  expect(res.headers.get('Content-Type')).toBe('text/event-stream; charset=utf-8');
  const heard: unknown[] = [];
  const comments: string[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let opened!: () => void;
  const open = new Promise<void>((resolve) => {
    opened = resolve;
  });
  const closed = (async () => {
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffer += value;
      for (let at = buffer.indexOf('\n\n'); at >= 0; at = buffer.indexOf('\n\n')) {
        const event = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        if (event.startsWith(':')) comments.push(event.slice(1).trim());
        if (event === ': watching') opened();
        const data = /^data: (.*)$/m.exec(event)?.[1];
        if (data) heard.push(JSON.parse(data));
      }
    }
  })();
  await open;
  return { heard, comments, closed, hangUp: () => leave.abort() };
}

/** The sockets the user's object holds for session `sid`. */
const socketsOf = (userId: string, sid: string) =>
  runInDurableObject(userObject(userId), (_i, state) => state.getWebSockets(sid).length);

/** One more round trip through the object: whatever it sent before has arrived. */
const settle = (userId: string) => runInDurableObject(userObject(userId), () => undefined);

const signOut = (sid: string, token: string) =>
  api(`/api/sessions/${encodeURIComponent(sid)}`, { method: 'DELETE', headers: bearer(token) });

describe('a page watching its session', () => {
  it('hears that it was signed out; the other sessions’ pages hear nothing', async () => {
    const phone = await login('guang', '222');
    const pc = await qrLogin(phone.token);
    const other = await login('guang', '222');
    const pcWatch = await watch(pc);
    const otherWatch = await watch(other.token);
    expect(await socketsOf('u_guang', sidOf(pc))).toBe(1);

    expect((await signOut(sidOf(pc), phone.token)).status).toBe(204);
    await pcWatch.closed;
    expect(pcWatch.heard).toEqual([{ ended: sidOf(pc), reason: 'signed_out' }]);
    await settle('u_guang');
    expect(otherWatch.heard).toEqual([]);
    expect(await socketsOf('u_guang', sidOf(other.token))).toBe(1);
    expect(await socketsOf('u_guang', sidOf(pc))).toBe(0);
    otherWatch.hangUp();
    await vi.waitFor(async () => expect(await socketsOf('u_guang', sidOf(other.token))).toBe(0));
  });

  it('signing the phone out tells the PC it approved, and the phone’s own page', async () => {
    const phone = await login('guang', '222');
    const pc = await qrLogin(phone.token);
    const [phoneWatch, pcWatch] = await Promise.all([watch(phone.token), watch(pc)]);
    expect((await api('/api/logout', { method: 'POST', headers: bearer(phone.token) })).status).toBe(204);
    await Promise.all([phoneWatch.closed, pcWatch.closed]);
    expect(phoneWatch.heard).toEqual([{ ended: sidOf(phone.token), reason: 'signed_out' }]);
    expect(pcWatch.heard).toEqual([{ ended: sidOf(pc), reason: 'signed_out' }]);
  });

  it('outlives the renewal of the token that opened it, and the object’s eviction', async () => {
    const first = await login('guang', '222');
    const watching = await watch(first.token);
    const renewal = await refresh(first.refresh_token);
    expect(renewal.status).toBe(200);
    const renewed = (await renewal.json()) as Refreshed;
    await evictDurableObject(userObject('u_guang'));
    await settle('u_guang');
    expect(watching.heard).toEqual([]);
    expect(await socketsOf('u_guang', sidOf(first.token))).toBe(1);
    // Signed out with the renewed token: the page that watched with the first one hears it.
    expect((await api('/api/logout', { method: 'POST', headers: bearer(renewed.access_token) })).status).toBe(204);
    await watching.closed;
    expect(watching.heard).toEqual([{ ended: sidOf(first.token), reason: 'signed_out' }]);
  });

  it('says why: a reused refresh token, an expiry, a closed account', async () => {
    // A refresh token used again, long after its rotation: theft.
    const stolen = await login('guang', '222');
    const reusedWatch = await watch(stolen.token);
    expect((await refresh(stolen.refresh_token)).status).toBe(200);
    await inUserObject('u_guang', 'UPDATE rotated SET rotated_at = ?', Date.now() - 60_000);
    expect((await refresh(stolen.refresh_token)).status).toBe(400);
    await reusedWatch.closed;
    expect(reusedWatch.heard).toEqual([{ ended: sidOf(stolen.token), reason: 'reused' }]);

    // A session past its end, forgotten by the object's alarm.
    const old = await login('guang', '222');
    const expiredWatch = await watch(old.token);
    await inUserObject('u_guang', 'UPDATE sessions SET ends_at = ? WHERE sid = ?', Date.now() - 1, sidOf(old.token));
    expect(await runDurableObjectAlarm(userObject('u_guang'))).toBe(true);
    await expiredWatch.closed;
    expect(expiredWatch.heard).toEqual([{ ended: sidOf(old.token), reason: 'expired' }]);

    // An account disabled: its next refresh ends every session of it.
    const username = `watched-${crypto.randomUUID().slice(0, 8)}`;
    await env.DB.prepare('INSERT INTO users (id, username, display_name, password_hash) VALUES (?, ?, ?, ?)')
      .bind(`u_${username}`, username, 'Watched', await hashPassword('pass-word'))
      .run();
    const closing = await login(username, 'pass-word');
    const disabledWatch = await watch(closing.token);
    await env.DB.prepare('UPDATE users SET disabled_at = ? WHERE username = ?')
      .bind(new Date().toISOString(), username)
      .run();
    expect((await refresh(closing.refresh_token)).status).toBe(400);
    await disabledWatch.closed;
    expect(disabledWatch.heard).toEqual([{ ended: sidOf(closing.token), reason: 'disabled' }]);
  });

  it('says `too_many` to the least recently used session that a 51st sign-in ends', async () => {
    const username = `crowded-${crypto.randomUUID().slice(0, 8)}`;
    const userId = `u_${username}`;
    await env.DB.prepare('INSERT INTO users (id, username, display_name, password_hash) VALUES (?, ?, ?, ?)')
      .bind(userId, username, 'Crowded', await hashPassword('pass-word'))
      .run();
    const idlest = await login(username, 'pass-word');
    const idlestWatch = await watch(idlest.token);
    const now = Date.now();
    await inUserObject(userId, 'UPDATE sessions SET last_used_at = ?', now - 48 * 3_600_000);
    for (let i = 0; i < 49; i++) {
      await inUserObject(
        userId,
        `INSERT INTO sessions (sid, via, user_agent, ip, created_at, last_used_at, ends_at, refreshed_at)
         VALUES (?, 'password', 'Some browser', '203.0.113.1', ?, ?, ?, ?)`,
        `filler-${i}`,
        now - 3_600_000,
        now - 3_600_000 + i,
        now + 3_600_000,
        now - 3_600_000,
      );
    }
    await login(username, 'pass-word');
    await idlestWatch.closed;
    expect(idlestWatch.heard).toEqual([{ ended: sidOf(idlest.token), reason: 'too_many' }]);
  });
});

describe('opening a watch', () => {
  it('needs a live session of ours, and a page of ours or of ALLOWED_ORIGINS', async () => {
    const { token } = await login('guang', '222');
    expect(await errorOf(await api('/api/sessions/watch'))).toMatchObject({ status: 401, error: 'unauthorized' });
    const stranger = await watchRequest(token, { Origin: 'https://evil.example' });
    expect(await errorOf(stranger)).toMatchObject({ status: 403, error: 'forbidden' });
    const ours = await watch(token);

    // A session that has ended: refused, and the object keeps no socket for it.
    expect((await api('/api/logout', { method: 'POST', headers: bearer(token) })).status).toBe(204);
    await ours.closed;
    expect(await errorOf(await watchRequest(token))).toMatchObject({ status: 401, error: 'unauthorized' });
    expect(await socketsOf('u_guang', sidOf(token))).toBe(0);
  });

  it('a page that leaves leaves no socket in the object', async () => {
    const { token } = await login('guang', '222');
    const page = await watch(token);
    expect(await socketsOf('u_guang', sidOf(token))).toBe(1);
    page.hangUp();
    await vi.waitFor(async () => expect(await socketsOf('u_guang', sidOf(token))).toBe(0));
  });

  it('at most 16 pages watch one session: one more is 429', async () => {
    const { token } = await login('guang', '222');
    const open = await Promise.all(Array.from({ length: 16 }, () => watch(token)));
    expect(await errorOf(await watchRequest(token))).toMatchObject({ status: 429, error: 'rate_limited' });
    for (const page of open) page.hangUp();
    await vi.waitFor(async () => expect(await socketsOf('u_guang', sidOf(token))).toBe(0));
    const again = await watch(token);
    again.hangUp();
  });

  it('a valid token whose session is gone opens nothing', async () => {
    const { token } = await login('dong', '111');
    await inUserObject('u_dong', 'DELETE FROM sessions');
    expect((await watchRequest(token)).status).toBe(401);
  });
});
