/**
 * The QR login, through the Worker as the PC and the phone use it: every transition
 * of the diagram, every refused one, expiry, the long-poll and the one-time token.
 */
import { evictDurableObject, listDurableObjectIds, runDurableObjectAlarm } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import {
  act,
  ageSession,
  api,
  createQr,
  errorOf,
  login,
  PC_UA,
  type QrBody,
  sessionObject,
  status,
  stillPending,
  storedState,
} from '../helpers';

const dong = () => login('dong', '111');
const guang = () => login('guang', '222');

async function scanned(): Promise<{ qr: QrBody; token: string }> {
  const qr = await createQr();
  const { token } = await dong();
  expect((await act(qr, 'scan', token)).status).toBe(200);
  return { qr, token };
}

describe('creating a QR code', () => {
  it('answers 201 with the id, a poll token, the scan URL and the image', async () => {
    const qr = await createQr();
    expect(qr.qrcode_id).toMatch(/^[0-9a-f]{64}$/);
    expect(qr.poll_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(qr.scan_url).toBe(`https://login.example/confirm?id=${qr.qrcode_id}`);
    expect(qr.img).toMatch(/^data:image\/svg\+xml,/);
    // The code to type is made only when the PC asks for it.
    expect(qr).not.toHaveProperty('user_code');
    expect(qr.status).toBe('noscan');
    expect(qr.version).toBe(0);
    const ttl = Date.parse(qr.expires_at) - Date.now();
    expect(ttl).toBeGreaterThan(110_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
  });

  it('never stores the poll token itself, only its hash', async () => {
    const qr = await createQr();
    const { runInDurableObject } = await import('cloudflare:test');
    const stored = await runInDurableObject(sessionObject(qr), (_o, state) =>
      JSON.stringify([...state.storage.kv.list()]),
    );
    expect(stored).not.toContain(qr.poll_token);
  });

  it('records who asked, for the phone to see before it confirms', async () => {
    const qr = await createQr({ 'CF-Connecting-IP': '203.0.113.7' });
    const { token } = await dong();
    const res = await act(qr, 'scan', token);
    const body = (await res.json()) as { requester: Record<string, unknown> };
    expect(body.requester).toMatchObject({ user_agent: PC_UA, ip: '203.0.113.7' });
    expect(Date.parse(body.requester.created_at as string)).not.toBeNaN();
  });
});

describe('the transitions of the diagram', () => {
  it('scan moves noscan to scan-wait-confirm and binds the scanner; the PC sees only the display name', async () => {
    const qr = await createQr();
    const { token } = await dong();
    const res = await act(qr, 'scan', token);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'scan-wait-confirm', version: 1 });
    const polled = (await (await status(qr)).json()) as { scanner: unknown };
    expect(polled).toMatchObject({ status: 'scan-wait-confirm', version: 1 });
    expect(polled.scanner).toEqual({ display_name: '东东' });
  });

  it('a repeated scan by the same user is harmless and makes no new version', async () => {
    const { qr, token } = await scanned();
    const again = await act(qr, 'scan', token);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: 'scan-wait-confirm', version: 1 });
  });

  it('a second scanner gets 409 and changes nothing', async () => {
    const { qr } = await scanned();
    const other = await guang();
    expect(await errorOf(await act(qr, 'scan', other.token))).toMatchObject({
      status: 409,
      error: 'invalid_transition',
    });
    expect(await (await status(qr)).json()).toMatchObject({ version: 1, scanner: { display_name: '东东' } });
  });

  it('confirm by the scanner moves to scan-confirm', async () => {
    const { qr, token } = await scanned();
    const res = await act(qr, 'confirm', token);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'scan-confirm', version: 2 });
  });

  it('cancel by the scanner moves to scan-cancel, and the PC sees it', async () => {
    const { qr, token } = await scanned();
    const res = await act(qr, 'cancel', token);
    expect(await res.json()).toMatchObject({ status: 'scan-cancel', version: 2 });
    expect(await (await status(qr, '?after=1')).json()).toMatchObject({ status: 'scan-cancel', version: 2 });
  });

  it('confirm or cancel by someone who did not scan is 403', async () => {
    const { qr } = await scanned();
    const other = await guang();
    expect(await errorOf(await act(qr, 'confirm', other.token))).toMatchObject({ status: 403, error: 'forbidden' });
    expect(await errorOf(await act(qr, 'cancel', other.token))).toMatchObject({ status: 403, error: 'forbidden' });
    expect(await (await status(qr)).json()).toMatchObject({ status: 'scan-wait-confirm', version: 1 });
  });

  it('confirm or cancel before the scan is 409', async () => {
    const qr = await createQr();
    const { token } = await dong();
    expect(await errorOf(await act(qr, 'confirm', token))).toMatchObject({ status: 409, error: 'invalid_transition' });
    expect(await errorOf(await act(qr, 'cancel', token))).toMatchObject({ status: 409, error: 'invalid_transition' });
    expect(await (await status(qr)).json()).toMatchObject({ status: 'noscan', version: 0 });
  });

  it('nothing leaves scan-cancel: scan, confirm and cancel are 409', async () => {
    const { qr, token } = await scanned();
    await act(qr, 'cancel', token);
    for (const step of ['scan', 'confirm', 'cancel'] as const) {
      expect(await errorOf(await act(qr, step, token))).toMatchObject({ status: 409, error: 'invalid_transition' });
    }
    expect(await (await status(qr)).json()).toMatchObject({ status: 'scan-cancel', version: 2 });
  });

  it('nothing leaves scan-confirm: a second confirm, a cancel or a scan is 409', async () => {
    const { qr, token } = await scanned();
    await act(qr, 'confirm', token);
    for (const step of ['scan', 'confirm', 'cancel'] as const) {
      expect(await errorOf(await act(qr, step, token))).toMatchObject({ status: 409, error: 'invalid_transition' });
    }
  });

  it('every step needs a valid phone token: 401 without one', async () => {
    const qr = await createQr();
    for (const step of ['scan', 'confirm', 'cancel'] as const) {
      const res = await api(`/api/qrcodes/${qr.qrcode_id}/${step}`, { method: 'POST' });
      expect(await errorOf(res)).toMatchObject({ status: 401, error: 'unauthorized' });
    }
  });
});

