/**
 * @module
 * Login tokens: HS256 JWTs through `hono/jwt`, with `sub`, `username`, `sid`, `iat`, `exp`,
 * `iss`, `aud` and `jti`. A verifier accepts only HS256 and requires `exp`, `iss` and `aud`.
 */
import { sign, verify } from 'hono/jwt';
import type { Env } from '../env';
import { ApiError, ConfigError } from '../errors';
import type { UserRef } from '../session/state';

export const TOKEN_ISSUER = 'qrcode-login';
export const TOKEN_AUDIENCE = 'qrcode-login-api';
const MIN_SECRET_BYTES = 32;
const DEFAULT_TTL_SECONDS = 604_800;

/** The claims of a token this Worker issued and still accepts. */
export interface TokenClaims {
  sub: string;
  username: string;
  sid: string;
  jti: string;
  iat: number;
  exp: number;
}

/** The signing key, or a `ConfigError` (a logged 500) when it is missing or too short. */
export function signingKey(env: Env): string {
  const secret = env.JWT_SECRET;
  if (!secret) throw new ConfigError('JWT_SECRET is not set: run `wrangler secret put JWT_SECRET`.');
  if (new TextEncoder().encode(secret).byteLength < MIN_SECRET_BYTES) {
    throw new ConfigError(`JWT_SECRET is shorter than ${MIN_SECRET_BYTES} bytes: set a longer random one.`);
  }
  return secret;
}

/** Positive whole seconds from a variable, or the default. */
export function seconds(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** A new token for `user` in the linked-device session `sid`. */
export async function issueToken(env: Env, user: UserRef, sid: string): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  const claims: TokenClaims = {
    sub: user.id,
    username: user.username,
    sid,
    jti: crypto.randomUUID(),
    iat,
    exp: iat + seconds(env.JWT_TTL_SECONDS, DEFAULT_TTL_SECONDS),
  };
  return sign({ ...claims, iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE }, signingKey(env), 'HS256');
}

/** The claims of a valid token; anything else is 401 `unauthorized`. */
export async function verifyToken(env: Env, token: string): Promise<TokenClaims> {
  const key = signingKey(env);
  let payload: Record<string, unknown>;
  try {
    payload = await verify(token, key, { alg: 'HS256', iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE });
  } catch {
    throw new ApiError('unauthorized');
  }
  // `verify` checks `exp` only when present: every claim we rely on must be there.
  const { sub, username, sid, jti, iat, exp } = payload;
  if (
    typeof sub !== 'string' ||
    typeof username !== 'string' ||
    typeof sid !== 'string' ||
    typeof jti !== 'string' ||
    typeof iat !== 'number' ||
    typeof exp !== 'number' ||
    exp <= Date.now() / 1000
  ) {
    throw new ApiError('unauthorized');
  }
  return { sub, username, sid, jti, iat, exp };
}
