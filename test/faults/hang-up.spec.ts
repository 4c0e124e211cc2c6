/**
 * A fault a person causes all the time: a PC closes its tab while its long-poll waits. The
 * Worker closes the WebSocket it waited on, so the login's object keeps no socket of a PC that
 * left. On Cloudflare (and in the Workers runtime's tests, test/login/waiting.test.ts) the platform
 * cancels the request at once and `request.signal` tells the Worker. Local workerd notices a
 * closed connection only when it answers, so under `npm start` the Worker closes the socket
 * when the PC's wait ends: until then it counts toward the four waiters of the QR, and a fifth
 * is told by `Retry-After` when to come back. (A restart mid-wait: restart.spec.ts.)
 * Run by `npm run test:faults` (Node's test runner).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { npmStart, type StartedServer } from '../support/npm-start.ts';
import { freshStorage } from '../support/wrangler-dev.ts';

const storage = freshStorage();
let server: StartedServer | null = null;

before(async () => {
  server = await npmStart(storage.dir, ['--demo']);
});

after(async () => {
  await server?.stop();
  storage.remove();
});

interface Qr {
  qrcode_id: string;
  poll_token: string;
}

const poll = (qr: Qr, query: string, signal?: AbortSignal) =>
  fetch(`${server!.base}/api/qrcodes/${qr.qrcode_id}/status${query}`, {
    headers: { 'X-Poll-Token': qr.poll_token },
    signal,
  });

/** Whether `promise` is still pending after one more round trip to the server. */
async function stillPending(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await fetch(`${server!.base}/api/config`);
  return !settled;
}

/**
 * A new PC's long-poll of 2 s, as the page makes it: told 429, it comes back after `Retry-After`.
 * Answered 200 with the unchanged state, it had a place and waited; how many 429s it heard first.
 */
async function newWaiter(qr: Qr): Promise<{ refused: number; retryAfter: number[] }> {
  const retryAfter: number[] = [];
  for (;;) {
    const res = await poll(qr, '?after=0&wait=2');
    if (res.status !== 429) {
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { version: number }).version, 0);
      return { refused: retryAfter.length, retryAfter };
    }
    retryAfter.push(Number(res.headers.get('Retry-After')));
    if (retryAfter.length > 1) return { refused: retryAfter.length, retryAfter };
    await sleep(retryAfter.at(-1)! * 1000);
  }
}

test('four PCs that hang up mid-wait leave their places to new waiters', { timeout: 60_000 }, async () => {
  const qr = (await (await fetch(`${server!.base}/api/qrcodes`, { method: 'POST' })).json()) as Qr;
  const tabs = [1, 2, 3, 4].map(() => new AbortController());
  const gone = tabs.map((tab) => poll(qr, '?after=0&wait=3', tab.signal));
  assert.equal(await stillPending(Promise.all(gone)), true);
  const closed = gone.map((p) => assert.rejects(p));
  for (const tab of tabs) tab.abort();
  await Promise.all(closed);

  // Four new PCs: each waits at once, or is told to come back when the waits of those that left
  // are over (3 s at most), and then waits. Had a socket of a PC that left stayed in the object,
  // one of them would be refused again.
  for (const { refused, retryAfter } of await Promise.all([1, 2, 3, 4].map(() => newWaiter(qr)))) {
    assert.ok(refused <= 1, `refused ${refused} times`);
    for (const seconds of retryAfter) assert.ok(seconds >= 1 && seconds <= 3, `Retry-After ${seconds}`);
  }
});
