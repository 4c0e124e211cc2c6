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
 * requires before it believes that address. Bodies and answers stream through untouched, so
 * long-polls, slow bodies and large pages behave as without it.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';

export const FRONT_HEADER = 'x-local-front';

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
export function addressOf(socket) {
  const address = socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

function unavailable(res) {
  const body = JSON.stringify({
    error: 'service_unavailable',
    message: 'The local runtime is not answering yet; try again shortly.',
  });
  res.writeHead(503, {
    'Content-Type': 'application/json; charset=utf-8',
    'Retry-After': '1',
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

/**
 * Listens on `host`:`port` and forwards every request to the runtime at `target`
 * (`{ host, port }`). Resolves once listening, with the URL clients use and `close()`.
 */
export async function startFront({ host, port, target, secret }) {
  const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 256 });
  const server = http.createServer((req, res) => {
    const headers = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i].toLowerCase();
      if (dropped(name)) continue;
      const value = req.rawHeaders[i + 1];
      headers[name] = name in headers ? [headers[name], value].flat() : value;
    }
    headers['cf-connecting-ip'] = addressOf(req.socket);
    headers[FRONT_HEADER] = secret;
    const upstream = http.request({
      host: target.host,
      port: target.port,
      method: req.method,
      path: req.url,
      headers,
      agent,
    });
    upstream.on('response', (answer) => {
      const out = [];
      for (let i = 0; i < answer.rawHeaders.length; i += 2) {
        if (!HOP_BY_HOP.has(answer.rawHeaders[i].toLowerCase()))
          out.push(answer.rawHeaders[i], answer.rawHeaders[i + 1]);
      }
      // Answered before the whole body arrived (a 408, a 400 for a body too large): close the
      // connection after the answer instead of reading the rest of the body.
      if (!req.complete) res.shouldKeepAlive = false;
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, out);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) unavailable(res);
      else res.destroy();
    });
    // The client went away (a long-poll given up, a page closed): so does the request behind it.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
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
