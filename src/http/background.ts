/**
 * @module
 * Work that must not delay an answer (marking a session used, queueing a webhook): handed to the
 * runtime's `waitUntil` so it finishes after the response, and never able to fail the request.
 */
import type { Env } from '../env';
import { describeError } from './log-safe';

/** What background work needs of a request's context; every Hono `Context` of this app has it. */
export interface BackgroundContext {
  env: Env;
  readonly executionCtx: { waitUntil(promise: Promise<unknown>): void };
}

export function inBackground(c: BackgroundContext, work: Promise<unknown>): void {
  const settled = work.catch((err) => console.warn(`background work failed: ${describeError(err, c.env)}`));
  try {
    c.executionCtx.waitUntil(settled);
  } catch {
    // No execution context (a direct `app.request` in a test): the promise still runs.
  }
}
