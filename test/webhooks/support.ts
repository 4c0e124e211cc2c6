/**
 * Shared steps for the webhook tests: a configured environment, a fake site endpoint in place
 * of `fetch`, and the Worker's own `queue` handler fed with batches as the queue sends them.
 */
import { createExecutionContext, createMessageBatch, getQueueResult, type QueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { vi } from 'vitest';
import type { Env } from '../../src/env';
import worker from '../../src/index';
import type { EventData, QueuedEvent } from '../../src/webhooks/events';
import { queuedEvent } from '../../src/webhooks/events';
import { WEBHOOK_QUEUE } from '../../src/webhooks/queue';

/** A Standard Webhooks secret, as a site would generate it: `whsec_` + base64 of 32 random bytes. */
export function newSecret(): string {
  return `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
}

export const SECRET = newSecret();
export const WEBHOOK_URL = 'https://site.example/hooks/qr-login';
export const configured = { ...env, WEBHOOK_URL, WEBHOOK_SECRET: SECRET };

export const DONG = { id: 'u_dong', username: 'dong', display_name: '东东' };

export function loginSucceeded(data: Partial<EventData['login.succeeded']> = {}): QueuedEvent {
  return queuedEvent('login.succeeded', {
    qrcode_id: 'a'.repeat(64),
    sid: crypto.randomUUID(),
    user: DONG,
    requester: {
      user_agent: 'test',
      ip: '203.0.113.9',
      country: 'NL',
      city: null,
      created_at: new Date().toISOString(),
    },
    ...data,
  });
}

/** One POST the site's endpoint received, as it arrived. */
export interface Received {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  redirect: RequestInit['redirect'];
  signal: AbortSignal | null | undefined;
}

/**
 * Replaces `fetch` (the Worker's, which runs in this same isolate) with a site endpoint that
 * answers with `respond`, and returns what it received.
 */
export function endpoint(respond: (got: Received) => Response | Promise<Response>): Received[] {
  const received: Received[] = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const got: Received = {
      url: request.url,
      method: request.method,
      headers: Object.fromEntries(request.headers),
      body: await request.text(),
      redirect: init?.redirect,
      signal: init?.signal,
    };
    received.push(got);
    return respond(got);
  });
  return received;
}

/** What the handler did with a batch: `getQueueResult`, with each retry's delay. */
export interface Consumed extends QueueResult {
  retries: { msgId: string; delaySeconds: number | undefined }[];
}

/** Runs the Worker's `queue` handler on one batch, as the queue would, and reports acks and retries. */
export async function consume(
  bodies: unknown[],
  { attempts = 1, queue = WEBHOOK_QUEUE, bindings = configured as Env } = {},
): Promise<Consumed> {
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts, body })),
  );
  // `getQueueResult` lists retried messages but not their delays: watch `retry()` for those.
  const retries: Consumed['retries'] = [];
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    message.retry = (options) => {
      retries.push({ msgId: message.id, delaySeconds: options?.delaySeconds });
      retry(options);
    };
  }
  const ctx = createExecutionContext();
  const handler: ExportedHandler<Env> = worker;
  await handler.queue!(batch, bindings, ctx);
  return { ...(await getQueueResult(batch, ctx)), retries };
}
