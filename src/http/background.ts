/**
 * @module
 * Work that must not delay an answer (marking a session used, queueing a webhook): handed to the
 * runtime's `waitUntil` so it finishes after the response, and never able to fail the request.
 */
import type { Context } from 'hono';
import { describeError } from './log-safe';

export function inBackground(c: Context, work: Promise<unknown>): void {
  const settled = work.catch((err) => console.warn(`background work failed: ${describeError(err, c.env)}`));
  try {
    c.executionCtx.waitUntil(settled);
  } catch {
    // No execution context (a direct `app.request` in a test): the promise still runs.
  }
}
