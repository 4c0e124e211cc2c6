/**
 * @module
 * Sign-in with a password, the signed-in user, and linked devices (list, sign out).
 */
import { Hono } from 'hono';
import { listSessions, openSession, revokeSession } from '../accounts/devices';
import { authenticate } from '../accounts/users';
import type { AppEnv } from '../app-env';
import { requireUser } from '../auth/require-user';
import { ApiError } from '../errors';
import { ensureAllowed, LIMITS, spend } from '../limits/limits';
import { clientIp, deviceOf, requester } from '../request-info';
import { ensureSigningKey, issueToken, tokenTtlSeconds } from '../tokens/signing';
import { jsonBody, textField } from '../validate';

export const accounts = new Hono<AppEnv>()
  .post('/login', async (c) => {
    const body = await jsonBody(c);
    const username = textField(body, 'username', 64).normalize('NFC');
    const password = textField(body, 'password', 256);
    ensureSigningKey(c.env);
    const limitKey = `${clientIp(c)}:${username.toLowerCase()}`;
    await ensureAllowed(c.env, LIMITS.failedLogin, limitKey);
    const user = await authenticate(c.env, username, password);
    if (!user) {
      await spend(c.env, LIMITS.failedLogin, limitKey);
      throw new ApiError('invalid_credentials');
    }
    const sid = await openSession(c.env, user, 'password', deviceOf(requester(c)), tokenTtlSeconds(c.env));
    return c.json({ token: await issueToken(c, user, sid), user });
  })

  .get('/me', requireUser, (c) => c.json(c.get('user')))

  .get('/sessions', requireUser, async (c) => c.json(await listSessions(c.env, c.get('user').id, c.get('sid'))))

  .delete('/sessions/:sid', requireUser, async (c) => {
    const sid = c.req.param('sid');
    const revoked = /^[0-9a-f-]{36}$/.test(sid) && (await revokeSession(c.env, c.get('user').id, sid));
    if (!revoked) throw new ApiError('not_found', 'No such linked device of yours.');
    return c.body(null, 204);
  })

  .post('/logout', requireUser, async (c) => {
    const sid = c.get('sid');
    if (sid) await revokeSession(c.env, c.get('user').id, sid);
    return c.body(null, 204);
  });
