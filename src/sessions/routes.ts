/**
 * @module
 * Sign-in with a password (this Worker's own accounts), the signed-in user, and linked devices
 * (list, sign out). With `IDENTITY=jwt` the accounts are the site's: `/api/login` does not exist.
 */
import { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import * as v from 'valibot';
import type { AppEnv } from '../http/app-env';
import { jsonBody } from '../http/body';
import { ApiError } from '../http/errors';
import { answers, bearerAuth } from '../http/openapi';
import { ownPagesOnly } from '../http/origin-guard';
import { clientIp, requester, signInFrom } from '../http/request-info';
import { input } from '../http/validate';
import { identityMode } from '../identity';
import { checkPassword } from '../identity/accounts';
import { mayApprove, NOT_AN_APPROVER, requireUser } from '../identity/require-user';
import { countLoginAttempt } from '../limits/limits';
import { ensureSigningKey } from '../tokens/signing';
import { askUser, noteActivity, userSessions, whereFrom } from '../user';
import { signIn, signOut } from '.';
import { LoginAnswer, LoginBody, SessionAnswer, SidParam, UserAnswer } from './schemas';
import { watchSession } from './watch';

export const accounts = new Hono<AppEnv>()
  .post(
    '/login',
    describeRoute({
      summary: 'Sign in with a username and password (IDENTITY=accounts only)',
      tags: ['Accounts'],
      responses: answers(200, LoginAnswer, 'A token and the user.', [400, 401, 404, 415, 429, 500, 503]),
    }),
    async (c, next) => {
      if (identityMode(c.env) !== 'accounts') {
        throw new ApiError('not_found', 'Accounts are the site’s own here: sign in with the site.');
      }
      await next();
    },
    jsonBody(),
    input('json', LoginBody),
    async (c) => {
      const { username, password } = c.req.valid('json');
      ensureSigningKey(c.env);
      // Counted as a failure before the check, so that concurrent guesses cannot all slip in.
      const attempt = await countLoginAttempt(c.env, clientIp(c), username);
      const checked = await checkPassword(c.env, username, password).catch(async (err) => {
        await attempt.giveBack(); // D1 failed: no password was checked
        throw err;
      });
      const from = signInFrom(requester(c));
      if (!checked.ok) {
        // The account's own record says so (after the answer); an unknown username has none.
        if (checked.account) {
          noteActivity(c, checked.account, {
            kind: 'sign_in_refused',
            ...whereFrom(from),
            detail: { reason: checked.reason },
          });
        }
        throw new ApiError('invalid_credentials');
      }
      const { user } = checked;
      const returned = attempt.giveBack(); // a success is no failure (returned while the session opens)
      const tokens = await signIn(c, user, 'password', { from });
      await returned;
      if (!tokens) throw new Error('a password sign-in has no approver to lose');
      const { token, refresh_token, expires_in } = tokens;
      return c.json({ token, refresh_token, expires_in, user });
    },
  )

  .get(
    '/me',
    describeRoute({
      summary: 'Who the token belongs to',
      tags: ['Accounts'],
      security: bearerAuth,
      responses: answers(200, UserAnswer, 'The signed-in user.', [401, 503]),
    }),
    requireUser,
    (c) => c.json(c.get('user')),
  )

  .get(
    '/sessions',
    describeRoute({
      summary: 'Linked devices: the user’s live sessions',
      tags: ['Linked devices'],
      security: bearerAuth,
      description:
        'A user keeps at most 50 sessions: a sign-in past that ends the least recently used one that approved none ' +
        '(with `session.revoked`), so the list has at most 50 entries.',
      responses: answers(200, v.array(SessionAnswer), 'Most recently used first; at most 50.', [401, 503]),
    }),
    requireUser,
    async (c) => {
      const stub = userSessions(c.env, c.get('user').id);
      return c.json(await askUser(() => stub.list(c.get('sid'))));
    },
  )

  .get(
    '/sessions/watch',
    describeRoute({
      summary: 'Watch this session end: a stream of server-sent events that says when and why',
      description:
        'With the access token as everywhere (`Authorization: Bearer`), a `text/event-stream` that stays open while ' +
        'the session lives: `: watching` at once, a `: keepalive` comment every 30 s, and, the moment the session ends ' +
        '(however it ends), `event: ended` with `data: { "ended": "<sid>", "reason": "signed_out" | "reused" | ' +
        '"disabled" | "expired" | "too_many" }`; then the stream ends. It watches the token’s session, not the token: ' +
        'the access token may renew meanwhile. A stream that ends without `ended` (a deploy, a lost connection) is ' +
        'opened again; a 401 then says the session has ended. At most 16 pages watch one session (429 beyond). A page ' +
        'of another site watches only from an origin of `ALLOWED_ORIGINS` (403 otherwise).',
      tags: ['Linked devices'],
      security: bearerAuth,
      responses: {
        ...answers(200, null, '', [401, 403, 429, 503]),
        200: {
          description: 'The stream (`text/event-stream`).',
          content: { 'text/event-stream': { schema: { type: 'string' } } },
        },
      },
    }),
    ownPagesOnly,
    watchSession,
  )

  .delete(
    '/sessions/:sid',
    describeRoute({
      summary: 'Sign a linked device out, and every device it approved',
      description:
        'Any session may sign itself out; only one that signed in on the phone itself may sign other devices out (403 otherwise).',
      tags: ['Linked devices'],
      security: bearerAuth,
      responses: answers(204, null, 'Signed out: its tokens answer 401 from now on.', [401, 403, 404, 503]),
    }),
    input('param', SidParam, 'not_found'),
    requireUser,
    async (c) => {
      const { sid } = c.req.valid('param');
      if (sid !== c.get('sid') && !mayApprove(c.get('via'))) throw new ApiError('forbidden', NOT_AN_APPROVER);
      const ended = await signOut(c, c.get('user'), sid);
      if (ended.length === 0) throw new ApiError('not_found', 'No such linked device of yours.');
      return c.body(null, 204);
    },
  )

  .post(
    '/logout',
    describeRoute({
      summary: 'Sign this device out',
      tags: ['Linked devices'],
      security: bearerAuth,
      responses: answers(204, null, 'Signed out.', [401, 503]),
    }),
    requireUser,
    async (c) => {
      const sid = c.get('sid');
      if (sid) await signOut(c, c.get('user'), sid);
      return c.body(null, 204);
    },
  );
