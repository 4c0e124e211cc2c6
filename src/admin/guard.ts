/**
 * @module
 * Who may use `/api/admin/*`, checked in this order, each with its own answer in words:
 *
 * 1. `IDENTITY=accounts` (the accounts are this Worker's; a site's own users have their site's
 *    admin): otherwise 404.
 * 2. A request from this server's own pages, or from no browser page at all (a CLI): a page of
 *    any other origin, even one of `ALLOWED_ORIGINS`, gets 403 and nothing is read or changed.
 * 3. A signed-in session of this Worker (401 otherwise) whose account is in `ADMIN_USERS`
 *    (usernames, any case, or user ids; comma-separated): 403 `forbidden` otherwise.
 * 4. For everything but the step-up itself: that session proved a passkey within the last
 *    `ADMIN_PASSKEY_MS` (it signed in with one, or stepped up since): 403 `step_up_required`
 *    otherwise, and the page asks for the passkey.
 */
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { commaList } from '../env';
import type { AppEnv } from '../http/app-env';
import { ApiError } from '../http/errors';
import { publicOrigin } from '../http/site';
import { identityMode } from '../identity';
import { requireUser } from '../identity/require-user';
import { askUser, type UserRef, userSessions } from '../user';

/** How recent the passkey of an admin's session must be. */
export const ADMIN_PASSKEY_MS = 10 * 60_000;

export const NOT_AN_ADMIN =
  'This account is not an administrator here: only the accounts in ADMIN_USERS may use /admin.';
export const PASSKEY_NEEDED =
  'Confirm with your passkey: /admin needs a sign-in or a confirmation with a passkey within the last 10 minutes.';

/** Whether `user` is one of `ADMIN_USERS` (a username in any case, or a user id). */
export function isAdmin(adminUsers: string | undefined, user: UserRef): boolean {
  return commaList(adminUsers).some(
    (entry) => entry === user.id || entry.toLowerCase() === user.username.toLowerCase(),
  );
}

/** Why this request comes from a page of another origin, or null. */
function foreignPage(c: Context<AppEnv>): string | null {
  const origin = c.req.header('Origin');
  const own = [new URL(c.req.url).origin, publicOrigin(c)];
  if (origin !== undefined && !own.includes(origin)) {
    return `A page of ${origin === 'null' ? 'an unknown origin' : origin} may not use the admin API: only this server’s own /admin may.`;
  }
  const site = c.req.header('Sec-Fetch-Site')?.toLowerCase();
  if (site === 'cross-site' || site === 'same-site') {
    return 'A page of another site may not use the admin API: only this server’s own /admin may.';
  }
  return null;
}

/** Steps 1 to 3: sets `user` and `sid` (never null here). */
export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  if (identityMode(c.env) !== 'accounts') {
    throw new ApiError(
      'not_found',
      'The admin page needs IDENTITY=accounts: a site’s own users are its own to manage.',
    );
  }
  const foreign = foreignPage(c);
  if (foreign) throw new ApiError('forbidden', foreign);
  await requireUser(c, async () => {
    if (!isAdmin(c.env.ADMIN_USERS, c.get('user')) || c.get('sid') === null)
      throw new ApiError('forbidden', NOT_AN_ADMIN);
    await next();
  });
});

/** When the admin's session last proved a passkey (epoch ms), or null. */
export async function passkeyAt(c: Context<AppEnv>): Promise<number | null> {
  const stub = userSessions(c.env, c.get('user').id);
  const sid = c.get('sid') as string;
  return askUser(() => stub.passkeyAt(sid));
}

/** Step 4, after `requireAdmin`. */
export const requireRecentPasskey = createMiddleware<AppEnv>(async (c, next) => {
  const at = await passkeyAt(c);
  if (at === null || Date.now() - at > ADMIN_PASSKEY_MS) throw new ApiError('step_up_required', PASSKEY_NEEDED);
  await next();
});
