/**
 * @module
 * How long tokens and sessions live: the access token (`JWT_TTL_SECONDS`, fifteen minutes by
 * default), a refresh token after its session's last refresh (`REFRESH_TTL_SECONDS`, 30 days)
 * and a session at most after its login (`SESSION_MAX_SECONDS`, 90 days).
 */
import type { Env } from '../env';
import { type ConfigCheck, type ConfigProblem, problem, quoted } from '../http/config-check';

export const DEFAULT_ACCESS_TTL_SECONDS = 900;
export const DEFAULT_REFRESH_TTL_SECONDS = 30 * 24 * 3600;
export const DEFAULT_SESSION_MAX_SECONDS = 90 * 24 * 3600;

/** Positive whole seconds from a variable's value, or null when it is not that. */
const wholeSeconds = (value: string | undefined): number | null => {
  const n = Number(value);
  return value?.trim() && Number.isInteger(n) && n > 0 ? n : null;
};

/** Positive whole seconds from a variable, or the default. */
export function seconds(value: string | undefined, fallback: number): number {
  return wholeSeconds(value) ?? fallback;
}

/** Why the variable `name` set to `value` is not positive whole seconds (so `fallback` is used), or none. */
export function secondsProblem(name: string, value: string | undefined, fallback: number): ConfigProblem[] {
  if (value === undefined || value === '' || wholeSeconds(value) !== null) return [];
  return [
    problem(
      name,
      `is ${quoted(value)}: it must be a whole number of seconds above 0, such as ${fallback} (the default, used meanwhile)`,
    ),
  ];
}

/** The three lifetimes (a value that is not whole seconds is ignored for its default: say so). */
export const lifetimeChecks: ConfigCheck = (env) => [
  ...secondsProblem('JWT_TTL_SECONDS', env.JWT_TTL_SECONDS, DEFAULT_ACCESS_TTL_SECONDS),
  ...secondsProblem('REFRESH_TTL_SECONDS', env.REFRESH_TTL_SECONDS, DEFAULT_REFRESH_TTL_SECONDS),
  ...secondsProblem('SESSION_MAX_SECONDS', env.SESSION_MAX_SECONDS, DEFAULT_SESSION_MAX_SECONDS),
];

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
