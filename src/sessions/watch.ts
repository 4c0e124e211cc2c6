/**
 * @module
 * `GET /api/sessions/watch`: a page learns that its session ended, within a second, and at no
 * cost while nothing happens. The page sends its access token (`Authorization: Bearer`, as to any
 * endpoint) and reads a stream of server-sent events; the Worker asks the user's object for a
 * hibernatable WebSocket tagged with the token's session (`user/watchers.ts`) and waits on it,
 * as it waits for a PC's long-poll (`login/long-poll.ts`). When the session ends, for whatever
 * reason, the object sends on that socket, and the Worker passes it on and ends the stream:
 *
 *     : watching
 *
 *     event: ended
 *     data: { "ended": "<sid>", "reason": "signed_out" | "reused" | "disabled" | "expired" | "too_many" }
 *
 * Meanwhile the object runs nothing (it hibernates, and is billed for nothing); the Worker runs
 * nothing either but a comment line every `KEEPALIVE_MS` (`: keepalive`), so that no proxy takes
 * the stream for a dead one, and a page that hears nothing for long knows its connection is. The
 * stream watches the session, not the token: the page's access token renews meanwhile, and is
 * needed again only to reconnect.
 *
 * Why a stream of the Worker and not the object's WebSocket handed to the page: a browser cannot
 * set headers on a WebSocket (the token would need another way in), and `<qr-login>` on a site's
 * page must work under the contract's `connect-src 'self' <worker>`, which lets a page fetch from
 * the Worker but not open a `wss:` socket to it.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../http/app-env';
import { inBackground } from '../http/background';
import { ApiError } from '../http/errors';
import { accessCredential } from '../http/validate';
import { checkPresentation } from '../tokens/dpop';
import { ownKeyOf, verifyOwnToken } from '../tokens/verify';
import { askUser, userSessions } from '../user';
import { MAX_WATCHERS_PER_SESSION, watchRequest } from '../user/watchers';

/** A comment line this often keeps the stream from looking idle to a proxy (and to the page). */
export const KEEPALIVE_MS = 30_000;

const encoder = new TextEncoder();

/**
 * The stream of a page watching its session: 200 `text/event-stream`, or 401 (no valid access
 * token of ours, or its session has ended), 403 (a page of another site), 429 (the session has
 * `MAX_WATCHERS_PER_SESSION` watching already).
 */
export async function watchSession(c: Context<AppEnv>): Promise<Response> {
  const { scheme, token } = accessCredential(c);
  const key = ownKeyOf(c.env, token);
  if (!key) {
    throw new ApiError(
      'unauthorized',
      'Only an access token of this server has a session to watch (a site’s own token has none here).',
    );
  }
  // Signature, issuer, audience and expiry; the object checks that the session is alive.
  const claims = await verifyOwnToken(c, token, key);
  // A token bound to a DPoP key watches only with a proof of it (RFC 9449).
  await checkPresentation(c, scheme, token, claims.cnf);
  const stub = userSessions(c.env, claims.sub);
  const answer = await askUser(() => stub.fetch(watchRequest(claims.sid)));
  const socket = answer.webSocket;
  if (answer.status === 429) {
    throw new ApiError(
      'rate_limited',
      `This session is watched from ${MAX_WATCHERS_PER_SESSION} pages already: close one, or try again later.`,
      { 'Retry-After': '60' },
    );
  }
  if (answer.status !== 101 || !socket) throw new ApiError('unauthorized', 'Sign in again: this session has ended.');
  const { stream, done } = relay(socket, c.req.raw.signal);
  // When the page hangs up, the runtime may drop the request's pending I/O: the relay still runs
  // to its end and closes the object's socket, so the object keeps none of a page that left.
  inBackground(c, done);
  return new Response(stream, {
    headers: { 'Content-Type': 'text/event-stream; charset=utf-8', 'X-Accel-Buffering': 'no' },
  });
}

/**
 * The page's stream, fed from the object's socket: what the object says, as an `ended` event,
 * then the end. Whatever ends it first (the object's message or close, the page hanging up, a
 * write that fails) closes both, so the object keeps no socket of a page that left.
 */
function relay(socket: WebSocket, hungUp: AbortSignal): { stream: ReadableStream<Uint8Array>; done: Promise<void> } {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  let ended = false;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const end = () => {
    if (ended) return;
    ended = true;
    finished();
    clearInterval(keepalive);
    hungUp.removeEventListener('abort', end);
    try {
      socket.close(1000, 'done');
    } catch {
      // Closed already, by the object.
    }
    writer.close().catch(() => {});
  };
  const send = (text: string) => {
    if (!ended) writer.write(encoder.encode(text)).catch(end);
  };
  socket.addEventListener('message', (event) => {
    if (typeof event.data === 'string' && !event.data.includes('\n')) send(`event: ended\ndata: ${event.data}\n\n`);
    end();
  });
  socket.addEventListener('close', end);
  socket.addEventListener('error', end);
  hungUp.addEventListener('abort', end);
  const keepalive = setInterval(() => send(': keepalive\n\n'), KEEPALIVE_MS);
  socket.accept();
  send(': watching\n\n');
  return { stream: readable, done };
}
