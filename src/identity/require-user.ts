/**
 * @module
 * The middleware in front of every route that needs a signed-in user: a valid Bearer (or DPoP,
 * with its proof) token of an identity source (see `identity/`), whose session is alive. It sets
 * `user`, `sid` and `via`.
 * `requireApprover` also asks that the session signed in on the phone itself: only such a session
 * may approve logins or sign other devices out (a PC or CLI that a login made may not).
 */
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../http/app-env';
import { ApiError } from '../http/errors';
import { accessCredential } from '../http/validate';
import { FIRST_HAND, type SignInMethod } from '../user';
import { identify } from '.';

export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
  const { user, sid, via, siteSignInAt } = await identify(c, accessCredential(c));
  c.set('user', user);
  c.set('sid', sid);
  c.set('via', via);
  c.set('siteSignInAt', siteSignInAt ?? null);
  await next();
});

/** Whether a session that signed in `via` may approve logins and sign other devices out. */
export const mayApprove = (via: SignInMethod): boolean => FIRST_HAND.includes(via);

export const NOT_AN_APPROVER =
  'This device was signed in by another device: it may not approve sign-ins or sign other devices out.';

export const requireApprover = createMiddleware<AppEnv>(async (c, next) =>
  requireUser(c, async () => {
    if (!mayApprove(c.get('via'))) throw new ApiError('forbidden', NOT_AN_APPROVER);
    await next();
  }),
);
