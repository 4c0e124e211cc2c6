/**
 * @module
 * `POST /api/codes/resolve`: a signed-in phone turns a typed code into its QR id, and the login
 * notes that this user typed it. Five failed attempts by one user in ten minutes close the door
 * for every code, right or wrong, so that the answer never reveals a right guess.
 */
import { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import type { AppEnv } from '../http/app-env';
import { jsonBody } from '../http/body';
import { ApiError } from '../http/errors';
import { answers, bearerAuth } from '../http/openapi';
import { input, loginStub } from '../http/validate';
import { requireApprover } from '../identity/require-user';
import { countUserCodeGuess } from '../limits/limits';
import { reachLogin } from './call-object';
import { ResolveAnswer, ResolveBody } from './schemas';
import { normalizeUserCode, userCodeObject } from './user-code';

export const codes = new Hono<AppEnv>().post(
  '/resolve',
  describeRoute({
    summary: 'A typed code → its QR id',
    tags: ['QR login'],
    security: bearerAuth,
    responses: answers(200, ResolveAnswer, 'The QR id to scan.', [400, 401, 404, 415, 429]),
  }),
  requireApprover,
  jsonBody(),
  input('json', ResolveBody),
  async (c) => {
    const { user_code: typed } = c.req.valid('json');
    const userId = c.get('user').id;
    // Counted as a failure before the look-up, so that concurrent guesses cannot all slip in.
    const guess = await countUserCodeGuess(c.env, userId);
    const code = normalizeUserCode(typed);
    const qrcodeId = code ? await userCodeObject(c.env, code).resolve() : null;
    if (!qrcodeId) throw new ApiError('invalid_user_code');
    await guess.giveBack(); // a right code is no failure
    // The login learns that this user typed its code: the phone's word for it is not enough
    // for `CONFIRM_WITH=passkey-when-risky`, and the confirm view says so.
    const login = loginStub(c.env, qrcodeId);
    await reachLogin(() => login.noteTyped(userId));
    return c.json({ qrcode_id: qrcodeId });
  },
);
