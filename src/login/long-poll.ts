/**
 * @module
 * The PC's long-poll, held by the Worker. The Worker asks the login's object once; the object
 * answers at once when there is news (or the PC may not wait), else it accepts a WebSocket
 * through the Hibernation API (`waiters.ts`) and the Worker waits on it, with the `wait` timer
 * here, in the Worker. The object keeps nothing of the waiter in memory, so it can be evicted
 * while the PC waits; the next scan, confirm, cancel or alarm wakes it and it sends the new
 * state on every socket.
 *
 * Also the wire between the two: the object is reached only through its namespace binding,
 * so nothing here can come from outside the Worker (docs/security.md).
 */
import { outcomeValue, reachLogin } from './call-object';
import type { LoginSession } from './login-session';
import { isOpen, type Outcome, type PcView } from './state';

/** What the Worker asks the object for one status poll. */
export interface StatusAsk {
  /** SHA-256 (hex) of the PC's poll token. */
  pollHash: string;
  /** The version the PC has seen; null when it has seen none. */
  after: number | null;
  /** How long the PC may wait, in milliseconds; 0 answers at once. */
  waitMs: number;
  /** The DPoP key the poll proved (a bound login answers only it), if any. */
  jkt?: string | null;
}

/** A status poll as the object reads it. */
export interface StatusRequest extends StatusAsk {
  /** The Worker offers a WebSocket to wait on (`Upgrade: websocket`). */
  mayWait: boolean;
  /** False for the Worker's own re-read after a wait: not the PC's request, not counted as one. */
  counted: boolean;
}

const STATUS_URL = 'https://login-session.internal/status';
const POLL_HASH_HEADER = 'X-Poll-Hash';
const JKT_HEADER = 'X-Proof-Jkt';
/** The state the PC waits from, on the object's 101 answer (URI-encoded JSON: headers are ASCII). */
const STATE_HEADER = 'X-Login-State';

export function statusRequest(ask: StatusAsk, { mayWait, counted }: { mayWait: boolean; counted: boolean }): Request {
  const url = new URL(STATUS_URL);
  if (ask.after !== null) url.searchParams.set('after', String(ask.after));
  url.searchParams.set('wait', String(ask.waitMs));
  if (!counted) url.searchParams.set('recheck', '1');
  const headers = new Headers({ [POLL_HASH_HEADER]: ask.pollHash });
  if (ask.jkt) headers.set(JKT_HEADER, ask.jkt);
  if (mayWait) headers.set('Upgrade', 'websocket');
  return new Request(url, { headers });
}

/** The status poll that `request` carries, or null when it is not one. */
export function readStatusRequest(request: Request): StatusRequest | null {
  const url = new URL(request.url);
  const after = url.searchParams.get('after');
  const waitMs = Number(url.searchParams.get('wait'));
  const pollHash = request.headers.get(POLL_HASH_HEADER);
  if (request.method !== 'GET' || url.pathname !== '/status' || pollHash === null) return null;
  if ((after !== null && !/^\d+$/.test(after)) || !(waitMs >= 0)) return null;
  return {
    pollHash,
    after: after === null ? null : Number(after),
    waitMs,
    jkt: request.headers.get(JKT_HEADER),
    mayWait: request.headers.get('Upgrade')?.toLowerCase() === 'websocket',
    counted: url.searchParams.get('recheck') !== '1',
  };
}

/** The object's answer at once: an outcome as JSON. */
export const statusAnswer = (outcome: Outcome<PcView>): Response => Response.json(outcome);

/** The object's 101 answer: the waiter's end of the socket, and the state it waits from. */
export function waitingAnswer(client: WebSocket, view: PcView): Response {
  const headers = { [STATE_HEADER]: encodeURIComponent(JSON.stringify(view)) };
  return new Response(null, { status: 101, webSocket: client, headers });
}

/** What the object sends on each socket when the state changes. */
export const stateMessage = (view: PcView): string => JSON.stringify(view);

/** A state sent by the object, or null for anything else (which is ignored). */
function readState(data: unknown): PcView | null {
  if (typeof data !== 'string') return null;
  try {
    const view = JSON.parse(data) as PcView;
    return typeof view?.status === 'string' && Number.isInteger(view.version) ? view : null;
  } catch {
    return null;
  }
}

