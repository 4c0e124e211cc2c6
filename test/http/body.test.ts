/**
 * Reading a request body: at most 8 KB, and within the deadline (10 s in the Worker), else 400 or 408.
 * (`test/faults/slow-body.spec.ts` sends a body at one byte a second to a real server.)
 */
import { describe, expect, it } from 'vitest';
import { BODY_DEADLINE_MS, readBody } from '../../src/http/body';
import { ApiError } from '../../src/http/errors';

/** A body that sends `first` and then nothing more, ever. */
function stalled(first: string): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(first));
    },
  });
}

describe('readBody', () => {
  it('answers 408 request_timeout when the body has not all arrived by the deadline', async () => {
    const err = await readBody(stalled('{"user'), { deadlineMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'request_timeout', status: 408 });
    expect(BODY_DEADLINE_MS).toBe(10_000);
  });

  it('refuses a body over the limit as soon as it passes it', async () => {
    const err = await readBody(stalled('x'.repeat(9000))).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid_request', status: 400 });
  });

  it('reads a whole body that arrives in pieces', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const piece of ['{"a"', ':', '1}']) controller.enqueue(new TextEncoder().encode(piece));
        controller.close();
      },
    });
    expect(new TextDecoder().decode(await readBody(body))).toBe('{"a":1}');
  });
});
