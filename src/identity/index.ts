/**
 * @module
 * Who the signed-in user is, by `IDENTITY`: `accounts` (default), tokens this Worker issued to
 * its own D1 users; `jwt`, the site's own tokens as well (see `site-jwt.ts`). Our own tokens —
 * the PC's after a QR login, say — are accepted in both modes, and only while their
 * linked-device session is live.
 */
import type { Context } from 'hono';
import { sessionUser } from '../accounts/devices';
import type { AppEnv } from '../app-env';
import { inBackground } from '../background';
import type { Env } from '../env';
import { ApiError, ConfigError } from '../errors';
import type { UserRef } from '../login/state';
import { ownKeyOf, verifyOwnToken } from '../tokens/verify';
import { verifySiteToken } from './site-jwt';

export type IdentityMode = 'accounts' | 'jwt';

/** The configured identity source; anything but the two names is a logged 500. */
export function identityMode(env: Env): IdentityMode {
  const mode = env.IDENTITY || 'accounts';
  if (mode !== 'accounts' && mode !== 'jwt') {
    throw new ConfigError(`IDENTITY is "${mode}": it must be "accounts" or "jwt".`);
  }
  return mode;
}

export interface Identity {
  user: UserRef;
  /** The linked-device session of one of our tokens; null for a site's token. */
  sid: string | null;
}

/** The user a Bearer token names, or 401 `unauthorized`. */
export async function identify(c: Context<AppEnv>, token: string): Promise<Identity> {
  const mode = identityMode(c.env);
  const ownKey = ownKeyOf(c.env, token);
  if (ownKey) {
    const claims = await verifyOwnToken(c, token, ownKey);
    const user = await sessionUser(c.env, claims.sid, claims.sub, (p) => inBackground(c, p));
    if (!user) throw new ApiError('unauthorized', 'This session was signed out; sign in again.');
    return { user, sid: claims.sid };
  }
  if (mode === 'jwt') return { user: await verifySiteToken(c.env, token), sid: null };
  throw new ApiError('unauthorized');
}
