/**
 * Webhook delivery: the consumer of the `WEBHOOKS` queue signs each event per Standard Webhooks
 * (checked with the `standardwebhooks` package, as a site's backend would), POSTs it to
 * `WEBHOOK_URL`, acknowledges a 2xx answer and retries anything else with back-off.
 */
import { env } from 'cloudflare:workers';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import type { Env } from '../../src/env';
import { DELIVERY_TIMEOUT_MS, RETRY_DELAYS_SECONDS } from '../../src/webhooks/deliver';
import wranglerToml from '../../wrangler.toml?raw';
import { configured, consume, endpoint, loginSucceeded, newSecret, SECRET, WEBHOOK_URL } from './support';

/** What the consumer logs, kept out of the test output and read where it matters. */
let warn: MockInstance<typeof console.warn>;
let error: MockInstance<typeof console.error>;
beforeEach(() => {
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  error = vi.spyOn(console, 'error').mockImplementation(() => {});
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('a webhook delivery', () => {
  it('is a POST to WEBHOOK_URL that the standardwebhooks package verifies, and a 2xx acknowledges it', async () => {
    const received = endpoint(() => new Response(null, { status: 204 }));
    const event = loginSucceeded();
    const result = await consume([event]);

    expect(result.explicitAcks).toEqual(['m0']);
    expect(result.retryMessages).toEqual([]);
    expect(received).toHaveLength(1);
    const [got] = received;
    expect(got).toMatchObject({ url: WEBHOOK_URL, method: 'POST' });
    expect(got!.headers['content-type']).toBe('application/json');
    expect(got!.headers['webhook-id']).toBe(event.id);
    expect(got!.headers['webhook-timestamp']).toMatch(/^\d+$/);
    expect(Math.abs(Number(got!.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    expect(got!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);

    const payload = new Webhook(SECRET).verify(got!.body, got!.headers);
    expect(payload).toEqual(JSON.parse(event.payload));
    expect(payload).toMatchObject({ type: 'login.succeeded', data: { user: { username: 'dong' } } });
    expect(new Date((payload as { timestamp: string }).timestamp).toISOString()).toBe(
      (payload as { timestamp: string }).timestamp,
    );
  });

  it('is signed with WEBHOOK_SECRET and no other key', async () => {
    const received = endpoint(() => new Response('ok'));
    await consume([loginSucceeded()]);
    const [got] = received;
    expect(() => new Webhook(newSecret()).verify(got!.body, got!.headers)).toThrow();
    // A body changed on the way, or the id of another event, fails too.
    expect(() => new Webhook(SECRET).verify(`${got!.body} `, got!.headers)).toThrow();
    expect(() => new Webhook(SECRET).verify(got!.body, { ...got!.headers, 'webhook-id': 'msg_other' })).toThrow();
  });

  it('is acknowledged by any 2xx answer', async () => {
    for (const status of [200, 201, 202, 204, 299]) {
      endpoint(() => new Response(null, { status }));
      const result = await consume([loginSucceeded()]);
      expect(result.explicitAcks, `HTTP ${status}`).toEqual(['m0']);
      expect(result.retryMessages).toEqual([]);
    }
  });

  it('is retried after any other answer, a redirect included (it is not followed)', async () => {
    for (const status of [301, 302, 307, 400, 401, 404, 410, 429, 500, 502, 503]) {
      const received = endpoint(
        () => new Response('no', { status, headers: { Location: 'https://elsewhere.example/' } }),
      );
      const result = await consume([loginSucceeded()]);
      expect(result.explicitAcks, `HTTP ${status}`).toEqual([]);
      expect(result.retries).toEqual([{ msgId: 'm0', delaySeconds: RETRY_DELAYS_SECONDS[0] }]);
      expect(received).toHaveLength(1);
      expect(received[0]!.redirect).toBe('manual');
    }
  });

  it('is retried when the endpoint cannot be reached', async () => {
    vi.spyOn(globalThis, 'fetch').mockRejectedValue(new TypeError('Network connection lost.'));
    const result = await consume([loginSucceeded()]);
    expect(result.retries).toEqual([{ msgId: 'm0', delaySeconds: 5 }]);
    expect(warn.mock.calls.flat().join(' ')).toMatch(
      /attempt 1 of 8 failed \(request failed: Network connection lost\.\)/,
    );
  });

  it('gives up waiting for an answer after 10 seconds, and is retried', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let called!: () => void;
    const calledOnce = new Promise<void>((resolve) => {
      called = resolve;
    });
    // An endpoint that accepts the connection and never answers.
    vi.spyOn(globalThis, 'fetch').mockImplementation((_input, init) => {
      called();
      return new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    });
    let settled = false;
    const done = consume([loginSucceeded()]).finally(() => {
      settled = true;
    });
    await calledOnce;
    await vi.advanceTimersByTimeAsync(DELIVERY_TIMEOUT_MS - 1);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const result = await done;
    expect(result.explicitAcks).toEqual([]);
    expect(result.retries).toEqual([{ msgId: 'm0', delaySeconds: 5 }]);
  });

  it('sends the same webhook-id and the same body on every retry, each attempt signed afresh', async () => {
    const event = loginSucceeded();
    let calls = 0;
    const received = endpoint(() => new Response(null, { status: ++calls === 1 ? 503 : 200 }));
    expect((await consume([event], { attempts: 1 })).retries).toHaveLength(1);
    expect((await consume([event], { attempts: 2 })).explicitAcks).toEqual(['m0']);

    const [first, retried] = received;
    expect(retried!.headers['webhook-id']).toBe(event.id);
    expect(first!.headers['webhook-id']).toBe(event.id);
    expect(retried!.body).toBe(first!.body);
    for (const got of [first!, retried!]) expect(new Webhook(SECRET).verify(got.body, got.headers)).toBeTruthy();
  });

  it('backs off 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then goes to the dead-letter queue', async () => {
    endpoint(() => new Response(null, { status: 500 }));
    const delays: (number | undefined)[] = [];
    for (let attempts = 1; attempts <= 8; attempts++) {
      const result = await consume([loginSucceeded()], { attempts });
      expect(result.retryMessages).toEqual([{ msgId: 'm0' }]);
      delays.push(result.retries[0]?.delaySeconds);
    }
    expect(delays.slice(0, 7)).toEqual([5, 300, 1_800, 7_200, 18_000, 36_000, 36_000]);
    // The contract: the first retry within 30 s, then retries for at least 24 hours, each
    // within what a queue allows (12 hours).
    expect(delays[0]).toBeLessThanOrEqual(30);
    expect(RETRY_DELAYS_SECONDS.reduce((sum, s) => sum + s, 0)).toBeGreaterThanOrEqual(24 * 3600);
    for (const delay of RETRY_DELAYS_SECONDS) expect(delay).toBeLessThanOrEqual(12 * 3600);
    // After the eighth attempt the queue moves the event on: it says so.
    expect(error.mock.calls.flat().join(' ')).toMatch(
      /attempt 8 of 8 failed \(HTTP 500\); giving up, to the dead-letter queue/,
    );
  });

  it('has as many retries in wrangler.toml as the schedule has delays, and a dead-letter queue', () => {
    const consumer = /\[\[queues\.consumers\]\]\nqueue = "qrcode-login-webhooks"\n([\s\S]*?)\n\n/.exec(
      wranglerToml,
    )?.[1];
    expect(consumer).toBeDefined();
    expect(consumer).toContain(`max_retries = ${RETRY_DELAYS_SECONDS.length}`);
    expect(consumer).toContain('dead_letter_queue = "qrcode-login-webhooks-dead-letters"');
  });

  it('delivers each event of a batch on its own: one that fails does not hold back the others', async () => {
    const events = [loginSucceeded(), loginSucceeded(), loginSucceeded()];
    const failing = events[1]!.id;
    endpoint(({ headers }) => new Response(null, { status: headers['webhook-id'] === failing ? 500 : 200 }));
    const result = await consume(events);
    expect(result.explicitAcks.sort()).toEqual(['m0', 'm2']);
    expect(result.retries).toEqual([{ msgId: 'm1', delaySeconds: 5 }]);
  });

  it('waits, with a logged reason, while WEBHOOK_URL or WEBHOOK_SECRET is missing or malformed', async () => {
    const received = endpoint(() => new Response(null, { status: 200 }));
    for (const [bindings, reason] of [
      [{ ...env }, /WEBHOOK_URL and WEBHOOK_SECRET are not set/],
      [{ ...configured, WEBHOOK_SECRET: '' }, /WEBHOOK_URL is set but WEBHOOK_SECRET is not/],
      [{ ...configured, WEBHOOK_SECRET: 'whsec_not base64!' }, /WEBHOOK_SECRET is not whsec_ followed by base64/],
      [{ ...configured, WEBHOOK_SECRET: 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }, /must start with whsec_/],
      [{ ...configured, WEBHOOK_URL: 'site.example/hooks' }, /WEBHOOK_URL is not a URL/],
      [{ ...configured, WEBHOOK_URL: 'ftp://site.example/hooks' }, /WEBHOOK_URL must be an http\(s\) URL/],
    ] as const) {
      warn.mockClear();
      const result = await consume([loginSucceeded()], { bindings: bindings as Env });
      expect(result.retries).toEqual([{ msgId: 'm0', delaySeconds: 5 }]);
      expect(warn.mock.calls.flat().join(' ')).toMatch(reason);
    }
    expect(received).toEqual([]);
  });

  it('never sends a queue message that is not an event; it is retried, and so ends with the dead letters', async () => {
    const received = endpoint(() => new Response(null, { status: 200 }));
    for (const body of ['text', null, { id: 'msg_x', type: 'login.other', payload: '{}' }, { id: 1 }]) {
      const result = await consume([body]);
      expect(result.retries).toEqual([{ msgId: 'm0', delaySeconds: 5 }]);
    }
    expect(received).toEqual([]);
  });

  it('keeps a batch from a queue it does not know for a later retry', async () => {
    const result = await consume([loginSucceeded()], { queue: 'some-other-queue' });
    expect(result.retryBatch.retry).toBe(true);
    expect(result.explicitAcks).toEqual([]);
    expect(error).toHaveBeenCalled();
  });
});
