/**
 * @module
 * `GET /api/activity`: the signed-in user's own recent security events, from their object (the
 * last 100, at most 90 days), newest first. Nobody reads another user's here: the user is the
 * token's.
 */
import { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import * as v from 'valibot';
import type { AppEnv } from '../http/app-env';
import { answers, bearerAuth } from '../http/openapi';
import { requireUser } from '../identity/require-user';
import { askUser, userSessions } from '../user';
import { ActivityAnswer } from './schemas';

export const activityRoutes = new Hono<AppEnv>().get(
  '/',
  describeRoute({
    summary: 'Recent activity: the signed-in user’s own security events',
    description:
      'Sign-ins (how and where from), refused attempts, sessions signed out (and by whom), reused refresh tokens, ' +
      'passkeys added or removed, an admin’s action on the account: the last 100, at most 90 days, newest first.',
    tags: ['Linked devices'],
    security: bearerAuth,
    responses: answers(200, v.array(ActivityAnswer), 'Newest first; at most 100.', [401, 503]),
  }),
  requireUser,
  async (c) => {
    const stub = userSessions(c.env, c.get('user').id);
    return c.json(await askUser(() => stub.activity()));
  },
);
