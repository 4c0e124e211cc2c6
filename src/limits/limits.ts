/**
 * @module
 * The request limits of the contract, as the Worker applies them: which counters an event is
 * counted in, and which party's `RateLimiter` object holds them. Every event is counted before
 * the work it guards (a password check, a code look-up), and given back afterwards only where the
 * contract counts failures alone. `RATE_LIMIT=off` turns them off for load tests on a developer
 * machine.
 */
import type { Env } from '../env';
import { type ConfigCheck, switchProblem } from '../http/config-check';
import { ApiError } from '../http/errors';
import { describeError } from '../http/log-safe';
import type { Count, Counted, TakeResult } from './rate-limiter';

export interface Limit {
  max: number;
  windowMs: number;
}

const MINUTE = 60_000;

export const LIMITS = {
  /** Creating QR codes: 120 a minute from one client IP. */
  createQrcode: { max: 120, windowMs: MINUTE },
  /** Login attempts from one IP, all usernames together: 30 a minute. */
  loginAttempts: { max: 30, windowMs: MINUTE },
  /** Failed logins for one username from one IP: 10 a minute. */
  failedLogin: { max: 10, windowMs: MINUTE },
  /** Failed logins for one username from all IPs together: 100 an hour. */
  failedLoginAnywhere: { max: 100, windowMs: 60 * MINUTE },
  /** Passkey sign-in challenges from one client IP: 120 a minute (each is an object of its own). */
  passkeyChallenge: { max: 120, windowMs: MINUTE },
  /** Failed code-to-type look-ups by one user: 5 in ten minutes. */
  failedUserCode: { max: 5, windowMs: 10 * MINUTE },
} as const satisfies Record<string, Limit>;

/**
 * Counts made before the guarded work. `giveBack` returns the ones that only a failure may keep
 * (after a success, or when the work could not be done); it never fails the request.
 */
export interface Attempt {
  giveBack(): Promise<void>;
}

const NOTHING_TO_GIVE_BACK: Attempt = { giveBack: async () => {} };

async function quietly(work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (err) {
    // The count stays: it errs towards refusing, never towards letting more through.
    console.warn(`could not give back a counted attempt: ${describeError(err)}`);
  }
}

function party(env: Env, name: string) {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(name));
}

const count = (key: string, limit: Limit): Count => ({ key, ...limit });

function refuse(retryAfter: number): ApiError {
  return new ApiError('rate_limited', `Too many requests; try again in ${retryAfter} s.`, {
    'Retry-After': String(retryAfter),
  });
}

/** The 429 for a limit counted somewhere else (the session object's polling limits). */
export const rateLimited = refuse;

/** Only the counts of the named keys: those a success gives back. */
function only(result: TakeResult, keys: string[]): Counted[] {
  return result.allowed ? result.counted.filter((c) => keys.includes(c.key)) : [];
}

/** Counts one event of `ip` under `key`; 429 past the limit. */
async function countFromIp(env: Env, ip: string, key: string, limit: Limit): Promise<void> {
  if (env.RATE_LIMIT === 'off') return;
  const result = await party(env, `ip:${ip}`).take([count(key, limit)]);
  if (!result.allowed) throw refuse(result.retryAfter);
}

/** Counts one QR code created by `ip`; 429 past the limit. */
export const countQrcode = (env: Env, ip: string) => countFromIp(env, ip, 'qrcode', LIMITS.createQrcode);

/** Counts one passkey sign-in challenge asked for by `ip`; 429 past the limit. */
export const countPasskeyChallenge = (env: Env, ip: string) =>
  countFromIp(env, ip, 'passkey-challenge', LIMITS.passkeyChallenge);

/**
 * Counts a passkey sign-in from `ip` as a login attempt of that IP (shared with passwords). A
 * passkey cannot be guessed, so nothing is counted against a username.
 */
export const countPasskeySignIn = (env: Env, ip: string) => countFromIp(env, ip, 'login', LIMITS.loginAttempts);

/**
 * Counts a password attempt for `username` from `ip` before the password is checked: as an
 * attempt of the IP, and as a failure of the username, both from this IP and from anywhere.
 * 429 when any of them is used up (then the failures counted by the other party are returned:
 * a refused attempt is no failed login). `giveBack` returns the failures.
 */
export async function countLoginAttempt(env: Env, ip: string, username: string): Promise<Attempt> {
  if (env.RATE_LIMIT === 'off') return NOTHING_TO_GIVE_BACK;
  const name = username.toLowerCase();
  const fromIp = party(env, `ip:${ip}`);
  const anywhere = party(env, `username:${name}`);
  const failedHere = `login-failed:${name}`;
  const [here, everywhere] = await Promise.all([
    fromIp.take([count('login', LIMITS.loginAttempts), count(failedHere, LIMITS.failedLogin)]),
    anywhere.take([count('login-failed', LIMITS.failedLoginAnywhere)]),
  ]);
  const giveBack = () =>
    quietly(() => {
      const returns: [typeof fromIp, Counted[]][] = [
        [fromIp, only(here, [failedHere])],
        [anywhere, only(everywhere, ['login-failed'])],
      ];
      return Promise.all(returns.filter(([, c]) => c.length > 0).map(([p, c]) => p.giveBack(c)));
    });
  const refused = [here, everywhere].filter((r) => !r.allowed);
  if (refused.length > 0) {
    await giveBack();
    throw refuse(Math.max(...refused.map((r) => (r.allowed ? 0 : r.retryAfter))));
  }
  return { giveBack };
}

/** Counts a code-to-type look-up by `userId` as a failure before it is made; `giveBack` returns it. */
export async function countUserCodeGuess(env: Env, userId: string): Promise<Attempt> {
  if (env.RATE_LIMIT === 'off') return NOTHING_TO_GIVE_BACK;
  const user = party(env, `user:${userId}`);
  const result = await user.take([count('user-code-failed', LIMITS.failedUserCode)]);
  if (!result.allowed) throw refuse(result.retryAfter);
  return { giveBack: () => quietly(() => user.giveBack(result.counted)) };
}

/** `RATE_LIMIT`: only `off` turns the limits off. */
export const limitChecks: ConfigCheck = (env) => switchProblem('RATE_LIMIT', env.RATE_LIMIT, 'on');
