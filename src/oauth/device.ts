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
import type { Env } from '../env';
import type { AppEnv } from '../http/app-env';
import { randomToken, sha256Hex } from '../http/crypto';
import { ownPagesOnly } from '../http/origin-guard';
import { clientIp } from '../http/request-info';
import { countQrcode } from '../limits/limits';
import { callObject } from '../login/call-object';
import { DEVICE_POLL_INTERVAL_S, type DevicePoll } from '../login/device-grant';
import { handOut } from '../login/hand-out';
import { startSession } from '../login/start';
import { handleOAuthError, OAuthError, oauthJson, postOnly, tokenAnswer } from './errors';
import { formBody, formInput, publicClient } from './form';
import { refreshGrant } from './refresh';
import {
  DeviceAuthorizationAnswer,
  DeviceAuthorizationForm,
  oauthAnswers,
  REFRESH_TOKEN_GRANT,
  TokenAnswer,
  TokenForm,
} from './schemas';

const DEVICE_CODE = /^([0-9a-f]{64})\.([A-Za-z0-9_-]{43})$/;

const POLL_MESSAGES: Record<Exclude<DevicePoll, { ok: true }>['error'] | 'approver_gone', string> = {
  approver_gone: 'The phone that approved this sign-in was signed out before the device collected it.',
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
        [400, 401, 403, 405, 408, 429, 500, 503],
      ),
    }),
    ownPagesOnly,
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
        device: { clientId, scope: c.req.valid('form').scope ?? null },
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
      summary: 'The device polls for its token; any client refreshes its tokens',
      description:
        'Device code grant: `authorization_pending` until the phone confirms, `slow_down` when polled sooner than the interval ' +
        '(which then grows by 5 s), `access_denied` after a cancel (or when the approving phone was signed out), ' +
        '`expired_token` after expiry; the tokens once, then `invalid_grant`. Refresh token grant: new tokens, the refresh ' +
        'token rotated; a rotated token sent again more than 10 s later signs its session out. ' +
        `${FORM_ERRORS}`,
      tags: TAGS,
      responses: oauthAnswers(
        200,
        TokenAnswer,
        'Signed in: a JWT like every token this Worker issues, and a refresh token.',
        [400, 401, 405, 408, 500, 503],
      ),
    }),
    formBody,
    formInput(TokenForm),
    async (c) => {
      const form = c.req.valid('form');
      if (form.grant_type === REFRESH_TOKEN_GRANT) return refreshGrant(c, form);
      if (!form.device_code) throw new OAuthError('invalid_request', '`device_code` is required.');
      if (!form.client_id) throw new OAuthError('invalid_request', '`client_id` is required.');
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
        (answer) => ({ via: 'device', clientId, scope: answer.ok ? answer.scope : null }),
      );
      if (!poll.ok) {
        const message =
          poll.error === 'slow_down'
            ? `Polling too fast: wait ${poll.interval} s between polls.`
            : POLL_MESSAGES[poll.error];
        throw new OAuthError(poll.error, message);
      }
      // The phone session that approved was signed out before the device collected: nobody signs in.
      if (!signedIn) throw new OAuthError('access_denied', POLL_MESSAGES.approver_gone);
      return tokenAnswer(c, signedIn);
    },
  )

  .all('/oauth/device_authorization', postOnly)
  .all('/oauth/token', postOnly)
  .onError(handleOAuthError);
