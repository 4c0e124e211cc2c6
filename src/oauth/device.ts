/**
 * @module
 * The OAuth 2.0 device authorization grant (RFC 8628) over QR login sessions:
 * `POST /oauth/device_authorization` starts a session (the device shows the QR of
 * `verification_uri_complete`, or the `user_code`), and `POST /oauth/token` is the device's
 * poll, which the session object answers. The phone side is the QR login, unchanged.
 *
 * The device code is `<qrcode_id>.<poll secret>`: the id finds the session object without a
 * lookup table (a forged id is refused before any object wakes), and the object keeps only
 * the secret's SHA-256, as it does for a PC's poll token.
 */
import { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import type { AppEnv } from '../app-env';
import { randomToken, sha256Hex } from '../crypto';
import type { Env } from '../env';
import { countQrcode } from '../limits/limits';
import { callObject } from '../login/call-object';
import { DEVICE_POLL_INTERVAL_S, type DevicePoll } from '../login/device-grant';
import { handOut } from '../login/hand-out';
import { startSession } from '../login/start';
import { clientIp } from '../request-info';
import { handleOAuthError, OAuthError, oauthJson } from './errors';
import { formBody, formInput, publicClient } from './form';
import { DeviceAuthorizationAnswer, DeviceAuthorizationForm, oauthAnswers, TokenAnswer, TokenForm } from './schemas';

const DEVICE_CODE = /^([0-9a-f]{64})\.([A-Za-z0-9_-]{43})$/;

const POLL_MESSAGES: Record<Exclude<DevicePoll, { ok: true }>['error'], string> = {
  invalid_grant: 'This device code is unknown, was issued to another client, or was already used.',
  expired_token: 'This device code has expired: start again with a new device authorization request.',
  authorization_pending: 'Waiting for the user to confirm on their phone; poll again after the interval.',
  slow_down: 'Polling too fast.',
  access_denied: 'The user cancelled the sign-in on their phone.',
};

/** The session object a device code names, and its secret; anything else is `invalid_grant`. */
function openDeviceCode(env: Env, code: string) {
  const invalid = () => new OAuthError('invalid_grant', POLL_MESSAGES.invalid_grant);
  const match = DEVICE_CODE.exec(code);
  if (!match) throw invalid();
  let id: DurableObjectId;
  try {
    id = env.LOGIN_SESSION.idFromString(match[1]!);
  } catch {
    throw invalid();
  }
  return { qrcodeId: match[1]!, session: env.LOGIN_SESSION.get(id), secret: match[2]! };
}

/** 405 for any other method on an OAuth endpoint. */
const postOnly = () => {
  throw new OAuthError('invalid_request', 'Use POST here.', 405, { Allow: 'POST' });
};

const TAGS = ['OAuth device flow (RFC 8628)'];
const FORM_ERRORS = 'Form bodies only; errors are RFC 6749\'s `{ "error", "error_description" }`.';

export const deviceFlow = new Hono<AppEnv>()
  .post(
    '/oauth/device_authorization',
    describeRoute({
      summary: 'A device asks to be signed in: a new QR session for the phone to scan or type',
      description: `Show the QR of \`verification_uri_complete\`, or \`user_code\` and \`verification_uri\`. ${FORM_ERRORS}`,
      tags: TAGS,
      responses: oauthAnswers(
        200,
        DeviceAuthorizationAnswer,
        'Poll the token endpoint every `interval` seconds.',
        [400, 401, 405, 408, 429, 500, 503],
      ),
    }),
    formBody,
    formInput(DeviceAuthorizationForm),
    async (c) => {
      const { client_id } = c.req.valid('form');
      const clientId = publicClient(c.env, client_id);
      await countQrcode(c.env, clientIp(c));
      const secret = randomToken(32);
      const started = await startSession(c, {
        pollHash: await sha256Hex(secret),
        userCode: true,
        device: { clientId },
      });
      return oauthJson(c, {
        device_code: `${started.qrcodeId}.${secret}`,
        user_code: started.userCode,
        verification_uri: started.verificationUrl,
        verification_uri_complete: started.scanUrl,
        expires_in: started.ttlSeconds,
        interval: DEVICE_POLL_INTERVAL_S,
      });
    },
  )

  .post(
    '/oauth/token',
    describeRoute({
      summary: 'The device polls for its token',
      description:
        '`authorization_pending` until the phone confirms, `slow_down` when polled sooner than the interval ' +
        '(which then grows by 5 s), `access_denied` after a cancel, `expired_token` after expiry; the token once, ' +
        `then \`invalid_grant\`. ${FORM_ERRORS}`,
      tags: TAGS,
      responses: oauthAnswers(
        200,
        TokenAnswer,
        'Signed in: a JWT like every token this Worker issues.',
        [400, 401, 405, 408, 500, 503],
      ),
    }),
    formBody,
    formInput(TokenForm),
    async (c) => {
      const form = c.req.valid('form');
      const clientId = publicClient(c.env, form.client_id);
      const { qrcodeId, session, secret } = openDeviceCode(c.env, form.device_code);
      const secretHash = await sha256Hex(secret);
      // The site's backend hears of a device's sign-in as of a PC's; a 503 while finishing it
      // gives the login back to the object, so the device's next poll still signs in.
      const { answer: poll, signedIn } = await handOut(
        c,
        session,
        qrcodeId,
        () => callObject(async (): Promise<DevicePoll> => session.pollDeviceToken(secretHash, clientId)),
        (answer) => (answer.ok ? answer : null),
      );
      if (!poll.ok) {
        const message =
          poll.error === 'slow_down'
            ? `Polling too fast: wait ${poll.interval} s between polls.`
            : POLL_MESSAGES[poll.error];
        throw new OAuthError(poll.error, message);
      }
      const { token, ttl } = signedIn!;
      return oauthJson(c, { access_token: token, token_type: 'Bearer', expires_in: ttl });
    },
  )

  .all('/oauth/device_authorization', postOnly)
  .all('/oauth/token', postOnly)
  .onError(handleOAuthError);
