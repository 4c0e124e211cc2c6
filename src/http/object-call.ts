/**
 * @module
 * Calling a Durable Object from the Worker: an object that fails mid-call (reset, evicted with
 * the call in flight, overloaded) is a 503 with `Retry-After`, never a 500 with a stack. Its
 * state is in storage, so the client's retry continues where it was.
 */
import { UnavailableError } from './errors';

/** `call`'s answer, or `UnavailableError` (503) naming `what` failed. */
export async function callObject<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new UnavailableError(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
