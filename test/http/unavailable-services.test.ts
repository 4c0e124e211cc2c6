/**
 * Faults in the middle of a login: the login's object evicted or reset under a waiting poll,
 * D1 failing, and the user's sessions object failing. The client hears a clean answer (the state, or 503 with Retry-After, never a
 * stack) and its next request continues where the session was.
 */
import { abortAllDurableObjects, evictDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import {
  act,
  api,
  bearer,
  brokenUserSessions,
  createQr,
  errorOf,
  login,
  sessionObject,
  status,
  stillPending,
} from '../helpers';

/** A D1 database whose every query throws, as when D1 is unreachable. */
function brokenDb(): D1Database {
  const fail = (): never => {
    throw new Error('D1_ERROR: Network connection lost.');
  };
  const statement = { bind: fail, first: fail, run: fail, all: fail, raw: fail };
  return { prepare: () => statement, batch: fail, exec: fail, dump: fail, withSession: fail } as unknown as D1Database;
}

async function expectUnavailable(res: Response) {
  expect(res.status).toBe(503);
  expect(res.headers.get('Retry-After')).toMatch(/^\d+$/);
  const text = await res.text();
  expect(JSON.parse(text)).toMatchObject({ error: 'service_unavailable' });
  expect(text).not.toMatch(/Error:|stack|D1_ERROR|\n\s+at /);
}

describe('the login’s object under faults', () => {
  it('evicted while a PC long-polls: the poll ends on time, the next poll continues, the login completes', async () => {
    const qr = await createQr();
    const { token } = await login('dong', '111');
    const waiting = status(qr, '?after=0&wait=1');
    expect(await stillPending(waiting)).toBe(true);
    // The poll waits in the Worker, not in the object: the object goes, the poll's 1 s runs on.
    await evictDurableObject(sessionObject(qr));
    const drained = await waiting;
    expect(drained.status).toBe(200);
    expect(await drained.json()).toMatchObject({ status: 'noscan', version: 0 });
    // The PC's next long-poll waits on the fresh instance and is woken by the scan.
    const next = status(qr, '?after=0&wait=10');
    expect(await stillPending(next)).toBe(true);
    expect((await act(qr, 'scan', token)).status).toBe(200);
    expect(await (await next).json()).toMatchObject({ status: 'scan-wait-confirm', version: 1 });
    const last = status(qr, '?after=1&wait=10');
    expect(await stillPending(last)).toBe(true);
    expect((await act(qr, 'confirm', token)).status).toBe(200);
    const done = (await (await last).json()) as { token?: string; user?: { username: string } };
    expect(done).toMatchObject({ status: 'scan-confirm', version: 2, user: { username: 'dong' } });
    expect((await api('/api/me', { headers: bearer(done.token ?? '') })).status).toBe(200);
  });

  it('reset while a poll is in flight: that poll answers 503 with Retry-After, the next one sees the state', async () => {
    const qr = await createQr();
    const { token } = await login('dong', '111');
    expect((await act(qr, 'scan', token)).status).toBe(200);
    const waiting = status(qr, '?after=1&wait=10');
    expect(await stillPending(waiting)).toBe(true);
    await abortAllDurableObjects();
    await expectUnavailable(await waiting);
    // The state is in storage: nothing was lost.
    expect(await (await status(qr)).json()).toMatchObject({ status: 'scan-wait-confirm', version: 1 });
    expect((await act(qr, 'confirm', token)).status).toBe(200);
    const done = (await (await status(qr, '?after=1')).json()) as { token?: string };
    expect(done).toMatchObject({ status: 'scan-confirm', version: 2 });
    expect((await api('/api/me', { headers: bearer(done.token ?? '') })).status).toBe(200);
  });
});

describe('D1 unavailable', () => {
  it('a password login answers 503 service_unavailable with Retry-After, no stack', async () => {
    const req = new Request('https://login.example/api/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': '203.0.113.50' },
      body: JSON.stringify({ username: 'dong', password: '111' }),
    });
    await expectUnavailable(await app.fetch(req, { ...env, DB: brokenDb() }));
  });

  it('a refresh answers 503 and spends nothing: the same refresh token works once D1 is back', async () => {
    const { refresh_token } = await login('dong', '111');
    const refresh = (bindings: typeof env) =>
      app.fetch(
        new Request('https://login.example/oauth/token', {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token }),
        }),
        bindings,
      );
    const down = await refresh({ ...env, DB: brokenDb() });
    expect(down.status).toBe(503);
    expect(down.headers.get('Retry-After')).toMatch(/^\d+$/);
    expect(await down.json()).toMatchObject({ error: 'temporarily_unavailable' });
    // Not rotated: sent again later, it is neither "just rotated" nor reuse that signs the session out.
    expect((await refresh(env)).status).toBe(200);
  });

  it('is not on a signed-in request’s path: sessions are checked in the user’s object', async () => {
    const { token } = await login('dong', '111');
    const req = new Request('https://login.example/api/me', { headers: bearer(token) });
    expect((await app.fetch(req, { ...env, DB: brokenDb() })).status).toBe(200);
  });
});

describe('the user’s sessions object unavailable', () => {
  const broken = () => ({ ...env, USER_SESSIONS: brokenUserSessions() });

  it('/api/me with a valid token answers 503 (the revocation check cannot be skipped)', async () => {
    const { token } = await login('dong', '111');
    const req = new Request('https://login.example/api/me', { headers: bearer(token) });
    await expectUnavailable(await app.fetch(req, broken()));
    // With the object back, the same token works.
    expect((await api('/api/me', { headers: bearer(token) })).status).toBe(200);
  });

  it('a phone step with a valid token answers 503 and leaves the login as it was', async () => {
    const qr = await createQr();
    const { token } = await login('dong', '111');
    const req = new Request(`https://login.example/api/qrcodes/${qr.qrcode_id}/scan`, {
      method: 'POST',
      headers: bearer(token),
    });
    await expectUnavailable(await app.fetch(req, broken()));
    expect(await (await status(qr)).json()).toMatchObject({ status: 'noscan', version: 0 });
    expect(await errorOf(await act(qr, 'confirm', token))).toMatchObject({ status: 409 });
  });

  it('when it fails as the PC collects its token, the login is not lost: the retry gets it', async () => {
    const qr = await createQr();
    const { token } = await login('dong', '111');
    await act(qr, 'scan', token);
    await act(qr, 'confirm', token);
    const req = new Request(`https://login.example/api/qrcodes/${qr.qrcode_id}/status?after=1`, {
      headers: { 'X-Poll-Token': qr.poll_token },
    });
    await expectUnavailable(await app.fetch(req, broken()));
    const retry = (await (await status(qr, '?after=1')).json()) as { status: string; token?: string };
    expect(retry).toMatchObject({ status: 'scan-confirm', version: 2 });
    expect((await api('/api/me', { headers: bearer(retry.token ?? '') })).status).toBe(200);
    expect(await errorOf(await status(qr))).toMatchObject({ status: 410, error: 'qrcode_expired' });
  });
});
