/**
 * The moments the site's backend hears of: the routes queue `login.succeeded` when the PC
 * receives its token, `login.cancelled` when the phone cancels or picks the wrong number, and
 * `session.revoked` when a linked device is signed out. A queue that fails, or settings that
 * are missing or malformed, never change a login's answer.
 */

import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { decodeJwt } from 'jose';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { app } from '../../src/app';
import type { Env } from '../../src/env';
import type { QueuedEvent } from '../../src/webhooks/events';
import { act, api, bearer, createQr, freshIp, login, ORIGIN, PC_UA, type QrBody, status } from '../helpers';
import { configured, consume, DONG, endpoint, SECRET } from './support';

let warn: MockInstance<typeof console.warn>;
let error: MockInstance<typeof console.error>;
beforeEach(() => {
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  error = vi.spyOn(console, 'error').mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

/** Webhooks on, with a queue that records what is sent to it (or fails as `send` says). */
function withWebhooks(overrides: Partial<Env> = {}, send?: (event: QueuedEvent) => Promise<void>) {
  const sent: QueuedEvent[] = [];
  const queue = {
    send:
      send ??
      (async (event: QueuedEvent) => {
        sent.push(event);
      }),
  } as unknown as Queue<QueuedEvent>;
  return { bindings: { ...configured, WEBHOOKS: queue, ...overrides } as Env, sent };
}

/** A request through the Worker's router with these bindings; by default waits for its `waitUntil` work. */
async function call(bindings: Env, path: string, init: RequestInit = {}, { settle = true } = {}) {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`${ORIGIN}${path}`, init), bindings, ctx);
  if (settle) await waitOnExecutionContext(ctx);
  return res;
}

const collect = (bindings: Env, qr: QrBody, settle = true) =>
  call(bindings, `/api/qrcodes/${qr.qrcode_id}/status`, { headers: { 'X-Poll-Token': qr.poll_token } }, { settle });

