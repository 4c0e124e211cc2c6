/**
 * @module
 * The middleware in front of every route that needs a signed-in user: a valid Bearer token of an
 * identity source (see `identity/`). It sets `user` and `sid` on the context.
 */
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app-env';
import { identify } from '../identity';
import { bearerToken } from '../validate';

export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
  const { user, sid } = await identify(c, bearerToken(c));
  c.set('user', user);
  c.set('sid', sid);
  await next();
});
