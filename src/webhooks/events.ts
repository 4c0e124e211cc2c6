/**
 * @module
 * What the site's backend is told, and how it is queued. The routes call `emit` at the three
 * moments of the contract (`login.succeeded`, `login.cancelled`, `session.revoked`); `emit`
 * builds the event once (its `webhook-id` and exact body are fixed here, so every retry
 * sends the same bytes) and hands it to the `WEBHOOKS` queue after the answer, through
 * `waitUntil`. It never throws and never waits: a queue or an endpoint that is down cannot
 * delay or fail a login.
 */

import { type BackgroundContext, inBackground } from '../http/background';
import { randomToken } from '../http/crypto';
import type { Outcome, Requester } from '../login/state';
import type { UserRef } from '../user/types';
import { webhookConfig } from './config';

/** Each event type and its `data`. */
export interface EventData {
  /** The PC received its token. */
  'login.succeeded': { qrcode_id: string; sid: string; user: UserRef; requester: Requester };
  /** The phone cancelled, or picked the wrong number (which ends the session the same way). */
  'login.cancelled': { qrcode_id: string; user: UserRef };
  /** A linked device was signed out (`DELETE /api/sessions/:sid` or `POST /api/logout`). */
  'session.revoked': { sid: string; user: UserRef };
}

export type EventType = keyof EventData;

export const EVENT_TYPES: readonly EventType[] = ['login.succeeded', 'login.cancelled', 'session.revoked'];

/** One queue message: an event ready to send. */
export interface QueuedEvent {
  /** The `webhook-id` header: unique per event, the same on every retry. */
  id: string;
  type: EventType;
  /** The exact request body, `{ "type", "timestamp", "data" }`, as JSON text. */
  payload: string;
}

/** A queue message's body as an event, or null when it is not one. */
export function asQueuedEvent(body: unknown): QueuedEvent | null {
  if (typeof body !== 'object' || body === null) return null;
  const { id, type, payload } = body as Record<string, unknown>;
  if (typeof id !== 'string' || typeof payload !== 'string') return null;
  if (!EVENT_TYPES.includes(type as EventType)) return null;
  return { id, type: type as EventType, payload };
}

/** What `emit` needs of a request's context; every Hono `Context` of this app has it. */
export type EmitContext = BackgroundContext;

/** A new event as it is queued: a fresh `webhook-id`, and its body fixed once. */
export function queuedEvent<T extends EventType>(type: T, data: EventData[T], now = new Date()): QueuedEvent {
  return {
    id: `msg_${randomToken(18)}`,
    type,
    payload: JSON.stringify({ type, timestamp: now.toISOString(), data }),
  };
}

/**
 * Queues `type` with `data` for delivery, after the answer. With `WEBHOOK_URL` and
 * `WEBHOOK_SECRET` unset nothing is queued. A malformed setting is logged, and the event is
 * queued all the same: it is retried for a day, so fixing the setting in time loses nothing,
 * and after that it is kept with the dead letters.
 */
export function emit<T extends EventType>(c: EmitContext, type: T, data: EventData[T]): void {
  try {
    const config = webhookConfig(c.env);
    if (config.state === 'off') {
      if (config.reason) console.warn(`webhook ${type} not sent: ${config.reason}.`);
      return;
    }
    if (config.state === 'broken') {
      console.error(`webhook ${type}: ${config.reason}; the event is queued and retried until this is fixed.`);
    }
    const queue = c.env.WEBHOOKS;
    if (!queue) {
      console.error(`webhook ${type} not sent: the WEBHOOKS queue binding is missing (see wrangler.toml).`);
      return;
    }
    inBackground(c, send(queue, queuedEvent(type, data)));
  } catch (err) {
    console.error(`webhook ${type} not queued:`, err);
  }
}

async function send(queue: Queue<QueuedEvent>, event: QueuedEvent): Promise<void> {
  try {
    await queue.send(event, { contentType: 'json' });
  } catch (err) {
    // The login has already been answered; all that is left to do is to say what was lost.
    console.error(`webhook ${event.id} (${event.type}) could not be queued and is lost: ${event.payload}`, err);
  }
}

/**
 * Passes the outcome of a confirm through unchanged, and when it is `match_failed` (a wrong
 * number pick, which ended the session as `scan-cancel`) emits `login.cancelled`.
 */
export function cancelledOnMismatch(c: EmitContext, data: EventData['login.cancelled']) {
  return <T>(outcome: Outcome<T>): Outcome<T> => {
    if (!outcome.ok && outcome.error === 'match_failed') emit(c, 'login.cancelled', data);
    return outcome;
  };
}
