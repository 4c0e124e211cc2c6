/**
 * @module
 * Who the signed-in user is, by `IDENTITY`: `accounts` (default), tokens this Worker issued to
 * its own D1 users; `jwt`, the site's own tokens as well (see `site-jwt.ts`). Our own tokens —
 * the PC's after a QR login, say — are accepted in both modes, and only while their session is
 * alive: the user's sessions object is asked on every request.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../http/app-env';
import { ApiError } from '../http/errors';
import type { AuthScheme } from '../http/validate';
import type { SignInMethod } from '../user';
import { identityMode } from '../user/identity-source';
import type { UserRef } from '../user/types';
import { isOwnToken, liveAccessToken } from './access-token';
import { verifySiteToken } from './site-jwt';

export { type IdentityMode, identityMode } from '../user/identity-source';

export interface Identity {
  user: UserRef;
  /** The session of one of our tokens; null for a site's token. */
  sid: string | null;
  /** How that session signed in (`site` for a site's own token). */
  via: SignInMethod;
  /** A site's token: when its user signed in with the site (`auth_time`, else `iat`; epoch ms). */
  siteSignInAt?: number | null;
}

/**
 * The user a token of the `Authorization` header names, or 401 `unauthorized` (`invalid_token`
 * or `invalid_dpop_proof` for one of ours presented otherwise than it is bound: see RFC 9449).
 */
export async function identify(
  c: Context<AppEnv>,
  { scheme, token }: { scheme: AuthScheme; token: string },
): Promise<Identity> {
  if (isOwnToken(c, token)) {
    const live = await liveAccessToken(c, token, scheme);
    if (!live)
      throw new ApiError(
        'unauthorized',
        'Sign in again: this token has expired, is not valid, or its session was signed out.',
      );
    const { claims, session } = live;
    const user = { id: claims.sub, username: claims.username, display_name: claims.name };
    return { user, sid: claims.sid, via: session.via };
  }
  // A site's own tokens are bearer tokens: nothing binds them to a key here.
  if (identityMode(c.env) === 'jwt' && scheme === 'Bearer') {
    const site = await verifySiteToken(c.env, token);
    return { user: site.user, sid: null, via: 'site', siteSignInAt: site.signedInAt };
  }
  throw new ApiError('unauthorized');
}
