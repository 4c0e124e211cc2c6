/**
 * @module
 * `GET /oauth/userinfo` (OpenID Connect Core 1.0 §5.3): who an access token signs in, for a
 * client that was granted `openid` (device flow or code flow); a code-flow client gets `name`
 * and `preferred_username` only with `profile`. A missing, invalid or signed-out token is 401
 * with `WWW-Authenticate: Bearer`; a live one issued without `openid` (a page's, or a client's
 * token without it) is 403 `insufficient_scope` (RFC 6750 §3.1).
 */
import { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import type { AppEnv } from '../http/app-env';
import { readCredential } from '../http/validate';
import { liveAccessToken } from '../identity/access-token';
import { handleOAuthError, OAuthError, oauthJson } from './errors';
import { oauthAnswers, UserInfoAnswer } from './schemas';

const invalidToken = (description: string) =>
  new OAuthError('invalid_token', description, 401, {
    'WWW-Authenticate': `Bearer error="invalid_token", error_description="${description}"`,
  });

export const userinfo = new Hono<AppEnv>()
  .on(
    ['GET', 'POST'],
    '/oauth/userinfo',
    describeRoute({
      summary: 'Who the access token signs in (OpenID Connect)',
      tags: ['Sessions and tokens'],
      security: [{ bearerAuth: [] }],
      responses: oauthAnswers(200, UserInfoAnswer, 'The signed-in user.', [
        [401, { codes: ['invalid_token'], description: 'No access token, or not a live one (RFC 6750 §3.1).' }],
        [403, { codes: ['insufficient_scope'], description: 'Issued without `openid` (RFC 6750 §3.1).' }],
        503,
      ]),
    }),
    async (c) => {
      const header = c.req.header('Authorization');
      if (!header) {
        throw new OAuthError('invalid_token', 'Send the access token as Authorization: Bearer (or DPoP).', 401, {
          'WWW-Authenticate': 'Bearer',
        });
      }
      const credential = readCredential(header);
      const live = credential ? await liveAccessToken(c, credential.token, credential.scheme) : null;
      if (!live) throw invalidToken('The access token is invalid, expired or its session was signed out.');
      const { claims, session } = live;
      const scope = (session.scope ?? '').split(' ');
      if (!scope.includes('openid')) {
        throw new OAuthError('insufficient_scope', 'This access token was issued without the openid scope.', 403, {
          'WWW-Authenticate': 'Bearer error="insufficient_scope"',
        });
      }
      // A code-flow client learns the profile only with `profile` (a device-flow client always did).
      if (session.via === 'oidc' && !scope.includes('profile')) return oauthJson(c, { sub: claims.sub });
      return oauthJson(c, { sub: claims.sub, name: claims.name, preferred_username: claims.username });
    },
  )
  .onError(handleOAuthError);