/** Milliseconds until an open login expires; infinite for one that has ended. */
const untilExpiry = (view: PcView, now: number): number =>
  isOpen(view.status) ? Date.parse(view.expires_at) - now : Number.POSITIVE_INFINITY;

/** How long a PC that saw `view` waits: `waitMs`, and never past an open login's expiry. */
export const waitingMs = (view: PcView, waitMs: number, now: number): number =>
  Math.max(0, Math.min(waitMs, untilExpiry(view, now)));

type Heard = { kind: 'state'; view: PcView } | { kind: 'timeout' | 'closed' | 'hung-up' };

/**
 * Waits on `socket` for the next state, until `ms` pass or the PC hangs up (`signal`). Whatever
 * ends the wait closes our end, so the object is left with no socket of a PC that no longer waits.
 */
function nextState(socket: WebSocket, ms: number, signal: AbortSignal): Promise<Heard> {
  return new Promise((resolve) => {
    let ended = false;
    const end = (heard: Heard) => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', hangUp);
      try {
        socket.close(1000, 'done');
      } catch {
        // Closed already, by the object.
      }
      resolve(heard);
    };
    const hangUp = () => end({ kind: 'hung-up' });
    const timer = setTimeout(() => end({ kind: 'timeout' }), ms);
    socket.addEventListener('message', (event) => {
      const view = readState(event.data);
      if (view) end({ kind: 'state', view });
    });
    socket.addEventListener('close', () => end({ kind: 'closed' }));
    socket.addEventListener('error', () => end({ kind: 'closed' }));
    signal.addEventListener('abort', hangUp);
    socket.accept();
    if (signal.aborted) hangUp();
  });
}

/** The PC's side of a wait: its request's signal (aborted when it hangs up), and a way to finish work after it. */
export interface WaitingPc {
  signal: AbortSignal;
  /** `waitUntil`: runs `work` to its end even when the PC's request ends first. */
  keepAlive(work: Promise<unknown>): void;
}

/** The object's answer at once, or the state the PC waited from and what ended the wait. */
type Waited = { answer: Outcome<PcView> } | { seen: PcView; heard: Heard };

async function waitOn(login: DurableObjectStub<LoginSession>, ask: StatusAsk, signal: AbortSignal): Promise<Waited> {
  const res = await reachLogin(() => login.fetch(statusRequest(ask, { mayWait: true, counted: true })));
  const socket = res.webSocket;
  if (!socket) return { answer: (await res.json()) as Outcome<PcView> };
  const seen = JSON.parse(decodeURIComponent(res.headers.get(STATE_HEADER) ?? '')) as PcView;
  return { seen, heard: await nextState(socket, waitingMs(seen, ask.waitMs, Date.now()), signal) };
}

/**
 * The PC's status poll: the view to answer (with `deliver` when this poll claimed the confirmed
 * login), or the API error it stands for.
 */
export async function longPoll(login: DurableObjectStub<LoginSession>, ask: StatusAsk, pc: WaitingPc): Promise<PcView> {
  const waited = waitOn(login, ask, pc.signal);
  // When a PC hangs up, workerd drops its request's pending I/O: a socket the object is opening
  // right then would never be closed, and would hold one of the four places. So the wait always
  // runs to its end, and closes its socket, whenever the PC goes.
  pc.keepAlive(waited.catch(() => undefined));
  const result = await waited;
  if ('answer' in result) return outcomeValue(result.answer);
  const { seen, heard } = result;
  // Nobody hears this answer; the PC's next poll finds the state where it is.
  if (heard.kind === 'hung-up') return seen;
  // Unchanged: the object would have said otherwise (a change in flight reaches the next poll).
  if (heard.kind === 'timeout' && untilExpiry(seen, Date.now()) > 0) return seen;
  if (heard.kind === 'state' && heard.view.status !== 'scan-confirm') return heard.view;
  // A confirmed login to claim (the claim is the object's: of racing polls exactly one gets the
  // token, later ones 410), an expiry to apply, or the object went away under the wait (a reset,
  // a deploy): ask again, at once. Not the PC's request: it does not count toward its limit.
  const again = await reachLogin(() => login.fetch(statusRequest(ask, { mayWait: false, counted: false })));
  return outcomeValue((await again.json()) as Outcome<PcView>);
}
