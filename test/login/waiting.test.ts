/**
 * How a PC waits: the Worker holds its long-poll on a WebSocket that the login's object accepted
 * through the Hibernation API, so the object can be evicted while the PC waits, and nothing of
 * the waiter is left behind when it goes.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import { sha256Hex } from '../../src/http/crypto';
import { statusRequest } from '../../src/login/long-poll';
import {
  act,
  ageSession,
  api,
  createQr,
  errorOf,
  login,
  type QrBody,
  sessionObject,
  status,
  stillPending,
  storedState,
} from '../helpers';

/** The sockets the login's object holds open. */
const socketsOf = (qr: QrBody) =>
  runInDurableObject(sessionObject(qr), (_instance, state) => state.getWebSockets().length);

/** A waiter's socket, asked of the object as the Worker asks for it (its end not yet taken up). */
async function waiterSocket(qr: QrBody): Promise<WebSocket> {
  const ask = { pollHash: await sha256Hex(qr.poll_token), after: 0, waitMs: 30_000 };
  const res = await sessionObject(qr).fetch(statusRequest(ask, { mayWait: true, counted: true }));
  if (!res.webSocket) throw new Error('the object did not hand out a socket');
  return res.webSocket;
}

/** The next message on `socket`, as text. */
const nextMessage = (socket: WebSocket) =>
  new Promise<string>((resolve) => socket.addEventListener('message', (e) => resolve(String(e.data))));

/** A PC's long-poll that it can hang up on. */
function hangablePoll(qr: QrBody, query: string) {
  const hangUp = new AbortController();
  const answer = api(`/api/qrcodes/${qr.qrcode_id}/status${query}`, {
    headers: { 'X-Poll-Token': qr.poll_token },
    signal: hangUp.signal,
  }).catch((err: unknown) => err);
  return { answer, hangUp: () => hangUp.abort() };
}

describe('a PC waiting while its object is evicted', () => {
  it('hears of the scan, then of the confirm with its token exactly once', async () => {
    const qr = await createQr();
    const { token } = await login();
    const first = status(qr, '?after=0&wait=30');
    expect(await stillPending(first)).toBe(true);
    // Nothing keeps the object: it goes at once, and the PC waits on.
    await evictDurableObject(sessionObject(qr));
    expect(await stillPending(first)).toBe(true);
    expect((await act(qr, 'scan', token)).status).toBe(200);
    expect(await (await first).json()).toMatchObject({ status: 'scan-wait-confirm', version: 1 });

    const second = status(qr, '?after=1&wait=30');
    expect(await stillPending(second)).toBe(true);
    await evictDurableObject(sessionObject(qr));
    expect(await stillPending(second)).toBe(true);
    expect((await act(qr, 'confirm', token)).status).toBe(200);
    const done = (await (await second).json()) as { status: string; token?: string };
    expect(done).toMatchObject({ status: 'scan-confirm', version: 2 });
    expect((await api('/api/me', { headers: { Authorization: `Bearer ${done.token}` } })).status).toBe(200);
    expect(await errorOf(await status(qr, '?after=1'))).toMatchObject({ status: 410, error: 'qrcode_expired' });
  });

  it('hears of the expiry from the alarm', async () => {
    const qr = await createQr();
    const waiting = status(qr, '?after=0&wait=30');
    expect(await stillPending(waiting)).toBe(true);
    await evictDurableObject(sessionObject(qr));
    await ageSession(qr, 121_000);
    await evictDurableObject(sessionObject(qr));
    expect(await runDurableObjectAlarm(sessionObject(qr))).toBe(true);
    expect(await (await waiting).json()).toMatchObject({ status: 'expired', version: 1 });
  });

  it('every waiting PC is answered at once on a change', async () => {
    const qr = await createQr();
    const { token } = await login();
    const polls = [1, 2, 3, 4].map(() => status(qr, '?after=0&wait=30'));
    expect(await stillPending(polls[3]!)).toBe(true);
    await evictDurableObject(sessionObject(qr));
    await act(qr, 'scan', token);
    for (const res of await Promise.all(polls)) expect(await res.json()).toMatchObject({ version: 1 });
    // Each socket was closed with its answer.
    expect(await socketsOf(qr)).toBe(0);
  });
});

