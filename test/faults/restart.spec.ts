/**
 * A fault a person can cause: `wrangler dev` is stopped and started again in the middle of a
 * login. The session's state is in local storage, so after the restart the phone confirms and
 * the PC's poll gets its token. Run by `npm run test:faults` (Node's test runner).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { type DevServer, freshStorage, startDev } from '../support/wrangler-dev.ts';

const storage = freshStorage();
let server: DevServer | null = null;

after(async () => {
  await server?.stop();
  storage.remove();
});

test('a login survives a restart of wrangler dev in the middle', { timeout: 120_000 }, async () => {
  server = await startDev(storage.dir);
  const { base, port } = server;

  // The PC makes a QR; the phone signs in and scans it.
  const qr = await (await fetch(`${base}/api/qrcodes`, { method: 'POST' })).json();
  const login = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'dong', password: '111' }),
  });
  const { token: phone } = await login.json();
  const auth = { Authorization: `Bearer ${phone}` };
  assert.equal(
    (await fetch(`${base}/api/qrcodes/${qr.qrcode_id}/scan`, { method: 'POST', headers: auth })).status,
    200,
  );

  const poll = (after: number) =>
    fetch(`${base}/api/qrcodes/${qr.qrcode_id}/status?after=${after}&wait=30`, {
      headers: { 'X-Poll-Token': qr.poll_token },
    });
  // The PC is long-polling when the server dies: its poll fails as a dropped connection (the
  // page backs off and polls again), it does not hang.
  const inFlight = poll(1);
  // Another round trip, so the poll is most likely held by the server when it dies (had it
  // not arrived yet, it must fail all the same).
  await fetch(`${base}/api/config`);

  // The server goes away with everything in memory, and comes back on the same storage. (The
  // expectation is attached first: the poll may fail before the stop has returned.)
  const dropped = assert.rejects(inFlight);
  await server.stop();
  await dropped;
  server = await startDev(storage.dir, {}, port);

  // The PC's next poll continues where it was; the phone confirms; the PC gets its token.
  const seen = await (await poll(0)).json();
  assert.equal(seen.status, 'scan-wait-confirm');
  assert.equal(seen.scanner.display_name, '东东');
  const waiting = poll(seen.version);
  assert.equal(
    (await fetch(`${base}/api/qrcodes/${qr.qrcode_id}/confirm`, { method: 'POST', headers: auth })).status,
    200,
  );
  const done = await (await waiting).json();
  assert.equal(done.status, 'scan-confirm');
  const me = await (await fetch(`${base}/api/me`, { headers: { Authorization: `Bearer ${done.token}` } })).json();
  assert.equal(me.username, 'dong');
});
