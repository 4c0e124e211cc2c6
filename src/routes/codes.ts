/**
 * @module
 * `POST /api/codes/resolve`: a signed-in phone turns a typed code into its QR id. Five
 * failed attempts by one user in ten minutes close the door for every code, right or wrong,
 * so that the answer never reveals a right guess.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../app-env';
import { requireUser } from '../auth/require-user';
import { ApiError } from '../errors';
import { countUserCodeGuess } from '../limits/limits';
import { normalizeUserCode } from '../session/user-code';
import { jsonBody } from '../validate';

export const codes = new Hono<AppEnv>().post('/resolve', requireUser, async (c) => {
  const body = await jsonBody(c);
  const typed = body.user_code;
  if (typeof typed !== 'string' || typed.length > 32) {
    throw new ApiError('invalid_request', '`user_code` is required and must be a short string.');
  }
  const userId = c.get('user').id;
  // Counted as a failure before the look-up, so that concurrent guesses cannot all slip in.
  const guess = await countUserCodeGuess(c.env, userId);
  const code = normalizeUserCode(typed);
  const qrcodeId = code ? await c.env.USER_CODE.get(c.env.USER_CODE.idFromName(code)).resolve() : null;
  if (!qrcodeId) throw new ApiError('invalid_user_code');
  await guess.giveBack(); // a right code is no failure
  return c.json({ qrcode_id: qrcodeId });
});
