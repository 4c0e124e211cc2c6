/**
 * @module
 * The consumer of the dead-letter queue: an event (or a back-channel logout) that was not
 * delivered after every retry (about 27.6 hours) is kept in the D1 table `webhook_dead_letters`, with its exact body, so an
 * operator can see it and act on it, and a log line says so. Storing is idempotent (the queue
 * delivers at least once); if D1 is down the message is retried, and its body is logged so
 * that it is never lost without a trace.
 */
import type { Env } from '../env';
import { asQueuedEvent } from './events';
import { asQueuedLogout } from './logout';

/** How long to wait before storing a dead letter again after D1 failed. */
const STORE_RETRY_SECONDS = 60;

/** A dead letter as the table keeps it. */
export interface DeadLetter {
  webhook_id: string;
  type: string;
  payload: string;
  url: string | null;
  dead_at: string;
}

export async function keepDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    // Whatever the body is, keep it: a message that is neither an event nor a back-channel
    // logout is kept as it came. A logout is kept with its client's URI.
    const logout = asQueuedLogout(message.body);
    const event = logout?.message ??
      asQueuedEvent(message.body) ?? {
        id: `queue:${message.id}`,
        type: 'unknown',
        payload: JSON.stringify(message.body) ?? String(message.body),
      };
    const url = logout ? logout.notice.uri : env.WEBHOOK_URL?.trim() || null;
    try {
      await env.DB.prepare(
        'INSERT OR IGNORE INTO webhook_dead_letters (webhook_id, type, payload, url) VALUES (?, ?, ?, ?)',
      )
        .bind(event.id, event.type, event.payload, url)
        .run();
      message.ack();
      console.error(
        `webhook ${event.id} (${event.type}) was not delivered after every retry; ` +
          'kept in the D1 table webhook_dead_letters.',
      );
    } catch (err) {
      message.retry({ delaySeconds: STORE_RETRY_SECONDS });
      console.error(
        `webhook ${event.id} (${event.type}) is a dead letter that could not be stored (retrying): ${event.payload}`,
        err,
      );
    }
  }
}
