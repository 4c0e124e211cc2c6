/**
 * @module
 * `POST /oauth/token` (RFC 6749 §3.2): one route that reads the form and hands it to its grant,
 * one file each under `grants/`, each with its checks in order and its own refusals.
 */
import { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import type { AppEnv } from '../http/app-env';
import { handleOAuthError, postOnly } from './errors';
import { formBody, formInput } from './form';
import { authorizationCodeGrant } from './grants/authorization-code';
import { deviceCodeGrant } from './grants/device-code';
import { refreshTokenGrant } from './grants/refresh-token';
import { AUTHORIZATION_CODE_GRANT, oauthAnswers, REFRESH_TOKEN_GRANT, TokenAnswer, TokenForm } from './schemas';

const TOO_FAST = {
  codes: ['rate_limited'],
  description: 'A session refreshed 10 times in the last minute; see `Retry-After`. Nothing was spent.',
};
const FORM_ERRORS = 'Form bodies only; errors are RFC 6749\'s `{ "error", "error_description" }`.';

export const tokenEndpoint = new Hono<AppEnv>()
  .post(
    '/oauth/token',
    describeRoute({
      summary: 'A client exchanges its code; the device polls for its token; any client refreshes its tokens',
      description:
        'Authorization code grant (a client of `OIDC_CLIENTS`, authenticated by its registered method): `code`, ' +
        '`redirect_uri`, `code_verifier`; the tokens and an id_token once, every refusal `invalid_grant` (a code used ' +
        'twice revokes what it gave). Device code grant: `authorization_pending` until the phone confirms, `slow_down` when polled sooner than the interval ' +
        '(which then grows by 5 s), `access_denied` after a cancel (or when the approving phone was signed out), ' +
        '`expired_token` after expiry; the tokens once, then `invalid_grant`. Refresh token grant: new tokens, the refresh ' +
        'token rotated; a rotated token sent again more than 10 s later signs its session out; a session refreshed ' +
        '10 times in the last minute gets `429 rate_limited` with `Retry-After`, and nothing is spent. ' +
        `${FORM_ERRORS}`,
      tags: ['OAuth device flow (RFC 8628)', 'OpenID Provider (authorization code flow)'],
      responses: oauthAnswers(
        200,
        TokenAnswer,
        'Signed in: a JWT like every token this Worker issues, a refresh token, and an id_token with `openid`.',
        [400, 401, 405, 408, [429, TOO_FAST], 500, 503],
      ),
    }),
    formBody,
    formInput(TokenForm),
    async (c) => {
      const form = c.req.valid('form');
      // `TokenForm` admits only the grants served here.
      if (form.grant_type === AUTHORIZATION_CODE_GRANT) return authorizationCodeGrant(c, form);
      return form.grant_type === REFRESH_TOKEN_GRANT ? refreshTokenGrant(c, form) : deviceCodeGrant(c, form);
    },
  )
  .all('/oauth/token', postOnly)
  .onError(handleOAuthError);