const post = (bindings: Env, path: string, token: string, body?: unknown) =>
  call(bindings, path, {
    method: 'POST',
    headers: { ...bearer(token), 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

/** A QR made through these bindings (for settings such as MATCH_CODE that shape the session). */
async function createWith(bindings: Env) {
  const created = await call(bindings, '/api/qrcodes', { method: 'POST', headers: { 'CF-Connecting-IP': freshIp() } });
  return (await created.json()) as QrBody;
}

/** A QR that dong scanned and confirmed: the PC's next poll collects the token. */
async function confirmed(headers: Record<string, string> = {}) {
  const qr = await createQr(headers);
  const phone = await login();
  await act(qr, 'scan', phone.token);
  await act(qr, 'confirm', phone.token);
  return { qr, phone };
}

const body = (event: QueuedEvent) => JSON.parse(event.payload);

describe('the events the routes queue', () => {
  it('login.succeeded when the PC receives its token: the QR, its new session, the user and who asked', async () => {
    const { bindings, sent } = withWebhooks();
    const { qr } = await confirmed({ 'CF-Connecting-IP': '203.0.113.7' });
    const res = await collect(bindings, qr);
    expect(res.status).toBe(200);
    const pc = (await res.json()) as { token: string };

    expect(sent).toHaveLength(1);
    const [event] = sent;
    expect(event!.type).toBe('login.succeeded');
    expect(event!.id).toMatch(/^msg_[A-Za-z0-9_-]{24}$/);
    const { timestamp, ...rest } = body(event!);
    expect(new Date(timestamp).toISOString()).toBe(timestamp);
    expect(Math.abs(new Date(timestamp).getTime() - Date.now())).toBeLessThan(60_000);
    expect(rest).toEqual({
      type: 'login.succeeded',
      data: {
        qrcode_id: qr.qrcode_id,
        sid: decodeJwt(pc.token).sid,
        user: DONG,
        requester: { user_agent: PC_UA, ip: '203.0.113.7', country: null, city: null, created_at: expect.any(String) },
      },
    });
    // The token is handed out once, and so is the event.
    expect((await collect(bindings, qr)).status).toBe(410);
    expect(sent).toHaveLength(1);
  });

  it('login.cancelled when the phone cancels', async () => {
    const { bindings, sent } = withWebhooks();
    const qr = await createQr();
    const phone = await login();
    await act(qr, 'scan', phone.token);
    expect((await post(bindings, `/api/qrcodes/${qr.qrcode_id}/cancel`, phone.token)).status).toBe(200);
    expect(sent.map((e) => e.type)).toEqual(['login.cancelled']);
    expect(body(sent[0]!)).toMatchObject({ type: 'login.cancelled', data: { qrcode_id: qr.qrcode_id, user: DONG } });
    expect(Object.keys(body(sent[0]!).data).sort()).toEqual(['qrcode_id', 'user']);
  });

  it('login.cancelled when a wrong number pick ends the session', async () => {
    const { bindings, sent } = withWebhooks({ MATCH_CODE: 'on' });
    const qr = await createWith(bindings);
    const phone = await login();
    const { match_choices } = (await (await act(qr, 'scan', phone.token)).json()) as { match_choices: string[] };
    const { match_code } = (await (await status(qr)).json()) as { match_code: string };
    const wrong = match_choices.find((choice) => choice !== match_code);

    const res = await post(bindings, `/api/qrcodes/${qr.qrcode_id}/confirm`, phone.token, { match_code: wrong });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: string }).error).toBe('match_failed');
    expect(sent.map((e) => body(e))).toMatchObject([
      { type: 'login.cancelled', data: { qrcode_id: qr.qrcode_id, user: DONG } },
    ]);
  });

  it('nothing for the steps in between, a refused step, a right number pick or a poll without the token', async () => {
    const { bindings, sent } = withWebhooks({ MATCH_CODE: 'on' });
    const qr = await createWith(bindings);
    const phone = await login();
    const other = await login('guang', '222');
    const id = qr.qrcode_id;
    expect((await post(bindings, `/api/qrcodes/${id}/scan`, phone.token)).status).toBe(200);
    expect((await collect(bindings, qr)).status).toBe(200);
    expect((await post(bindings, `/api/qrcodes/${id}/cancel`, other.token)).status).toBe(403);
    expect((await post(bindings, `/api/qrcodes/${id}/confirm`, phone.token)).status).toBe(400);
    const { match_code } = (await (await status(qr)).json()) as { match_code: string };
    expect((await post(bindings, `/api/qrcodes/${id}/confirm`, phone.token, { match_code })).status).toBe(200);
    expect((await post(bindings, `/api/qrcodes/${id}/cancel`, phone.token)).status).toBe(409);
    expect(sent).toEqual([]);
  });

  it('session.revoked when a linked device is signed out, or signs itself out', async () => {
    const { bindings, sent } = withWebhooks();
    const phone = await login();
    const pc = await login();
    const pcSid = decodeJwt(pc.token).sid;
    const phoneSid = decodeJwt(phone.token).sid;

    const signOut = await call(bindings, `/api/sessions/${pcSid}`, { method: 'DELETE', headers: bearer(phone.token) });
    expect(signOut.status).toBe(204);
    expect((await post(bindings, '/api/logout', phone.token)).status).toBe(204);
    expect(sent.map((e) => body(e))).toMatchObject([
      { type: 'session.revoked', data: { sid: pcSid, user: DONG } },
      { type: 'session.revoked', data: { sid: phoneSid, user: DONG } },
    ]);
    // Each event has a webhook-id of its own.
    expect(new Set(sent.map((e) => e.id)).size).toBe(2);
  });

  it('the event a login queues reaches the site, which verifies it with standardwebhooks', async () => {
    const { bindings, sent } = withWebhooks();
    const { qr } = await confirmed();
    const pc = (await (await collect(bindings, qr)).json()) as { token: string };
    const received = endpoint(() => new Response(null, { status: 204 }));
    expect((await consume(sent)).explicitAcks).toEqual(['m0']);
    const payload = new Webhook(SECRET).verify(received[0]!.body, received[0]!.headers);
    expect(payload).toMatchObject({
      type: 'login.succeeded',
      data: { qrcode_id: qr.qrcode_id, sid: decodeJwt(pc.token).sid, user: DONG },
    });
  });

  it('no session.revoked for a device that is not one’s own', async () => {
    const { bindings, sent } = withWebhooks();
    const phone = await login();
    const stranger = await login('guang', '222');
    const res = await call(bindings, `/api/sessions/${decodeJwt(stranger.token).sid}`, {
      method: 'DELETE',
      headers: bearer(phone.token),
    });
    expect(res.status).toBe(404);
    expect(sent).toEqual([]);
  });
});

