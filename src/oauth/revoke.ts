/**
 * @module
 * `POST /oauth/revoke` (RFC 7009): a client or a page ends a session by handing in one of its
 * tokens, an access token or a refresh token (current or already rotated). The session ends at
 * once, with every session it approved, and the site hears `session.revoked`. The answer is
 * 200 for any token, known or not (§2.2), so it reveals nothing; a client that names itself (a
 * device-flow client by its id, an OpenID Connect client authenticated) revokes only its own
 * tokens: for a code-flow client that is its grant, never the browser's session.
 */
import { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import type { AppEnv } from '../http/app-env';
import { liveAccessToken } from '../identity/access-token';
import { revoked, signOut } from '../sessions';
import { askUser, openRefreshToken } from '../user';
import { namedClient } from './clients';
import { handleOAuthError, postOnly } from './errors';
import { formBody, formInput } from './form';
import { oauthAnswers, RevokeForm } from './schemas';

export const revocation = new Hono<AppEnv>()
  .post(
    '/oauth/revoke',
    describeRoute({
      summary: 'End a session by one of its tokens (RFC 7009)',
      description:
        'An access token or a refresh token: its session is signed out at once, with every session it approved. ' +
        '200 for any token, known or not.',
      tags: ['Sessions and tokens'],
      responses: oauthAnswers(200, null, 'Done, or there was nothing to revoke.', [400, 401, 405, 408, 503]),
    }),
    formBody,
    formInput(RevokeForm),
    async (c) => {
      const form = c.req.valid('form');
      const clientId = (await namedClient(c, form))?.client_id ?? null;
      const refresh = await openRefreshToken(c.env, form.token);
      if (refresh) {
        const ended = await askUser(
          async () => await refresh.stub.revokeByRefresh(refresh.hash, clientId, refresh.family),
        );
        revoked(c, ended);
      } else {
        const live = await liveAccessToken(c, form.token);
        if (live && (clientId === null || live.session.client_id === clientId)) {
          await signOut(c, live.session.user, live.session.sid);
        }
      }
      c.header('Cache-Control', 'no-store');
      return c.body(null, 200);
    },
  )
  .all('/oauth/revoke', postOnly)
  .onError(handleOAuthError);
