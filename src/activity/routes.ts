/**
 * @module
 * `GET /api/activity`: the signed-in user's own recent security events, from their object (the
 * last 100, at most 90 days), newest first. Nobody reads another user's here: the user is the
 * token's. An administrator's action says that an administrator acted, not who nor from where.
 */
import { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import * as v from 'valibot';
import type { AppEnv } from '../http/app-env';
import { answers, bearerAuth } from '../http/openapi';
import { requireUser } from '../identity/require-user';
import { type ActivityEvent, askUser, userSessions } from '../user';
import { ActivityAnswer } from './schemas';

/** What an admin's own request was (where they acted from): the operator's log keeps it, the user is not shown it. */
const ADMIN_ACTIONS: readonly ActivityEvent['kind'][] = ['account_disabled', 'account_enabled'];

/**
 * An event as its user sees it: that an administrator acted (the kind, `detail.by`), not which
 * one (`actor`) nor from where (the admin's device, IP and place on their own actions).
 */
export function forTheUser(event: ActivityEvent): ActivityEvent {
  const { actor, ...rest } = event;
  if (!actor) return event;
  if (!ADMIN_ACTIONS.includes(event.kind)) return rest;
  const { device, ip, place, ...bare } = rest;
  return bare;
}

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
    return c.json((await askUser(() => stub.activity())).map(forTheUser));
  },
);
