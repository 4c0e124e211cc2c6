/**
 * A body over the 8 KB limit is answered `400 invalid_request` by `npm start` and by
 * `npm run dev`, in the endpoint's own error shape, every time and at once: whether it arrives in
 * many small chunks (chunked transfer encoding, no `Content-Length`) or with its `Content-Length`
 * (which `npm run dev` used to leave unanswered), alone or many at a time; never a 503 from the
 * local front, a reset connection or no answer. A body within the limit still passes, however it
 * is cut. Every request gives up after 10 s, so a hang fails. Run by `npm run test:faults`.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { jsonAnswer } from '../support/json-answer.ts';
import { npmStart } from '../support/npm-start.ts';
import { type DevServer, freshStorage, startDev } from '../support/wrangler-dev.ts';

const KB = 1024;
const MAX_BODY_BYTES = 8 * KB;

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** POSTs `body` in chunks of `chunk` bytes, each written as the previous one drains; gives up after 10 s. */
function postInChunks(
  base: string,
  path: string,
  type: string,
  body: Buffer,
  { chunk = KB, contentLength = false } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'Content-Type': type };
    if (contentLength) headers['Content-Length'] = String(body.length);
    else headers['Transfer-Encoding'] = 'chunked';
    const req = request(`${base}${path}`, {
      method: 'POST',
      headers,
      agent: false,
      signal: AbortSignal.timeout(10_000),
    });
    let offset = 0;
    const write = () => {
      while (offset < body.length) {
        const piece = body.subarray(offset, offset + chunk);
        offset += piece.length;
        if (!req.write(piece)) return void req.once('drain', write);
      }
      req.end();
    };
    req.on('response', (res) => jsonAnswer<Answer['body']>(res).then(resolve, reject));
    req.on('error', reject);
    write();
  });
}

/** A JSON login of dong whose text is exactly `size` bytes long (an ignored `pad` field fills it). */
function loginBody(size: number): Buffer {
  const bare = JSON.stringify({ username: 'dong', password: '111', pad: '' });
  return Buffer.from(JSON.stringify({ username: 'dong', password: '111', pad: 'a'.repeat(size - bare.length) }));
}

const servers: [string, (storage: string) => Promise<DevServer>][] = [
  ['npm start', (storage) => npmStart(storage, ['--demo'])],
  ['npm run dev', (storage) => startDev(storage)],
];

for (const [name, launch] of servers) {
  describe(`${name} and bodies over 8 KB`, { concurrency: false }, () => {
    let storage: ReturnType<typeof freshStorage>;
    let server: DevServer;
    before(async () => {
      storage = freshStorage();
      server = await launch(storage.dir);
    });
    after(async () => {
      await server?.stop();
      storage?.remove();
    });

    test('200 chunks of 1 KB are answered 400 invalid_request, every time', { timeout: 120_000 }, async () => {
      const outcomes: string[] = [];
      // One in a few such requests used to meet a 503 or a reset: repeat it to make that show.
      for (let i = 0; i < 30; i++) {
        const answer = await postInChunks(server.base, '/api/login', 'application/json', loginBody(200 * KB)).then(
          (a) => `${a.status} ${a.body.error}`,
          (err: Error) => err.message,
        );
        outcomes.push(answer);
      }
      assert.deepEqual(
        outcomes.filter((o) => o !== '400 invalid_request'),
        [],
      );
      const res = await postInChunks(server.base, '/api/login', 'application/json', loginBody(200 * KB));
      assert.match(String(res.body.message), /larger than 8 KB/);
    });

    test('the OAuth endpoints answer the same in RFC 6749’s shape', async () => {
      const form = Buffer.from(`client_id=test-cli&pad=${'a'.repeat(200 * KB)}`);
      for (const path of ['/oauth/device_authorization', '/oauth/token']) {
        for (const contentLength of [false, true]) {
          const res = await postInChunks(server.base, path, 'application/x-www-form-urlencoded', form, {
            contentLength,
          });
          const what = `${path}, Content-Length: ${contentLength}`;
          assert.equal(res.status, 400, what);
          assert.equal(res.body.error, 'invalid_request', what);
          assert.match(String(res.body.error_description), /larger than 8 KB/, what);
        }
      }
    });

    test('a 200 KB body with its Content-Length is answered 400 invalid_request', async () => {
      const res = await postInChunks(server.base, '/api/login', 'application/json', loginBody(200 * KB), {
        contentLength: true,
      });
      assert.deepEqual([res.status, res.body.error], [400, 'invalid_request']);
      assert.match(String(res.body.message), /larger than 8 KB/);
    });

    test('20 such bodies at once are each answered 400 invalid_request', async () => {
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, () =>
          postInChunks(server.base, '/api/login', 'application/json', loginBody(200 * KB), {
            chunk: 16 * KB,
            contentLength: true,
          }).then(
            (a) => `${a.status} ${a.body.error}`,
            (err: Error) => err.message,
          ),
        ),
      );
      assert.deepEqual(outcomes, Array(20).fill('400 invalid_request'));
    });

    test('a body one byte over the limit, or of 9 KB, with its Content-Length is answered 400 invalid_request', async () => {
      for (const size of [MAX_BODY_BYTES + 1, 9 * KB]) {
        const res = await postInChunks(server.base, '/api/login', 'application/json', loginBody(size), {
          contentLength: true,
        });
        assert.deepEqual([res.status, res.body.error], [400, 'invalid_request'], String(size));
      }
    });

    test('a body of exactly 8 KB in chunks of 1 KB, or of 7 bytes, still signs in; one byte more does not', async () => {
      for (const chunk of [KB, 7]) {
        const res = await postInChunks(server.base, '/api/login', 'application/json', loginBody(MAX_BODY_BYTES), {
          chunk,
        });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.match(String(res.body.token), /^ey/);
      }
      const over = await postInChunks(server.base, '/api/login', 'application/json', loginBody(MAX_BODY_BYTES + 1));
      assert.deepEqual([over.status, over.body.error], [400, 'invalid_request']);
    });
  });
}
