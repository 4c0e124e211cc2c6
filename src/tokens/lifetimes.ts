/**
 * @module
 * How long tokens and sessions live: the access token (`JWT_TTL_SECONDS`, fifteen minutes by
 * default), a refresh token after its session's last refresh (`REFRESH_TTL_SECONDS`, 30 days)
 * and a session at most after its login (`SESSION_MAX_SECONDS`, 90 days).
 */
import type { Env } from '../env';

export const DEFAULT_ACCESS_TTL_SECONDS = 900;
export const DEFAULT_REFRESH_TTL_SECONDS = 30 * 24 * 3600;
export const DEFAULT_SESSION_MAX_SECONDS = 90 * 24 * 3600;

/** Positive whole seconds from a variable, or the default. */
export function seconds(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

export interface Lifetimes {
  accessTtlSeconds: number;
  refreshTtlMs: number;
  sessionMaxMs: number;
}

export function lifetimes(env: Env): Lifetimes {
  return {
    accessTtlSeconds: seconds(env.JWT_TTL_SECONDS, DEFAULT_ACCESS_TTL_SECONDS),
    refreshTtlMs: seconds(env.REFRESH_TTL_SECONDS, DEFAULT_REFRESH_TTL_SECONDS) * 1000,
    sessionMaxMs: seconds(env.SESSION_MAX_SECONDS, DEFAULT_SESSION_MAX_SECONDS) * 1000,
  };
}
