/**
 * @module
 * The PCs waiting on one login, as its `LoginSession` keeps them: WebSockets it accepted through
 * the Hibernation API (`ctx.acceptWebSocket`), each with its waiter's deadline in its attachment,
 * and nothing in the object's memory (no timer, no promise), so the object can be evicted while
 * they wait and the sockets stay open. The Worker at the other end (`long-poll.ts`) holds the
 * PC's request and its timer. At most four wait at once.
 */
import { stateMessage, waitingAnswer } from './long-poll';
import type { Outcome, PcView } from './state';

/** Long-polls waiting on one QR at once; a fifth answers 429. */
const MAX_WAITERS = 4;
/**
 * A socket this long past its waiter's deadline is one whose Worker went away without closing it
 * (the Worker closes its end when the wait ends): it no longer counts, and is closed.
 */
const STALE_AFTER_MS = 10_000;

/** What a socket carries through hibernation. */
interface Waiter {
  /** When the Worker's wait ends (epoch ms): a fifth waiter's `Retry-After`. */
  until: number;
}

/** Accepts a waiter until `until`; the answer hands the Worker its end, and the state it waits from. */
export function acceptWaiter(ctx: DurableObjectState, view: PcView, until: number): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  ctx.acceptWebSocket(server);
  server.serializeAttachment({ until } satisfies Waiter);
  return waitingAnswer(client, view);
}

/** The deadlines of the sockets that wait; stale ones are closed on the way. */
function waiting(ctx: DurableObjectState, now: number): number[] {
  const deadlines: number[] = [];
  for (const socket of ctx.getWebSockets()) {
    if (socket.readyState !== WebSocket.OPEN) continue;
    const until = (socket.deserializeAttachment() as Waiter | null)?.until ?? 0;
    if (now > until + STALE_AFTER_MS) close(socket, 'stale');
    else deadlines.push(until);
  }
  return deadlines;
}

/** 429 when four PCs wait already, told when the first of them will have ended; null when there is room. */
export function refuseWaiter(ctx: DurableObjectState, now: number): Outcome<never> | null {
  const deadlines = waiting(ctx, now);
  if (deadlines.length < MAX_WAITERS) return null;
  const soonest = Math.min(...deadlines);
  return { ok: false, error: 'rate_limited', retryAfter: Math.max(1, Math.ceil((soonest - now) / 1000)) };
}

/**
 * Sends `view` on every socket and closes them: each Worker answers its PC (or, for a confirmed
 * login, claims the token first). With no view (the login is gone) the sockets are only closed;
 * each Worker then asks once more and hears 410.
 */
export function tellWaiters(ctx: DurableObjectState, view: PcView | null): void {
  const message = view && stateMessage(view);
  for (const socket of ctx.getWebSockets()) {
    try {
      if (message) socket.send(message);
    } catch {
      // Closing already: its Worker has stopped waiting.
    }
    close(socket, view ? 'changed' : 'gone');
  }
}

function close(socket: WebSocket, reason: string): void {
  try {
    socket.close(1000, reason);
  } catch {
    // Closed already.
  }
}
