/**
 * @module
 * The request limits of the contract, as the Worker applies them. `RATE_LIMIT=off` turns
 * them off for load tests on a developer machine.
 */
import type { Env } from '../env';
import { ApiError } from '../errors';

export interface Limit {
  /** What is counted; the key adds who (IP, user …). */
  name: string;
  max: number;
  windowMs: number;
}

export const LIMITS = {
  /** Creating QR codes: 120 a minute from one client IP. */
  createQrcode: { name: 'qrcode', max: 120, windowMs: 60_000 },
  /** Failed logins: 10 a minute for one username from one IP. */
  failedLogin: { name: 'login', max: 10, windowMs: 60_000 },
  /** Failed code-to-type look-ups: 5 in ten minutes for one user. */
  failedUserCode: { name: 'user-code', max: 5, windowMs: 600_000 },
} as const satisfies Record<string, Limit>;

function counter(env: Env, limit: Limit, key: string) {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`${limit.name}:${key}`));
}

function refuse(retryAfter: number): ApiError {
  return new ApiError('rate_limited', `Too many requests; try again in ${retryAfter} s.`, {
    'Retry-After': String(retryAfter),
  });
}

/** Counts one request against `limit` for `key`; throws 429 when it is over. */
export async function spend(env: Env, limit: Limit, key: string): Promise<void> {
  if (env.RATE_LIMIT === 'off') return;
  const verdict = await counter(env, limit, key).hit(limit.max, limit.windowMs);
  if (!verdict.allowed) throw refuse(verdict.retryAfter);
}

/** Throws 429 when `key` has used up `limit`, without counting this request. */
export async function ensureAllowed(env: Env, limit: Limit, key: string): Promise<void> {
  if (env.RATE_LIMIT === 'off') return;
  const verdict = await counter(env, limit, key).peek(limit.max, limit.windowMs);
  if (!verdict.allowed) throw refuse(verdict.retryAfter);
}

/** The 429 for a limit counted somewhere else (the session object's polling limit). */
export const rateLimited = refuse;
