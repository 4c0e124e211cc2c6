/**
 * @module
 * How the Worker's routes call a login's Durable Object: the one place that says what a failure
 * of the object is (503, whatever the route), and how the object's answers become API answers.
 */
import { ApiError } from '../http/errors';
import { callObject } from '../http/object-call';
import { rateLimited } from '../limits/limits';
import { DpopError } from '../tokens/dpop';
import type { Outcome } from './state';

/** Why a bound login's poll without its key is refused. */
const UNPROVED = 'This login is bound to a DPoP key: poll with a DPoP proof of that key.';

/**
 * The login object's answer to `call`; a failure of the object is a 503 (see `object-call.ts`):
 * its state is in storage, so the client's retry continues where it was.
 */
export const reachLogin = <T>(call: () => Promise<T>): Promise<T> => callObject('login object', call);

/** The value of an object's outcome, or the API error it stands for (429 with its `Retry-After`). */
export function outcomeValue<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  if (outcome.error === 'rate_limited') throw rateLimited(outcome.retryAfter ?? 1);
  if (outcome.dpop) throw new DpopError('invalid_dpop_proof', UNPROVED, null, true);
  throw new ApiError(outcome.error);
}

/** `reachLogin` for the object's methods that answer an `Outcome`: the value, or its API error. */
export async function askLogin<T>(call: () => Promise<Outcome<T>>): Promise<T> {
  return outcomeValue(await reachLogin(call));
}
