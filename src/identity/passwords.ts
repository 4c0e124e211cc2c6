/**
 * @module
 * Password hashing: PBKDF2-SHA-256 at 100,000 iterations (the most the Workers runtime
 * allows in production) with a per-user random salt, stored as
 * `pbkdf2_sha256$<iterations>$<salt base64url>$<hash base64url>`.
 */
import { base64url, constantTimeEqual, fromBase64url } from '../http/crypto';

export const PBKDF2_ITERATIONS = 100_000;
const HASH_BYTES = 32;
const SALT_BYTES = 16;

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<string> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(password), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    key,
    HASH_BYTES * 8,
  );
  return base64url(new Uint8Array(bits));
}

/** A new stored hash for `password`, with a fresh salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  return `pbkdf2_sha256$${PBKDF2_ITERATIONS}$${base64url(salt)}$${await derive(password, salt, PBKDF2_ITERATIONS)}`;
}

/** Hashed for unknown users too, so that both failures take the same time. */
const DECOY = `pbkdf2_sha256$${PBKDF2_ITERATIONS}$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`;

/** Whether `password` matches `stored` (or, when `stored` is null, the same work and `false`). */
export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const [scheme, rounds, salt, expected] = (stored ?? DECOY).split('$');
  const iterations = Number(rounds);
  if (
    scheme !== 'pbkdf2_sha256' ||
    !salt ||
    !expected ||
    !Number.isInteger(iterations) ||
    iterations > PBKDF2_ITERATIONS
  ) {
    return false;
  }
  const actual = await derive(password, fromBase64url(salt), iterations);
  return constantTimeEqual(actual, expected) && stored !== null;
}
