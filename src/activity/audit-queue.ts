/**
 * @module
 * The consumer of the `AUDIT` queue: each delivery's events go to D1 in one batch (one
 * transaction, `INSERT OR IGNORE` by id: a message delivered twice is stored once), then every
 * message of it is acknowledged. D1 refusing the batch retries the whole batch with back-off
 * (1 minute, doubling, at most an hour); after the last attempt the events are logged in full,
 * so that none is lost without a trace. The log is pruned here too, off every request's path:
 * at most once an hour per isolate, by the index on `at`.
 */
import type { Env } from '../env';
import { describeError } from '../http/log-safe';
import { ACTIVITY_KINDS, type ActivityEvent, type AuditMessage } from '../user';
import { pruneEvents, storeEvents } from './audit-log';

/** The queue's name in `wrangler.toml`. */
export const AUDIT_QUEUE = 'qrcode-login-audit';
/** `max_retries` of the consumer in `wrangler.toml`: attempt 21 is the last. */
export const AUDIT_MAX_RETRIES = 20;
const PRUNE_EVERY_MS = 60 * 60_000;

/** When this isolate last pruned the log (0: not yet). */
let prunedAt = 0;

/** The delay before the retry that follows attempt `attempts`: 60 s, doubling, at most an hour. */
export const auditRetryDelay = (attempts: number): number => Math.min(60 * 2 ** Math.max(attempts - 1, 0), 3600);

const isEvent = (e: unknown): e is ActivityEvent => {
  if (typeof e !== 'object' || e === null) return false;
  const { id, at, kind, user } = e as Record<string, unknown>;
  const who = user as Record<string, unknown> | null;
  return (
    typeof id === 'string' &&
    /^evt_[A-Za-z0-9_-]{1,64}$/.test(id) &&
    typeof at === 'string' &&
    !Number.isNaN(Date.parse(at)) &&
    ACTIVITY_KINDS.includes(kind as ActivityEvent['kind']) &&
    typeof who?.id === 'string' &&
    typeof who.username === 'string'
  );
};

/** A message's events, or null when it is not an audit message. */
export function eventsOf(body: unknown): ActivityEvent[] | null {
  const audit = (body as Partial<AuditMessage> | null)?.audit;
  return Array.isArray(audit) && audit.every(isEvent) ? audit : null;
}

export async function keepAudit(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const events: ActivityEvent[] = [];
  const kept: Message<unknown>[] = [];
  for (const message of batch.messages) {
    const found = eventsOf(message.body);
    if (found) {
      events.push(...found);
      kept.push(message);
    } else {
      // Nothing a retry would mend: said in the log, as it came, and acknowledged.
      console.error(`audit: queue message ${message.id} is not an audit message: ${JSON.stringify(message.body)}`);
      message.ack();
    }
  }
  try {
    await storeEvents(env, events);
  } catch (err) {
    for (const message of kept) {
      if (message.attempts > AUDIT_MAX_RETRIES) {
        console.error(
          `audit: D1 refused these events on the last attempt; they are not in the audit log: ${JSON.stringify(message.body)}`,
        );
      }
      message.retry({ delaySeconds: auditRetryDelay(message.attempts) });
    }
    console.warn(`audit: ${events.length} events not stored, retrying: ${describeError(err, env)}`);
    return;
  }
  for (const message of kept) message.ack();
  await pruneNowAndThen(env);
}

/** Prunes the log when this isolate has not for an hour; a failure is only logged (the next batch tries again). */
async function pruneNowAndThen(env: Env, now = Date.now()): Promise<void> {
  if (now - prunedAt < PRUNE_EVERY_MS) return;
  prunedAt = now;
  try {
    await pruneEvents(env, now);
  } catch (err) {
    prunedAt = 0;
    console.warn(`audit: the log could not be pruned now: ${describeError(err, env)}`);
  }
}

/** Forgets when the log was last pruned (tests). */
export function resetAuditPrune(): void {
  prunedAt = 0;
}
