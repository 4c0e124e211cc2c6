/**
 * @module
 * Which identity source this Worker serves (`IDENTITY`): `accounts` (our D1 users, the default)
 * or `jwt` (the site's own users). It also names each user's sessions object.
 */
import type { Env } from '../env';
import { ConfigError } from '../http/errors';

export type IdentityMode = 'accounts' | 'jwt';

/** The configured identity source; anything but the two names is a logged 500. */
export function identityMode(env: Env): IdentityMode {
  const mode = env.IDENTITY || 'accounts';
  if (mode !== 'accounts' && mode !== 'jwt') {
    throw new ConfigError(`IDENTITY is "${mode}": it must be "accounts" or "jwt".`);
  }
  return mode;
}
