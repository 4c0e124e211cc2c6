/**
 * @module
 * The Worker's `queue` handler: this Worker consumes its own two queues (see `wrangler.toml`).
 * A batch from the webhook queue is delivered; one from its dead-letter queue is kept.
 */
import type { Env } from '../env';
import { keepDeadLetters } from './dead-letters';
import { deliverBatch } from './deliver';

/** The queue names of `wrangler.toml`. */
export const WEBHOOK_QUEUE = 'qrcode-login-webhooks';
export const DEAD_LETTER_QUEUE = 'qrcode-login-webhooks-dead-letters';

export async function handleQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  if (batch.queue === WEBHOOK_QUEUE) return deliverBatch(batch, env);
  if (batch.queue === DEAD_LETTER_QUEUE) return keepDeadLetters(batch, env);
  // A queue renamed in wrangler.toml but not here: keep its messages rather than drop them.
  console.error(`queue "${batch.queue}" has no consumer in this Worker (see src/webhooks/queue.ts); retrying.`);
  batch.retryAll({ delaySeconds: 300 });
}
