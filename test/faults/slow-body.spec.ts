/**
 * A client that sends its body one byte a second (a slow-body attack) is answered 408 after 10 s
 * and dropped, instead of holding the request for as long as it likes. Against a real server:
 * `wrangler dev`. Run by `npm run test:faults`.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { type DevServer, freshStorage, startDev } from '../support/wrangler-dev.ts';

const storage = freshStorage();
let server: DevServer;

before(async () => {
  server = await startDev(storage.dir);
});

after(async () => {
  await server?.stop();
  storage.remove();
});

test('a JSON body trickled at one byte a second is answered 408 after 10 s', { timeout: 60_000 }, async () => {
  const body = '{"username":"dong","password":"111"}';
  const started = Date.now();
  const answer = await new Promise<{ status: number; text: string; sent: number }>((resolve, reject) => {
    const req = request(`${server.base}/api/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
    });
    let sent = 0;
    const trickle = setInterval(() => {
      if (sent < body.length) req.write(body[sent++]);
    }, 1000);
    req.on('response', (res) => {
      clearInterval(trickle);
      let text = '';
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, text, sent });
      });
    });
    req.on('error', (err) => {
      clearInterval(trickle);
      reject(err);
    });
  });
  const seconds = (Date.now() - started) / 1000;
  assert.equal(answer.status, 408, answer.text);
  assert.equal(JSON.parse(answer.text).error, 'request_timeout');
  // Answered at the deadline, long before the body could have finished (it is 36 bytes).
  // Not before the 10 s a slow client is allowed, and nowhere near the minute it would otherwise hold.
  assert.ok(seconds >= 9.5 && seconds < 40, `answered after ${seconds} s`);
  assert.ok(answer.sent < body.length);
});