describe('a login never depends on its webhook', () => {
  async function expectSignedIn(res: Response) {
    expect(res.status).toBe(200);
    const pc = (await res.json()) as { status: string; token: string; user: unknown };
    expect(pc).toMatchObject({ status: 'scan-confirm', user: DONG });
    expect((await api('/api/me', { headers: bearer(pc.token) })).status).toBe(200);
  }

  it('queues nothing while WEBHOOK_URL and WEBHOOK_SECRET are unset', async () => {
    const { bindings, sent } = withWebhooks({ WEBHOOK_URL: undefined, WEBHOOK_SECRET: undefined });
    const { qr } = await confirmed();
    await expectSignedIn(await collect(bindings, qr));
    expect(sent).toEqual([]);
    expect(warn).not.toHaveBeenCalled();
    expect(error).not.toHaveBeenCalled();
  });

  it('queues nothing with only one of the two set, and says which is missing', async () => {
    for (const [overrides, missing] of [
      [{ WEBHOOK_SECRET: undefined }, 'WEBHOOK_URL is set but WEBHOOK_SECRET is not'],
      [{ WEBHOOK_URL: '' }, 'WEBHOOK_SECRET is set but WEBHOOK_URL is not'],
    ] as const) {
      const { bindings, sent } = withWebhooks(overrides);
      const { qr } = await confirmed();
      await expectSignedIn(await collect(bindings, qr));
      expect(sent).toEqual([]);
      expect(warn.mock.calls.flat().join(' ')).toContain(missing);
    }
  });

  it('a malformed WEBHOOK_SECRET is logged; the login goes on and the event is queued for when it is fixed', async () => {
    const { bindings, sent } = withWebhooks({ WEBHOOK_SECRET: 'whsec_%%%not-base64%%%' });
    const { qr } = await confirmed();
    await expectSignedIn(await collect(bindings, qr));
    const logged = error.mock.calls.flat().join(' ');
    expect(logged).toContain('WEBHOOK_SECRET is not whsec_ followed by base64');
    expect(logged).not.toContain('not-base64');
    expect(sent.map((e) => e.type)).toEqual(['login.succeeded']);
  });

  it('a queue that refuses or throws leaves the login as it was, and the loss is logged', async () => {
    const failures: [string, () => Promise<void>][] = [
      ['refuses', () => Promise.reject(new Error('Queue send failed: Too Many Requests'))],
      [
        'throws',
        () => {
          throw new Error('queue binding broken');
        },
      ],
    ];
    for (const [how, send] of failures) {
      error.mockClear();
      const { bindings } = withWebhooks({}, send);
      const { qr } = await confirmed();
      await expectSignedIn(await collect(bindings, qr));
      expect(error.mock.calls.flat().join(' '), how).toMatch(
        /webhook msg_\S+ \(login\.succeeded\) could not be queued and is lost/,
      );
    }
  });

  it('a queue that never answers does not hold the answer back', async () => {
    const { bindings } = withWebhooks({}, () => new Promise<void>(() => {}));
    const { qr } = await confirmed();
    await expectSignedIn(await collect(bindings, qr, false));
  });

  it('a missing queue binding is logged and changes nothing', async () => {
    const { bindings } = withWebhooks({ WEBHOOKS: undefined });
    const phone = await login();
    expect((await post(bindings, '/api/logout', phone.token)).status).toBe(204);
    expect(error.mock.calls.flat().join(' ')).toContain('the WEBHOOKS queue binding is missing');
  });
});