describe('expiry', () => {
  it('the alarm ends an open login as expired and wakes the waiting poll', async () => {
    const qr = await createQr();
    const waiting = status(qr, '?after=0&wait=30');
    expect(await stillPending(waiting)).toBe(true);
    await ageSession(qr, 121_000);
    expect(await runDurableObjectAlarm(sessionObject(qr))).toBe(true);
    const res = await waiting;
    expect(await res.json()).toMatchObject({ status: 'expired', version: 1 });
  });

  it('is checked on every request, not only by the alarm', async () => {
    const { qr, token } = await scanned();
    await ageSession(qr, 121_000);
    // No alarm has run: the request itself sees that the time is up.
    expect(await errorOf(await act(qr, 'confirm', token))).toMatchObject({ status: 410, error: 'qrcode_expired' });
    expect(await (await status(qr)).json()).toMatchObject({ status: 'expired', version: 2 });
  });

  it('a phone step on an expired code is 410', async () => {
    const qr = await createQr();
    const { token } = await dong();
    await ageSession(qr, 121_000);
    expect(await errorOf(await act(qr, 'scan', token))).toMatchObject({ status: 410, error: 'qrcode_expired' });
  });

  it('a confirmed session does not expire: the PC still collects its token', async () => {
    const { qr, token } = await scanned();
    await act(qr, 'confirm', token);
    await ageSession(qr, 5_000);
    const body = await (await status(qr)).json();
    expect(body).toMatchObject({ status: 'scan-confirm' });
  });
});

describe('the long-poll', () => {
  it('answers at once when the PC is behind, or when it gives no version', async () => {
    const { qr } = await scanned();
    expect(await (await status(qr, '?after=0&wait=30')).json()).toMatchObject({ version: 1 });
    expect(await (await status(qr, '?wait=30')).json()).toMatchObject({ version: 1 });
  });

  it('waits while the PC is current, and answers the moment the state changes', async () => {
    const qr = await createQr();
    const waiting = status(qr, '?after=0&wait=30');
    expect(await stillPending(waiting)).toBe(true);
    const { token } = await dong();
    await act(qr, 'scan', token);
    expect(await (await waiting).json()).toMatchObject({ status: 'scan-wait-confirm', version: 1 });
  });

  it('wakes every waiting poll on a change', async () => {
    const qr = await createQr();
    const polls = [1, 2, 3].map(() => status(qr, '?after=0&wait=30'));
    const { token } = await dong();
    await act(qr, 'scan', token);
    for (const res of await Promise.all(polls)) expect(await res.json()).toMatchObject({ version: 1 });
  });

  it('times out with the unchanged state', async () => {
    const qr = await createQr();
    const res = await status(qr, '?after=0&wait=0.2');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'noscan', version: 0 });
  });

  it('requires the poll token: someone who photographed the QR cannot read the status', async () => {
    const qr = await createQr();
    const other = await createQr();
    const missing = await api(`/api/qrcodes/${qr.qrcode_id}/status`);
    expect(await errorOf(missing)).toMatchObject({ status: 401, error: 'unauthorized' });
    const wrong = await status(qr, '', other.poll_token);
    expect(await errorOf(wrong)).toMatchObject({ status: 401, error: 'unauthorized' });
  });

  it('only the poll token holder gets the login token, exactly once, uncached', async () => {
    const { qr, token } = await scanned();
    await act(qr, 'confirm', token);
    const stolen = await status(qr, '', (await createQr()).poll_token);
    expect(stolen.status).toBe(401);
    const first = await status(qr);
    expect(first.status).toBe(200);
    expect(first.headers.get('Cache-Control')).toBe('no-store');
    const body = (await first.json()) as { token: string; user: { username: string }; status: string };
    expect(body.status).toBe('scan-confirm');
    expect(body.user).toMatchObject({ username: 'dong', display_name: '东东' });
    const me = await api('/api/me', { headers: { Authorization: `Bearer ${body.token}` } });
    expect(await me.json()).toMatchObject({ username: 'dong' });
    expect(await errorOf(await status(qr))).toMatchObject({ status: 410, error: 'qrcode_expired' });
  });

  it('the PC gets a token of its own, not the phone’s', async () => {
    const { qr, token } = await scanned();
    await act(qr, 'confirm', token);
    const body = (await (await status(qr)).json()) as { token: string };
    expect(body.token).not.toBe(token);
  });

  it('of several polls waiting at the moment of confirmation, exactly one gets the token', async () => {
    const { qr, token } = await scanned();
    const polls = Array.from({ length: 4 }, () => status(qr, '?after=1&wait=30'));
    expect(await stillPending(polls[0]!)).toBe(true);
    await act(qr, 'confirm', token);
    const answers = await Promise.all(polls);
    const withToken = [];
    for (const res of answers) {
      if (res.status === 200) withToken.push(await res.json());
      else expect(await errorOf(res)).toMatchObject({ status: 410, error: 'qrcode_expired' });
    }
    expect(withToken).toHaveLength(1);
    expect(withToken[0]).toHaveProperty('token');
  });

  it('rejects a wait that is negative or not a number, and an after that is not a whole number', async () => {
    const qr = await createQr();
    for (const query of ['?wait=-1', '?wait=abc', '?after=-1', '?after=1.5', '?after=x']) {
      expect(await errorOf(await status(qr, query))).toMatchObject({ status: 400, error: 'invalid_request' });
    }
  });
});

