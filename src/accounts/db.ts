/**
 * @module
 * Runs D1 queries so that a database failure becomes a `503 service_unavailable` with a
 * logged reason, never a 500 with a stack.
 */
import { UnavailableError } from '../errors';

export async function query<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new UnavailableError(`D1: ${err instanceof Error ? err.message : String(err)}`);
  }
}
