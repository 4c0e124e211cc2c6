/**
 * @module
 * Runs D1 queries so that a database failure becomes a `503 service_unavailable` with a
 * logged reason, never a 500 with a stack. The reason is D1's message without the values it
 * quotes (a D1 type error quotes the value it could not bind: a password hash, a token).
 */
import { UnavailableError } from '../http/errors';

export async function query<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new UnavailableError(`D1: ${message.replace(/'[^']*'|"[^"]*"/g, "'…'")}`);
  }
}
