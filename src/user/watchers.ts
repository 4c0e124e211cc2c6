/**
 * @module
 * The pages watching their sessions end, as the user's object keeps them: WebSockets it accepted
 * through the Hibernation API (`ctx.acceptWebSocket`), each tagged with the session it watches,
 * and nothing in the object's memory (no timer, no map), so the object hibernates while they
 * wait and costs nothing until something happens. When a session ends (`SessionStore`'s one
 * place, whatever ends it), the object sends `{ "ended": <sid>, "reason": … }` on the sockets
 * tagged with that session, and closes them. A socket is bound to its session, not to the token
 * that opened it: the page's access token may renew any number of times meanwhile.
 *
 * The other end of each socket is the Worker (`sessions/watch.ts`), which checked the page's
 * access token and streams to the page what it hears. This is also the wire between the two: the
 * object is reached only through its namespace binding, so nothing here can come from outside
 * the Worker.
 */
import type { EndReason } from './types';

/** The most pages that may watch one session at once (tabs of one browser); one more is 429. */
export const MAX_WATCHERS_PER_SESSION = 16;

const WATCH_URL = 'https://user-sessions.internal/watch';
const SID_HEADER = 'X-Watch-Sid';

/** What the object says on a session's sockets when it ends. */
export interface EndedMessage {
  ended: string;
  reason: EndReason;
}

/** The Worker's request to the object: a WebSocket that watches session `sid` (already authenticated). */
export function watchRequest(sid: string): Request {
  return new Request(WATCH_URL, { headers: { Upgrade: 'websocket', [SID_HEADER]: sid } });
}

/** The session that a watch request names, or null when `request` is not one. */
export function readWatchRequest(request: Request): string | null {
  const url = new URL(request.url);
  const sid = request.headers.get(SID_HEADER);
  if (request.method !== 'GET' || url.pathname !== '/watch' || !sid) return null;
  return request.headers.get('Upgrade')?.toLowerCase() === 'websocket' ? sid : null;
}

/** Why the object did not accept a watch: the session is not alive, or it has all the watchers it may. */
export type WatchRefusal = 'unknown' | 'full';

/** The object's refusal, as the Worker reads it back. */
export const watchRefused = (why: WatchRefusal): Response =>
  Response.json({ refused: why }, { status: why === 'full' ? 429 : 404 });

/** Whether session `sid` has no room for another watcher. */
export const watchersFull = (ctx: DurableObjectState, sid: string): boolean =>
  ctx.getWebSockets(sid).filter((socket) => socket.readyState === WebSocket.OPEN).length >= MAX_WATCHERS_PER_SESSION;

/** Accepts a page watching session `sid`: the answer hands the Worker the page's end of the socket. */
export function acceptWatcher(ctx: DurableObjectState, sid: string): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  ctx.acceptWebSocket(server, [sid]);
  return new Response(null, { status: 101, webSocket: client });
}

/** Tells every page watching `sid` that it ended and why, and closes their sockets. */
export function tellWatchers(ctx: DurableObjectState, sid: string, reason: EndReason): void {
  const message = JSON.stringify({ ended: sid, reason } satisfies EndedMessage);
  for (const socket of ctx.getWebSockets(sid)) {
    try {
      socket.send(message);
      socket.close(1000, 'session ended');
    } catch {
      // Closing already: that page has stopped watching.
    }
  }
}

/** Completes a close that the page began (a page that left, or stopped watching). */
export function closeWatcher(socket: WebSocket, code: number): void {
  try {
    // 1005 and 1006 say that no code was sent; they may not be sent back.
    socket.close(code === 1005 || code === 1006 ? 1000 : code, 'bye');
  } catch {
    // Closed already.
  }
}