describe('ids', () => {
  it('forged and malformed ids answer 400 and never create an object', async () => {
    const before = (await listDurableObjectIds(env.LOGIN_SESSION)).length;
    const { token } = await dong();
    const foreign = env.USER_CODE.newUniqueId().toString();
    const forged = 'a'.repeat(64);
    for (const id of [foreign, forged, 'short', 'A'.repeat(64), `${forged}0`]) {
      const res = await api(`/api/qrcodes/${id}/status`, { headers: { 'X-Poll-Token': 'x'.repeat(43) } });
      expect(await errorOf(res)).toMatchObject({ status: 400, error: 'invalid_qrcode_id' });
      expect(await errorOf(await act(id, 'scan', token))).toMatchObject({ status: 400, error: 'invalid_qrcode_id' });
    }
    expect(await listDurableObjectIds(env.LOGIN_SESSION)).toHaveLength(before);
  });
});

describe('durability and cleanup', () => {
  it('an evicted object keeps its state', async () => {
    const { qr, token } = await scanned();
    await evictDurableObject(sessionObject(qr));
    expect(await (await status(qr)).json()).toMatchObject({ status: 'scan-wait-confirm', version: 1 });
    expect((await act(qr, 'confirm', token)).status).toBe(200);
    expect(await (await status(qr)).json()).toHaveProperty('token');
  });

  it('storage is empty at once after the token is delivered', async () => {
    const { qr, token } = await scanned();
    await act(qr, 'confirm', token);
    await status(qr);
    expect(await storedState(qr)).toEqual({ keys: [], alarm: null });
    expect(await runDurableObjectAlarm(sessionObject(qr))).toBe(false);
  });

  it('storage is empty after a cancel and its cleanup alarm', async () => {
    const { qr, token } = await scanned();
    await act(qr, 'cancel', token);
    expect((await storedState(qr)).keys).toEqual(['session']);
    await ageSession(qr, 31_000);
    expect(await runDurableObjectAlarm(sessionObject(qr))).toBe(true);
    expect(await storedState(qr)).toEqual({ keys: [], alarm: null });
    expect(await errorOf(await status(qr))).toMatchObject({ status: 410, error: 'qrcode_expired' });
  });

  it('storage is empty after expiry and its cleanup alarm', async () => {
    const qr = await createQr();
    await ageSession(qr, 121_000);
    expect(await runDurableObjectAlarm(sessionObject(qr))).toBe(true);
    expect(await (await status(qr)).json()).toMatchObject({ status: 'expired' });
    await ageSession(qr, 31_000);
    expect(await runDurableObjectAlarm(sessionObject(qr))).toBe(true);
    expect(await storedState(qr)).toEqual({ keys: [], alarm: null });
    expect(await runDurableObjectAlarm(sessionObject(qr))).toBe(false);
  });

  it('storage is empty when a confirmed token is never collected', async () => {
    const { qr, token } = await scanned();
    await act(qr, 'confirm', token);
    await ageSession(qr, 31_000);
    expect(await runDurableObjectAlarm(sessionObject(qr))).toBe(true);
    expect(await storedState(qr)).toEqual({ keys: [], alarm: null });
    expect(await errorOf(await status(qr))).toMatchObject({ status: 410, error: 'qrcode_expired' });
  });
});
