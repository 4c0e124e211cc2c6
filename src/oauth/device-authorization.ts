/**
 * @module
 * `POST /oauth/device_authorization` (RFC 8628 §3.1–3.2): a device asks to be signed in, and a
 * new QR login starts for it (the device shows the QR of `verification_uri_complete`, or the
 * `user_code`). The phone side is the QR login, unchanged; the device's poll is the token
 * endpoint's device code grant (`grants/device-code.ts`). The device code is
 * `<qrcode_id>.<poll secret>`. With a DPoP proof (RFC 9449) the device code is bound to its key.
 */
import { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import type { AppEnv } from '../http/app-env';
import { randomToken, sha256Hex } from '../http/crypto';
import { clientIp } from '../http/request-info';
import { countQrcode } from '../limits/limits';
import { DEVICE_POLL_INTERVAL_S } from '../login/device-grant';
import { startLogin } from '../login/start';
import { provedKey } from '../tokens/dpop';
import { handleOAuthError, oauthJson, postOnly } from './errors';
import { deviceClientName, formBody, formInput, publicClient } from './form';
import { DeviceAuthorizationAnswer, DeviceAuthorizationForm, oauthAnswers } from './schemas';

const TAGS = ['OAuth device flow (RFC 8628)'];
const FORM_ERRORS = 'Form bodies only; errors are RFC 6749\'s `{ "error", "error_description" }`.';

export const deviceAuthorization = new Hono<AppEnv>()
  .post(
    '/oauth/device_authorization',
    describeRoute({
      summary: 'A device asks to be signed in: a new QR login for the phone to scan or type',
      description: `Show the QR of \`verification_uri_complete\`, or \`user_code\` and \`verification_uri\`. ${FORM_ERRORS}`,
      tags: TAGS,
      responses: oauthAnswers(
        200,
        DeviceAuthorizationAnswer,
        'Poll the token endpoint every `interval` seconds.',
        [400, 401, 403, 405, 408, 429, 500, 503],
      ),
    }),
    formBody,
    formInput(DeviceAuthorizationForm),
    async (c) => {
      const { client_id } = c.req.valid('form');
      const clientId = publicClient(c.env, client_id);
      // A proof binds the device code to its key (RFC 9449): its token polls must prove the same key.
      const jkt = await provedKey(c);
      await countQrcode(c.env, clientIp(c));
      const secret = randomToken(32);
      const started = await startLogin(c, {
        pollHash: await sha256Hex(secret),
        userCode: true,
        device: { clientId, clientName: deviceClientName(c.env, clientId), scope: c.req.valid('form').scope ?? null },
        jkt,
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

  .all('/oauth/device_authorization', postOnly)
  .onError(handleOAuthError);
