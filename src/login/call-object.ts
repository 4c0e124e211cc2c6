/**
 * @module
 * How the Worker's routes call a login's Durable Object: the one place that says what a failure
 * of the object is (503, whatever the route), and how the object's answers become API answers.
 */
import { ApiError, UnavailableError } from '../errors';
import { rateLimited } from '../limits/limits';
import type { Outcome } from './state';

/**
 * The object's answer to `call`. An object that fails mid-call (reset, evicted with the request
 * in flight, overloaded, a deploy) is a 503 with `Retry-After`: its state is in storage, so the
 * client's retry continues where it was.
 */
export async function callObject<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new UnavailableError(`login object: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The value of an object's outcome, or the API error it stands for (429 with its `Retry-After`). */
export function outcomeValue<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  if (outcome.error === 'rate_limited') throw rateLimited(outcome.retryAfter ?? 1);
  throw new ApiError(outcome.error);
}

/** `callObject` for the object's methods that answer an `Outcome`: the value, or its API error. */
export async function ask<T>(call: () => Promise<Outcome<T>>): Promise<T> {
  return outcomeValue(await callObject(call));
}
