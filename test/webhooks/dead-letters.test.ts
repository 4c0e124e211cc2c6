/**
 * Dead letters: an event that exhausted its retries arrives on the dead-letter queue, whose
 * consumer keeps it in D1 (`webhook_dead_letters`) where an operator can read it, and logs it.
 */
import { env } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import type { Env } from '../../src/env';
import type { DeadLetter } from '../../src/webhooks/dead-letters';
import { queuedEvent } from '../../src/webhooks/events';
import { DEAD_LETTER_QUEUE } from '../../src/webhooks/queue';
import { configured, consume, DONG, endpoint, loginSucceeded, WEBHOOK_URL } from './support';

let error: MockInstance<typeof console.error>;
beforeEach(() => {
  error = vi.spyOn(console, 'error').mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

const deadLetter = (id: string) =>
  env.DB.prepare('SELECT * FROM webhook_dead_letters WHERE webhook_id = ?').bind(id).first<DeadLetter>();

describe('the dead-letter queue', () => {
  it('keeps an event that exhausted its retries in webhook_dead_letters, with its exact body, and logs it', async () => {
    const event = loginSucceeded();
    const result = await consume([event], { queue: DEAD_LETTER_QUEUE });
    expect(result.explicitAcks).toEqual(['m0']);

    const row = await deadLetter(event.id);
    expect(row).toMatchObject({
      webhook_id: event.id,
      type: 'login.succeeded',
      payload: event.payload,
      url: WEBHOOK_URL,
    });
    expect(new Date(row!.dead_at).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(error.mock.calls.flat().join(' ')).toContain(
      `webhook ${event.id} (login.succeeded) was not delivered after every retry; kept in the D1 table webhook_dead_letters`,
    );
  });

  it('never sends a dead letter to the endpoint again', async () => {
    const received = endpoint(() => new Response(null, { status: 200 }));
    await consume([loginSucceeded()], { queue: DEAD_LETTER_QUEUE });
    expect(received).toEqual([]);
  });

  it('keeps one row per event even when the queue delivers it twice', async () => {
    const event = queuedEvent('session.revoked', { sid: crypto.randomUUID(), user: DONG });
    await consume([event], { queue: DEAD_LETTER_QUEUE });
    const again = await consume([event], { queue: DEAD_LETTER_QUEUE, attempts: 2 });
    expect(again.explicitAcks).toEqual(['m0']);
    const { results } = await env.DB.prepare('SELECT * FROM webhook_dead_letters WHERE webhook_id = ?')
      .bind(event.id)
      .all();
    expect(results).toHaveLength(1);
  });

  it('keeps a message that is not an event as it came', async () => {
    const result = await consume([{ something: 'else' }], { queue: DEAD_LETTER_QUEUE });
    expect(result.explicitAcks).toEqual(['m0']);
    // The queue's message id names it (createMessageBatch's ids are per test, so look it up by body).
    const row = await env.DB.prepare('SELECT * FROM webhook_dead_letters WHERE payload = ?')
      .bind('{"something":"else"}')
      .first<DeadLetter>();
    expect(row).toMatchObject({ webhook_id: 'queue:m0', type: 'unknown' });
  });

  it('is retried when D1 cannot store it, and the log keeps the body meanwhile', async () => {
    const event = loginSucceeded();
    const down = {
      ...configured,
      DB: {
        prepare() {
          throw new Error('D1_ERROR: database unavailable');
        },
      },
    } as unknown as Env;
    const result = await consume([event], { queue: DEAD_LETTER_QUEUE, bindings: down });
    expect(result.explicitAcks).toEqual([]);
    expect(result.retries).toEqual([{ msgId: 'm0', delaySeconds: 60 }]);
    expect(error.mock.calls.flat().join(' ')).toContain(event.payload);
    expect(await deadLetter(event.id)).toBeNull();
  });
});