describe('nothing of a waiter is left behind', () => {
  it('a PC that hangs up mid-wait leaves no socket in the object', async () => {
    const qr = await createQr();
    const poll = hangablePoll(qr, '?after=0&wait=30');
    expect(await stillPending(poll.answer)).toBe(true);
    expect(await socketsOf(qr)).toBe(1);
    poll.hangUp();
    await vi.waitFor(async () => expect(await socketsOf(qr)).toBe(0));
  });

  it('four PCs that hang up make room for four new waiters at once', async () => {
    const qr = await createQr();
    const gone = [1, 2, 3, 4].map(() => hangablePoll(qr, '?after=0&wait=30'));
    expect(await stillPending(gone[3]!.answer)).toBe(true);
    for (const poll of gone) poll.hangUp();
    await vi.waitFor(async () => expect(await socketsOf(qr)).toBe(0));
    const fresh = [1, 2, 3, 4].map(() => status(qr, '?after=0&wait=30'));
    expect(await stillPending(fresh[3]!)).toBe(true);
    const { token } = await login();
    await act(qr, 'scan', token);
    for (const res of await Promise.all(fresh)) expect(res.status).toBe(200);
  });

  it('a timed-out wait closes its socket', async () => {
    const qr = await createQr();
    expect(await (await status(qr, '?after=0&wait=0.2')).json()).toMatchObject({ status: 'noscan', version: 0 });
    expect(await socketsOf(qr)).toBe(0);
  });

  it('the end of the login closes the sockets of PCs still waiting on it', async () => {
    const qr = await createQr();
    const { token } = await login();
    await act(qr, 'scan', token);
    await act(qr, 'cancel', token);
    // A PC that already knows of the cancel waits on until cleanup, which answers it 410.
    const waiting = status(qr, '?after=2&wait=30');
    expect(await stillPending(waiting)).toBe(true);
    await ageSession(qr, 31_000);
    expect(await runDurableObjectAlarm(sessionObject(qr))).toBe(true);
    expect(await errorOf(await waiting)).toMatchObject({ status: 410, error: 'qrcode_expired' });
    expect(await storedState(qr)).toEqual({ keys: [], alarm: null });
  });
});

describe('the one-time token under a crowd', () => {
  it('of 50 racing polls (4 of them waiting on sockets at the confirm) exactly one gets the token', async () => {
    const qr = await createQr();
    const { token } = await login();
    await act(qr, 'scan', token);
    const waiting = [1, 2, 3, 4].map(() => status(qr, '?after=1&wait=30'));
    expect(await stillPending(waiting[3]!)).toBe(true);
    expect((await act(qr, 'confirm', token)).status).toBe(200);
    const rushing = Array.from({ length: 46 }, () => status(qr, '?after=1&wait=30'));
    const answers = await Promise.all([...waiting, ...rushing]);
    let tokens = 0;
    for (const res of answers) {
      if (res.status === 200) {
        expect(await res.json()).toHaveProperty('token');
        tokens++;
      } else expect(await errorOf(res)).toMatchObject({ status: 410, error: 'qrcode_expired' });
    }
    expect(tokens).toBe(1);
  });
});

describe('the limits, with the wait held by the Worker', () => {
  it('a waiting poll woken by the confirm still gets its token when the PC used up its immediate answers', async () => {
    const qr = await createQr();
    const { token } = await login();
    await act(qr, 'scan', token);
    for (let i = 0; i < 30; i++) expect((await status(qr, '?after=0')).status).toBe(200);
    expect((await status(qr, '?after=0')).status).toBe(429);
    // The Worker reads the status again to claim the token: its own read, not the PC's.
    const waiting = status(qr, '?after=1&wait=30');
    expect(await stillPending(waiting)).toBe(true);
    await act(qr, 'confirm', token);
    const done = await waiting;
    expect(done.status).toBe(200);
    expect(await done.json()).toHaveProperty('token');
  });

  it('a fifth waiter is told to come back when the first of the four ends', async () => {
    const qr = await createQr();
    const short = status(qr, '?after=0&wait=3');
    const long = [1, 2, 3].map(() => status(qr, '?after=0&wait=30'));
    expect(await stillPending(long[2]!)).toBe(true);
    const fifth = await status(qr, '?after=0&wait=30');
    expect(await errorOf(fifth)).toMatchObject({ status: 429, error: 'rate_limited' });
    expect(Number(fifth.headers.get('Retry-After'))).toBeLessThanOrEqual(3);
    expect((await short).status).toBe(200);
    const { token } = await login();
    await act(qr, 'scan', token);
    for (const res of await Promise.all(long)) expect(res.status).toBe(200);
  });
});

describe('the socket between the Worker and the object', () => {
  it('a message on a waiter’s socket that the object does not expect is ignored', async () => {
    const qr = await createQr();
    const socket = await waiterSocket(qr);
    socket.accept();
    const heard = nextMessage(socket);
    socket.send('{"status":"scan-confirm","version":99}');
    socket.send(new Uint8Array([1, 2, 3]));
    const { token } = await login();
    expect((await act(qr, 'scan', token)).status).toBe(200);
    expect(JSON.parse(await heard)).toMatchObject({ status: 'scan-wait-confirm', version: 1 });
    expect(await (await status(qr)).json()).toMatchObject({ status: 'scan-wait-confirm', version: 1 });
  });

  it('a change sent before the Worker takes up its socket still reaches it', async () => {
    const qr = await createQr();
    const socket = await waiterSocket(qr);
    const { token } = await login();
    expect((await act(qr, 'scan', token)).status).toBe(200);
    const heard = nextMessage(socket);
    socket.accept();
    expect(JSON.parse(await heard)).toMatchObject({ status: 'scan-wait-confirm', version: 1 });
  });

  it('a client’s WebSocket upgrade on the status route gets the JSON answer of any poll', async () => {
    const qr = await createQr();
    const res = await api(`/api/qrcodes/${qr.qrcode_id}/status?after=0&wait=0.2`, {
      headers: { 'X-Poll-Token': qr.poll_token, Upgrade: 'websocket', Connection: 'Upgrade' },
    });
    expect(res.status).toBe(200);
    expect(res.webSocket).toBeNull();
    expect(await res.json()).toMatchObject({ status: 'noscan', version: 0 });
  });
});
