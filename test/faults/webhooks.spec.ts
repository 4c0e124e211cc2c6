/**
 * A fault a site can cause: its webhook endpoint answers 500. Against `wrangler dev` (a real
 * local queue, producer and consumer in the Worker), a login's `login.succeeded` reaches a real
 * HTTP receiver, is retried after the 500 with the same `webhook-id`, and verifies with the
 * `standardwebhooks` package; a sign-out then sends `session.revoked`. Run by
 * `npm run test:faults` (Node's test runner).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { decodeJwt } from 'jose';
import { Webhook } from 'standardwebhooks';
import { type DevServer, freshStorage, startDev } from '../support/wrangler-dev.ts';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
}

/** The site's endpoint: answers 500 to the first delivery of each event, 204 after that. */
function receiver() {
  const deliveries: Delivery[] = [];
  const waiting: { until: (d: Delivery[]) => boolean; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      const id = req.headers['webhook-id'];
      const answered = deliveries.some((d) => d.headers['webhook-id'] === id) ? 204 : 500;
      deliveries.push({ headers: req.headers, body, answered });
      res.writeHead(answered).end();
      for (const w of [...waiting]) {
        if (w.until(deliveries)) {
          waiting.splice(waiting.indexOf(w), 1);
          w.resolve();
        }
      }
    });
  });
  const listening = new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
  /** Resolves once the deliveries so far satisfy `until`. */
  const seen = (until: (d: Delivery[]) => boolean) =>
    until(deliveries) ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ until, resolve }));
  return { deliveries, listening, seen, close: () => new Promise((resolve) => server.close(resolve)) };
}

const typeOf = (d: Delivery) => (JSON.parse(d.body) as { type: string }).type;
const verify = (d: Delivery) =>
  new Webhook(SECRET).verify(d.body, d.headers as Record<string, string>) as {
    type: string;
    data: Record<string, unknown>;
  };

const storage = freshStorage();
const site = receiver();
let server: DevServer | null = null;

after(async () => {
  await server?.stop();
  await site.close();
  storage.remove();
});

test('a login reaches the site as a signed webhook, retried after a 500 with the same id', {
  timeout: 120_000,
}, async () => {
  const port = await site.listening;
  server = await startDev(storage.dir, { WEBHOOK_URL: `http://127.0.0.1:${port}/hooks`, WEBHOOK_SECRET: SECRET });
  const { base } = server;

  // A whole QR login: the PC makes a QR, the phone signs in, scans and confirms.
  const qr = await (await fetch(`${base}/api/qrcodes`, { method: 'POST' })).json();
  const login = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'dong', password: '111' }),
  });
  const auth = { Authorization: `Bearer ${(await login.json()).token}` };
  for (const step of ['scan', 'confirm']) {
    const res = await fetch(`${base}/api/qrcodes/${qr.qrcode_id}/${step}`, { method: 'POST', headers: auth });
    assert.equal(res.status, 200);
  }
  // The PC collects its token at once, whatever the endpoint is doing.
  const poll = await fetch(`${base}/api/qrcodes/${qr.qrcode_id}/status`, {
    headers: { 'X-Poll-Token': qr.poll_token },
  });
  const pc = await poll.json();
  assert.equal(pc.status, 'scan-confirm');
  const sid = decodeJwt(pc.token).sid;

  // The endpoint answered the first delivery 500: the queue delivers it again.
  await site.seen((d) => d.filter((x) => typeOf(x) === 'login.succeeded').length >= 2);
  const [first, retried] = site.deliveries.filter((d) => typeOf(d) === 'login.succeeded');
  assert.equal(first!.answered, 500);
  assert.equal(retried!.answered, 204);
  assert.match(String(first!.headers['webhook-id']), /^msg_/);
  assert.equal(retried!.headers['webhook-id'], first!.headers['webhook-id']);
  assert.equal(retried!.body, first!.body);
  for (const delivery of [first!, retried!]) {
    const event = verify(delivery);
    assert.equal(event.type, 'login.succeeded');
    assert.equal(event.data.qrcode_id, qr.qrcode_id);
    assert.equal(event.data.sid, sid);
    assert.deepEqual(event.data.user, { id: 'u_dong', username: 'dong', display_name: '东东' });
  }
  assert.throws(() =>
    new Webhook(`whsec_${randomBytes(32).toString('base64')}`).verify(
      first!.body,
      first!.headers as Record<string, string>,
    ),
  );

  // The PC signs out: the site hears of it too.
  const logout = await fetch(`${base}/api/logout`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${pc.token}` },
  });
  assert.equal(logout.status, 204);
  await site.seen((d) => d.some((x) => typeOf(x) === 'session.revoked'));
  const revoked = verify(site.deliveries.find((d) => typeOf(d) === 'session.revoked')!);
  assert.deepEqual(revoked.data, { sid, user: { id: 'u_dong', username: 'dong', display_name: '东东' } });
});
