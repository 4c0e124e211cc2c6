/**
 * @module
 * One of our access tokens, checked all the way: signed by a key of ours, unexpired, for our
 * issuer and audience (`tokens/verify.ts`), and its session still alive in the user's sessions
 * object. Every endpoint that takes our access token (the API's Bearer routes, userinfo,
 * introspection, revocation) checks it here; those that take it in `Authorization` also check
 * that a token bound to a DPoP key came with a proof of that key (RFC 9449).
 */
import type { Context } from 'hono';
import type { AppEnv } from '../http/app-env';
import { ApiError } from '../http/errors';
import type { AuthScheme } from '../http/validate';
import { checkPresentation } from '../tokens/dpop';
import type { TokenClaims } from '../tokens/signing';
import { ownKeyOf, verifyOwnToken } from '../tokens/verify';
import { checkSession, type SessionInfo } from '../user';

export interface LiveToken {
  claims: TokenClaims;
  session: SessionInfo;
}

/** Whether `token` is one of ours (by its `kid`), whatever else is wrong with it. */
export const isOwnToken = (c: Context<AppEnv>, token: string): boolean => ownKeyOf(c.env, token) !== null;

/**
 * The claims and session of a live access token of ours, or null (not ours, invalid, expired,
 * signed out). With `scheme` (the token came in an `Authorization` header, not a form), it must
 * be presented as it is bound (`checkPresentation`: a bound token as `DPoP` with a proof of its
 * key), else a 401 `invalid_token` or `invalid_dpop_proof` is thrown; checked before its session
 * is asked for.
 */
export async function liveAccessToken(
  c: Context<AppEnv>,
  token: string,
  scheme?: AuthScheme,
): Promise<LiveToken | null> {
  const key = ownKeyOf(c.env, token);
  if (!key) return null;
  let claims: TokenClaims;
  try {
    claims = await verifyOwnToken(c, token, key);
  } catch (err) {
    if (err instanceof ApiError) return null;
    throw err;
  }
  if (scheme) await checkPresentation(c, scheme, token, claims.cnf);
  const session = await checkSession(c.env, claims.sub, claims.sid);
  return session ? { claims, session } : null;
}
