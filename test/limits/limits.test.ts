/**
 * The request limits: each answers 429 with `Retry-After`, counted by a shared object before
 * the work it guards, in storage that outlives the object.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import {
  act,
  api,
  createQr,
  errorOf,
  freshIp,
  login,
  ORIGIN,
  postJson,
  status,
  stillPending,
  userCodeOf,
} from '../helpers';

const attempt = (ip: string, username: string, password: string) =>
  postJson('/api/login', { username, password }, { 'CF-Connecting-IP': ip });

/** The counters' object of one client IP. */
const ipCounters = (ip: string) => env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`ip:${ip}`));

/** How many answers had each status. */
function tally(answers: Response[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const res of answers) counts[res.status] = (counts[res.status] ?? 0) + 1;
  return counts;
}

async function expect429(res: Response) {
  expect(await errorOf(res)).toMatchObject({ status: 429, error: 'rate_limited' });
  expect(Number(res.headers.get('Retry-After'))).toBeGreaterThan(0);
}

describe('limits', () => {
  it('creating QR codes: the 121st in a minute from one IP is 429', async () => {
    const ip = freshIp();
    const create = () => api('/api/qrcodes', { method: 'POST', headers: { 'CF-Connecting-IP': ip } });
    const answers = await Promise.all(Array.from({ length: 120 }, create));
    expect(answers.every((res) => res.status === 201)).toBe(true);
    await expect429(await create());
    // Another client is not affected.
    expect((await api('/api/qrcodes', { method: 'POST', headers: { 'CF-Connecting-IP': freshIp() } })).status).toBe(
      201,
    );
  });

  it('failed logins: after 10 for one username from one IP, even the right password is 429', async () => {
    const ip = freshIp();
    for (let i = 0; i < 10; i++) expect((await attempt(ip, 'guang', 'wrong')).status).toBe(401);
    await expect429(await attempt(ip, 'guang', '222'));
    // The same user from elsewhere still signs in.
    expect((await attempt(freshIp(), 'guang', '222')).status).toBe(200);
  });

  it('failed logins: of 100 concurrent guesses for one username, only 10 reach the password check', async () => {
    const ip = freshIp();
    // The right password is in the middle: were every guess checked before the first is counted, it would pass.
    const guesses = Array.from({ length: 100 }, (_, i) => (i === 50 ? '222' : `wrong-${i}`));
    const answers = await Promise.all(guesses.map((password) => attempt(ip, 'guang', password)));
    const counts = tally(answers);
    expect((counts[401] ?? 0) + (counts[200] ?? 0)).toBeLessThanOrEqual(10);
    expect(counts[429]).toBeGreaterThanOrEqual(90);
    await expect429(answers.find((res) => res.status === 429)!);
  });

  it('failed logins: a successful login does not count as a failure', async () => {
    const ip = freshIp();
    for (let i = 0; i < 9; i++) expect((await attempt(ip, 'dong', 'wrong')).status).toBe(401);
    expect((await attempt(ip, 'dong', '111')).status).toBe(200);
    expect((await attempt(ip, 'dong', 'wrong')).status).toBe(401);
    await expect429(await attempt(ip, 'dong', 'wrong'));
  });

  it('login attempts from one IP: the 31st in a minute is 429, whatever the usernames', async () => {
    const ip = freshIp();
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => attempt(ip, `nobody-${i}`, 'wrong')));
    expect(tally(answers)).toEqual({ 401: 30 });
    await expect429(await attempt(ip, 'dong', '111'));
    expect((await attempt(freshIp(), 'dong', '111')).status).toBe(200);
  });

  it('failed logins for one username from all IPs: the 101st in an hour is 429, even with the right password', async () => {
    // An account of its own (with dong's password), so that no other test locks it.
    await env.DB.prepare(
      `INSERT INTO users (id, username, display_name, password_hash)
       SELECT 'u_victim', 'victim', 'Victim', password_hash FROM users WHERE id = 'u_dong'`,
    ).run();
    const answers = await Promise.all(Array.from({ length: 101 }, () => attempt(freshIp(), 'victim', 'wrong')));
    expect(tally(answers)).toEqual({ 401: 100, 429: 1 });
    await expect429(await attempt(freshIp(), 'Victim', '111'));
    // Other usernames are not affected.
    expect((await attempt(freshIp(), 'dong', '111')).status).toBe(200);
  });

  it('typed codes: of 100 concurrent guesses by one user, only 5 are looked up', async () => {
    const userCode = await userCodeOf(await createQr());
    const { token } = await login('guang', '222');
    // The right code is in the middle: were every guess looked up before the first is counted, it would pass.
    const guesses = Array.from({ length: 100 }, (_, i) =>
      i === 50 ? userCode : `BCDF-GH${'JKLMNPQRST'[i % 10]}${'JKLMNPQRST'[Math.floor(i / 10)]}`,
    );
    const answers = await Promise.all(
      guesses.map((code) => postJson('/api/codes/resolve', { user_code: code }, { Authorization: `Bearer ${token}` })),
    );
    const counts = tally(answers);
    expect((counts[404] ?? 0) + (counts[200] ?? 0)).toBeLessThanOrEqual(5);
    expect(counts[429]).toBeGreaterThanOrEqual(95);
    await expect429(answers.find((res) => res.status === 429)!);
  });

  it('counters survive their object being evicted', async () => {
    const ip = freshIp();
    for (let i = 0; i < 10; i++) expect((await attempt(ip, 'guang', 'wrong')).status).toBe(401);
    await evictDurableObject(ipCounters(ip));
    await expect429(await attempt(ip, 'guang', '222'));
  });

  it('a finished window is over at once, and its alarm leaves the storage empty', async () => {
    const ip = freshIp();
    for (let i = 0; i < 10; i++) expect((await attempt(ip, 'guang', 'wrong')).status).toBe(401);
    const counters = ipCounters(ip);
    expect(await runInDurableObject(counters, (_o, state) => state.storage.getAlarm())).not.toBeNull();
    // Move every window an hour into the past: the limit no longer applies, whatever the alarm did.
    await runInDurableObject(counters, (_o, state) => {
      for (const [key, w] of state.storage.kv.list<{ start: number }>()) {
        state.storage.kv.put(key, { ...w, start: w.start - 3_600_000 });
      }
    });
    expect((await attempt(ip, 'guang', '222')).status).toBe(200);
    await runInDurableObject(counters, (_o, state) => {
      for (const [key, w] of state.storage.kv.list<{ start: number }>()) {
        state.storage.kv.put(key, { ...w, start: w.start - 3_600_000 });
      }
    });
    expect(await runDurableObjectAlarm(counters)).toBe(true);
    const left = await runInDurableObject(counters, async (_o, state) => ({
      keys: [...state.storage.kv.list()].length,
      alarm: await state.storage.getAlarm(),
    }));
    expect(left).toEqual({ keys: 0, alarm: null });
  });

  it('RATE_LIMIT=off turns the Worker-side limits off', async () => {
    const ip = freshIp();
    const off = { ...env, RATE_LIMIT: 'off' };
    const send = (password: string) =>
      app.fetch(
        new Request(`${ORIGIN}/api/login`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': ip },
          body: JSON.stringify({ username: 'guang', password }),
        }),
        off,
      );
    for (let i = 0; i < 11; i++) expect((await send('wrong')).status).toBe(401);
    expect((await send('222')).status).toBe(200);
  });
});

