/**
 * @module
 * The consumer of the `WEBHOOKS` queue: signs each event per Standard Webhooks and POSTs it to
 * `WEBHOOK_URL`, and each back-channel logout to its client (`logout.ts`). A 2xx answer
 * acknowledges it. Anything else (another status, a redirect, a
 * network error, no answer within 10 s, a setting that is missing or malformed) is retried
 * with back-off, on the schedule Standard Webhooks recommends; after the last attempt the
 * queue moves the event to the dead-letter queue (`dead-letters.ts`).
 *
 * Each attempt is signed afresh, with its own `webhook-timestamp`: receivers refuse a
 * timestamp more than five minutes old, so a retry must not replay the first signature.
 * `webhook-id` and the body stay the same, so the receiver can drop duplicates.
 */
import type { Env } from '../env';
import { type WebhookConfig, webhookConfig } from './config';
import { asQueuedEvent } from './events';
import { asQueuedLogout, postLogout } from './logout';
import { signature } from './signature';

/** How long one attempt waits for the endpoint's answer. */
export const DELIVERY_TIMEOUT_MS = 10_000;

/**
 * Seconds to wait before each retry: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. The eighth and
 * last attempt comes about 27.6 hours after the first. `max_retries` of the queue's consumer in
 * `wrangler.toml` must equal the length of this list.
 */
export const RETRY_DELAYS_SECONDS: readonly number[] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];

/** The delay before the retry that follows attempt `attempts` (1 for the first). */
export function retryDelaySeconds(attempts: number): number {
  const index = Math.min(Math.max(attempts, 1), RETRY_DELAYS_SECONDS.length) - 1;
  return RETRY_DELAYS_SECONDS[index]!;
}

/** Delivers every message of a batch at once (events and back-channel logouts), acknowledging or retrying each on its own. */
export async function deliverBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const config = webhookConfig(env);
  await Promise.all(batch.messages.map((message) => deliverMessage(message, env, config)));
}

/** Sends one message: null when it was delivered, else why not; and how the log names it. */
async function send(message: Message<unknown>, env: Env, config: WebhookConfig): Promise<[string | null, string]> {
  const logout = asQueuedLogout(message.body);
  if (logout) {
    const what = `back-channel logout ${logout.message.id} to client "${logout.notice.client_id}"`;
    return [await postLogout(env, logout.notice, DELIVERY_TIMEOUT_MS), what];
  }
  const event = asQueuedEvent(message.body);
  if (!event) return ['the queue message is not a webhook event', `webhook queue message ${message.id}`];
  const what = `webhook ${event.id} (${event.type})`;
  if (config.state !== 'on') return [config.reason ?? 'WEBHOOK_URL and WEBHOOK_SECRET are not set', what];
  return [await post(config, event.id, event.payload), what];
}

async function deliverMessage(message: Message<unknown>, env: Env, config: WebhookConfig): Promise<void> {
  const [failure, what] = await send(message, env, config);
  if (failure === null) {
    message.ack();
    return;
  }
  const delay = retryDelaySeconds(message.attempts);
  message.retry({ delaySeconds: delay });
  const attempt = `attempt ${message.attempts} of ${RETRY_DELAYS_SECONDS.length + 1}`;
  if (message.attempts > RETRY_DELAYS_SECONDS.length) {
    console.error(`${what}: ${attempt} failed (${failure}); giving up, to the dead-letter queue.`);
  } else {
    console.warn(`${what}: ${attempt} failed (${failure}); next attempt in ${delay} s.`);
  }
}

/** POSTs one signed event; null on a 2xx answer, else why it failed. */
async function post(config: WebhookConfig & { state: 'on' }, id: string, payload: string): Promise<string | null> {
  const timestamp = Math.floor(Date.now() / 1000);
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), DELIVERY_TIMEOUT_MS);
  try {
    const signed = await signature(config.key, id, timestamp, payload);
    const res = await fetch(config.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'qrcode-login-webhooks',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signed,
      },
      body: payload,
      // A redirect is not a delivery: the signed request must reach WEBHOOK_URL itself.
      redirect: 'manual',
      signal: timeout.signal,
    });
    // Only the status counts; the body is not read (nor waited for).
    await res.body?.cancel().catch(() => {});
    return res.ok ? null : `HTTP ${res.status}`;
  } catch (err) {
    if (timeout.signal.aborted) return `no answer within ${DELIVERY_TIMEOUT_MS / 1000} s`;
    return `request failed: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    clearTimeout(timer);
  }
}
