/**
 * The local front (`scripts/local-front.mjs`) of `npm start` and `npm run dev`, against runtimes
 * made up here that misbehave on purpose: one that answers only once it has the whole body it was
 * promised (as `wrangler dev` does), and one that never answers. Either way the client is answered
 * promptly; every request gives up after 10 s, so a hang fails. Run by `npm run test:faults`.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
// @ts-expect-error: a plain ES module script without types
import { MAX_BODY_BYTES, newFrontSecret, startFront } from '../../scripts/local-front.mjs';
import { jsonAnswer } from '../support/json-answer.ts';

const KB = 1024;

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** POSTs `size` bytes of JSON with its `Content-Length`, in one go; gives up after 10 s. */
function post(base: URL, size: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL('/api/login', base), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': String(size) },
      agent: false,
      signal: AbortSignal.timeout(10_000),
    });
    req.on('response', (res) => jsonAnswer<Answer['body']>(res).then(resolve, reject));
    req.on('error', reject);
    req.end(Buffer.alloc(size, 'a'));
  });
}

async function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

const closers: (() => Promise<unknown>)[] = [];
after(async () => {
  await Promise.all(closers.map((close) => close()));
});

describe('the local front', () => {
  test('a runtime that answers only once the whole body has arrived still answers a 200 KB body with its Content-Length', async () => {
    // What the runtime was told and what it got, request by request.
    const seen: { headers: IncomingHttpHeaders; received: number }[] = [];
    const runtime = createServer((req, res) => {
      let received = 0;
      req.on('data', (chunk: Buffer) => {
        received += chunk.length;
      });
      req.on('end', () => {
        seen.push({ headers: req.headers, received });
        res.writeHead(400, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: 'invalid_request', message: 'The request body is larger than 8 KB.' }));
      });
    });
    const front = await startFront({
      host: '127.0.0.1',
      port: 0,
      target: { host: '127.0.0.1', port: await listen(runtime) },
      secret: newFrontSecret(),
    });
    closers.push(front.close, async () => runtime.close());

    const answers = await Promise.all(Array.from({ length: 10 }, () => post(front.url, 200 * KB)));
    for (const answer of answers) assert.deepEqual([answer.status, answer.body.error], [400, 'invalid_request']);
    // The request behind each ended one byte past the limit, and said so.
    assert.equal(seen.length, 10);
    for (const { headers, received } of seen) {
      assert.equal(headers['content-length'], String(MAX_BODY_BYTES + 1));
      assert.equal(received, MAX_BODY_BYTES + 1);
    }
  });

  test('a runtime that never answers is cut off: 503 service_unavailable, and its connection closed', async () => {
    const held: Socket[] = [];
    const closed: Promise<unknown>[] = [];
    const runtime = createTcpServer((socket) => {
      // Reads the request and never answers.
      socket.resume();
      held.push(socket);
      closed.push(once(socket, 'close'));
    });
    const front = await startFront({
      host: '127.0.0.1',
      port: 0,
      target: { host: '127.0.0.1', port: await listen(runtime) },
      secret: newFrontSecret(),
      upstreamTimeoutMs: 500,
    });
    closers.push(front.close, async () => {
      for (const socket of held) socket.destroy();
      runtime.close();
    });

    for (const size of [100, 200 * KB]) {
      const answer = await post(front.url, size);
      assert.equal(answer.status, 503, String(size));
      assert.equal(answer.body.error, 'service_unavailable');
      assert.match(String(answer.body.message), /did not answer within 0\.5 s/);
    }
    // The front gave up on the requests behind, too.
    assert.equal(closed.length, 2);
    await Promise.all(closed);
  });
});