describe('polling limits', () => {
  it('a client that ignores the long-poll gets 429 after 30 immediate answers in 10 s', async () => {
    const qr = await createQr();
    const { token } = await login();
    await act(qr, 'scan', token);
    const codes: number[] = [];
    for (let i = 0; i < 30; i++) codes.push((await status(qr, '?after=0')).status);
    expect(codes.every((c) => c === 200)).toBe(true);
    await expect429(await status(qr, '?after=0'));
  });

  it('wait=0 is an immediate answer and counts toward the same limit', async () => {
    const qr = await createQr();
    const codes: number[] = [];
    for (let i = 0; i < 30; i++) codes.push((await status(qr, '?after=0&wait=0')).status);
    expect(codes.every((c) => c === 200)).toBe(true);
    await expect429(await status(qr, '?after=0&wait=0'));
  });

  it('at most 4 long-polls wait on one QR at once: a fifth is 429, and the four still get the change', async () => {
    const qr = await createQr();
    const waiting: Promise<Response>[] = [];
    for (let i = 0; i < 4; i++) {
      waiting.push(status(qr, '?after=0&wait=30'));
      expect(await stillPending(waiting[i]!)).toBe(true);
    }
    const fifth = await status(qr, '?after=0&wait=30');
    await expect429(fifth);
    expect(Number(fifth.headers.get('Retry-After'))).toBeLessThanOrEqual(30);
    const { token } = await login();
    await act(qr, 'scan', token);
    for (const res of await Promise.all(waiting)) {
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'scan-wait-confirm', version: 1 });
    }
    // Once they have answered, a new long-poll may wait again.
    const next = status(qr, '?after=1&wait=30');
    expect(await stillPending(next)).toBe(true);
    await act(qr, 'cancel', token);
    expect((await next).status).toBe(200);
  });
});
