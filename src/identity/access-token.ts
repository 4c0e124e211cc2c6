/**
 * @module
 * One of our access tokens, checked all the way: signed by a key of ours, unexpired, for our
 * issuer and audience (`tokens/verify.ts`), and its session still alive in the user's sessions
 * object. Every endpoint that takes our access token (the API's Bearer routes, userinfo,
 * introspection, revocation) checks it here.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../http/app-env';
import { ApiError } from '../http/errors';
import type { TokenClaims } from '../tokens/signing';
import { ownKeyOf, verifyOwnToken } from '../tokens/verify';
import { checkSession, type SessionInfo } from '../user';

export interface LiveToken {
  claims: TokenClaims;
  session: SessionInfo;
}

/** Whether `token` is one of ours (by its `kid`), whatever else is wrong with it. */
export const isOwnToken = (c: Context<AppEnv>, token: string): boolean => ownKeyOf(c.env, token) !== null;

/** The claims and session of a live access token of ours, or null (not ours, invalid, expired, signed out). */
export async function liveAccessToken(c: Context<AppEnv>, token: string): Promise<LiveToken | null> {
  const key = ownKeyOf(c.env, token);
  if (!key) return null;
  let claims: TokenClaims;
  try {
    claims = await verifyOwnToken(c, token, key);
  } catch (err) {
    if (err instanceof ApiError) return null;
    throw err;
  }
  const session = await checkSession(c.env, claims.sub, claims.sid);
  return session ? { claims, session } : null;
}
