/**
 * @module
 * The local front of `npm start` and `npm run dev`: the port a client talks to, in front of the
 * local runtime, so that the Worker learns each connection's own address.
 *
 * Why it exists: Miniflare's entry worker (`getUserRequest` in miniflare's
 * `workers/core/entry.worker.js`, the same under `wrangler dev`, whose proxy worker sits behind
 * one) sets `CF-Connecting-IP` from the socket only when the request has none, and takes
 * `request.cf` from an `MF-CF-Blob` header when the client sends one. The address it saw is then
 * gone, so the Worker cannot tell a client's own `CF-Connecting-IP` from the socket's. On
 * Cloudflare the platform overwrites both; locally this front does: it drops every
 * `CF-*`/`MF-*` header, `X-Forwarded-*`, `X-Real-IP`, `True-Client-IP` and `Forwarded` that
 * the client sent, sets `CF-Connecting-IP` to the connection's address, and adds the per-run
 * secret in `X-Local-Front` that the Worker (told the same secret as `LOCAL_FRONT_SECRET`)
 * requires before it believes that address. Bodies and answers stream through, so long-polls,
 * slow bodies and large pages behave as without it.
 *
 * One exception: a request body is forwarded up to one byte past the Worker's limit and no
 * further (the rest is read and dropped), and the request behind ends there: one that declared a
 * larger `Content-Length` goes on with `Content-Length` one byte past the limit. The Worker
 * refuses such a body with its 400, in its own shape (`{ error, message }`, or RFC 6749's on
 * `/oauth/`). Had the front kept writing, the runtime would close the connection under it while
 * it wrote, and the client would get a 503 or a reset instead of that 400; had it declared the
 * client's length and stopped writing, `wrangler dev` (which answers only once the whole body it
 * was promised has arrived) would never answer.
 *
 * A runtime that has not begun its answer `UPSTREAM_TIMEOUT_MS` after the request is cut off,
 * and the client gets a 503 `service_unavailable` instead of waiting forever.
 *
 * Behind a reverse proxy on the same machine (nginx terminating TLS: deploy/nginx/), every
 * connection comes from the proxy, so its address says nothing about the client. For a
 * connection from one of `trustedProxies` (`npm start -- --trust-proxy 127.0.0.1`), and only
 * then, the client's address is the one the proxy put in `X-Real-IP` (`PROXY_CLIENT_HEADER`;
 * nginx: `proxy_set_header X-Real-IP $remote_addr`, which replaces any the client sent). A
 * value that is not one IP address is not believed: the proxy's own address is used instead.
 * From any other address `X-Real-IP` is dropped like the rest, so a client that reaches the
 * front directly still cannot name its own address.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { isIP } from 'node:net';

export const FRONT_HEADER = 'x-local-front';

/** The header in which a trusted reverse proxy names the client's address. */
export const PROXY_CLIENT_HEADER = 'x-real-ip';

/** The Worker's body limit (`MAX_BODY_BYTES` in src/http/body.ts): it refuses any body larger. */
export const MAX_BODY_BYTES = 8 * 1024;

/** How long the rest of a body that the Worker already answered is read before the connection closes. */
const LINGER_MS = 5_000;

/**
 * How long the runtime may take to begin its answer: longer than the longest long-poll (30 s)
 * and a body's 10 s deadline together.
 */
export const UPSTREAM_TIMEOUT_MS = 45_000;

/** Headers that describe one hop, or that only the platform (here: this front) may set. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer']);
const SPOOFABLE = new Set(['forwarded', 'x-real-ip', 'true-client-ip', FRONT_HEADER]);
const dropped = (name) =>
  HOP_BY_HOP.has(name) ||
  SPOOFABLE.has(name) ||
  name.startsWith('cf-') ||
  name.startsWith('mf-') ||
  name.startsWith('x-forwarded-');

/** A fresh secret for one run of the front and its Worker. */
export const newFrontSecret = () => randomBytes(32).toString('base64url');

/** `::ffff:127.0.0.2` (an IPv4 client of a dual-stack socket) is `127.0.0.2`. */
export const plainAddress = (address) =>
  address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;

export function addressOf(socket) {
  return plainAddress(socket.remoteAddress ?? '');
}

/**
 * The client's address: the connection's own, or, on a connection from a trusted proxy, the one
 * that proxy names in `X-Real-IP` when that is exactly one IP address.
 */
export function clientAddress(req, trustedProxies) {
  const peer = addressOf(req.socket);
  if (!trustedProxies.has(peer)) return peer;
  const named = plainAddress(String(req.headers[PROXY_CLIENT_HEADER] ?? '').trim());
  return isIP(named) ? named : peer;
}

