/**
 * @module
 * The middleware in front of every route that needs a signed-in user: a valid HS256 token
 * whose linked-device session is still live. It sets `user` and `sid` on the context.
 */
import { createMiddleware } from 'hono/factory';
import { sessionUser } from '../accounts/devices';
import type { AppEnv } from '../app-env';
import { ApiError } from '../errors';
import { bearerToken } from '../validate';
import { verifyToken } from './tokens';

export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
  const claims = await verifyToken(c.env, bearerToken(c));
  const user = await sessionUser(c.env, claims.sid, claims.sub);
  if (!user) throw new ApiError('unauthorized', 'This session was signed out; sign in again.');
  c.set('user', user);
  c.set('sid', claims.sid);
  await next();
});