/** The front's own 503, in the API's error shape; ended as an early answer (`endAfterBody`). */
function unavailable(req, res, message = 'The local runtime is not answering yet; try again shortly.') {
  res.writeHead(503, {
    'Content-Type': 'application/json; charset=utf-8',
    'Retry-After': '1',
    'Cache-Control': 'no-store',
  });
  if (!req.complete) res.shouldKeepAlive = false;
  res.write(JSON.stringify({ error: 'service_unavailable', message }));
  endAfterBody(req, res);
}

/**
 * Streams the client's body to the runtime, at most `MAX_BODY_BYTES + 1` bytes of it: enough for
 * the Worker to see that it is too large. The request behind ends there (its `Content-Length`, if
 * any, says as much: `startFront`); what comes after is read and dropped, so the client can
 * finish sending and read the answer.
 */
function forwardBody(req, upstream) {
  let forwarded = 0;
  let done = false;
  const stop = () => {
    done = true;
    req.resume();
  };
  upstream.on('response', stop);
  upstream.on('error', stop);
  req.on('data', (chunk) => {
    if (done) return;
    const part = chunk.subarray(0, MAX_BODY_BYTES + 1 - forwarded);
    forwarded += part.length;
    const more = upstream.write(part);
    if (forwarded > MAX_BODY_BYTES) {
      stop();
      upstream.end();
    } else if (!more) {
      req.pause();
      upstream.once('drain', () => req.resume());
    }
  });
  req.on('end', () => {
    if (!done) upstream.end();
  });
}

/** Ends the answer once the client has sent the rest of its body, or after `LINGER_MS`. */
function endAfterBody(req, res) {
  if (req.complete) return res.end();
  const end = () => {
    clearTimeout(cutOff);
    if (!res.writableEnded) res.end();
  };
  const cutOff = setTimeout(end, LINGER_MS);
  req.once('end', end);
  req.once('close', end);
}

/**
 * Listens on `host`:`port` and forwards every request to the runtime at `target`
 * (`{ host, port }`), which must begin each answer within `upstreamTimeoutMs`. Connections from
 * `trustedProxies` (addresses) name their client in `X-Real-IP`. Resolves once listening, with
 * the URL clients use and `close()`.
 */
export async function startFront({
  host,
  port,
  target,
  secret,
  upstreamTimeoutMs = UPSTREAM_TIMEOUT_MS,
  trustedProxies = [],
}) {
  const trusted = new Set(trustedProxies.map(plainAddress));
  const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 256 });
  const server = http.createServer((req, res) => {
    const headers = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i].toLowerCase();
      if (dropped(name)) continue;
      const value = req.rawHeaders[i + 1];
      headers[name] = name in headers ? [headers[name], value].flat() : value;
    }
    headers['cf-connecting-ip'] = clientAddress(req, trusted);
    headers[FRONT_HEADER] = secret;
    // A body declared too large is cut to one byte past the limit (`forwardBody`): so is its length.
    if (Number(req.headers['content-length']) > MAX_BODY_BYTES) headers['content-length'] = String(MAX_BODY_BYTES + 1);
    const upstream = http.request({
      host: target.host,
      port: target.port,
      method: req.method,
      path: req.url,
      headers,
      agent,
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      upstream.destroy(new Error('the local runtime did not answer in time'));
    }, upstreamTimeoutMs);
    upstream.on('response', (answer) => {
      clearTimeout(timer);
      const out = [];
      for (let i = 0; i < answer.rawHeaders.length; i += 2) {
        if (!HOP_BY_HOP.has(answer.rawHeaders[i].toLowerCase()))
          out.push(answer.rawHeaders[i], answer.rawHeaders[i + 1]);
      }
      // Answered before the whole body arrived (a 408, a 400 for a body too large): the
      // connection closes after the answer, and not before the rest of the body has been read
      // and dropped (`forwardBody`), for at most `LINGER_MS`. Closing under a client that is
      // still writing resets the connection, and it may never read the answer (what nginx's
      // "lingering close" avoids).
      const early = !req.complete;
      if (early) res.shouldKeepAlive = false;
      // Nor is the connection behind it reused: its request was never finished.
      if (!upstream.writableEnded) answer.once('end', () => upstream.destroy());
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, out);
      answer.pipe(res, { end: !early });
      if (early) answer.once('end', () => endAfterBody(req, res));
    });
    upstream.on('error', () => {
      clearTimeout(timer);
      if (res.headersSent) return res.destroy();
      const late = `The local runtime did not answer within ${upstreamTimeoutMs / 1000} s; try again shortly.`;
      unavailable(req, res, timedOut ? late : undefined);
    });
    // The client went away (a long-poll given up, a page closed): so does the request behind it.
    res.on('close', () => {
      clearTimeout(timer);
      if (!res.writableFinished) upstream.destroy();
    });
    forwardBody(req, upstream);
  });
  // Long-polls wait up to 30 s and bodies get 10 s from the Worker: no shorter limit here.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: actualPort } = server.address();
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const close = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      agent.destroy();
    });
  return { server, url: new URL(`http://${shownHost}:${actualPort}/`), close };
}
