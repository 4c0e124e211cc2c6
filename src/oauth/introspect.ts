/**
 * @module
 * `POST /oauth/introspect` (RFC 7662): a site's backend asks online whether a token is alive,
 * so it can end a session at once instead of waiting for the access token to expire. The caller
 * authenticates with HTTP Basic as one of `INTROSPECTION_CLIENTS` (`id:secret` pairs); the
 * answer is `{ active: false }` for anything revoked, expired, unknown or forged.
 */
import { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import { commaList, type Env } from '../env';
import type { AppEnv } from '../http/app-env';
import { constantTimeEqual } from '../http/crypto';
import { liveAccessToken } from '../identity/access-token';
import { tokenAudience, tokenIssuer } from '../tokens/signing';
import { askUser, openRefreshToken } from '../user';
import { basicCredentials } from './clients';
import { handleOAuthError, OAuthError, oauthJson, postOnly } from './errors';
import { formBody, formInput } from './form';
import { IntrospectForm, IntrospectionAnswer, oauthAnswers } from './schemas';

const unauthenticated = () =>
  new OAuthError('invalid_client', 'Authenticate with HTTP Basic as one of INTROSPECTION_CLIENTS.', 401, {
    'WWW-Authenticate': 'Basic realm="introspection", charset="UTF-8"',
  });

/** Whether the `Authorization: Basic` header names a pair of `INTROSPECTION_CLIENTS`. */
function authenticated(env: Env, header: string | undefined): boolean {
  const credentials = basicCredentials(header ?? '');
  if (!credentials) return false;
  let ok = false;
  for (const entry of commaList(env.INTROSPECTION_CLIENTS)) {
    const at = entry.indexOf(':');
    if (at <= 0) continue;
    // Every pair is compared, so the time taken does not say which id exists.
    const idOk = constantTimeEqual(entry.slice(0, at), credentials.id);
    const secretOk = constantTimeEqual(entry.slice(at + 1), credentials.secret);
    ok ||= idOk && secretOk;
  }
  return ok;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

export const introspection = new Hono<AppEnv>()
  .post(
    '/oauth/introspect',
    describeRoute({
      summary: 'Is this token alive? (RFC 7662)',
      description:
        'For a site’s backend, authenticated with HTTP Basic as one of `INTROSPECTION_CLIENTS`. An access token or a ' +
        'refresh token; `{ "active": false }` for anything revoked, expired, unknown or forged.',
      tags: ['Sessions and tokens'],
      security: [{ introspectionBasic: [] }],
      responses: oauthAnswers(
        200,
        IntrospectionAnswer,
        'Whether the token is alive, and whose.',
        [400, 401, 405, 408, 503],
      ),
    }),
    async (c, next) => {
      if (!authenticated(c.env, c.req.header('Authorization'))) throw unauthenticated();
      await next();
    },
    formBody,
    formInput(IntrospectForm),
    async (c) => {
      const { token } = c.req.valid('form');
      const common = { iss: tokenIssuer(c), aud: tokenAudience(c.env) };
      const refresh = await openRefreshToken(c.env, token);
      if (refresh) {
        const session = await askUser(async () => await refresh.stub.sessionOfRefresh(refresh.hash));
        if (!session) return oauthJson(c, { active: false });
        return oauthJson(c, {
          active: true,
          token_type: 'refresh_token',
          sub: session.user.id,
          sid: session.sid,
          username: session.user.username,
          exp: seconds(session.expires_at),
          iat: seconds(session.issued_at),
          ...common,
          ...(session.client_id ? { client_id: session.client_id } : {}),
          // A refresh token bound to a DPoP key (RFC 9449 §6.2) says which.
          ...(session.jkt ? { cnf: { jkt: session.jkt } } : {}),
        });
      }
      const live = await liveAccessToken(c, token);
      if (!live) return oauthJson(c, { active: false });
      const { claims, session } = live;
      return oauthJson(c, {
        active: true,
        token_type: claims.cnf ? 'DPoP' : 'Bearer',
        sub: claims.sub,
        sid: claims.sid,
        username: claims.username,
        exp: claims.exp,
        iat: claims.iat,
        ...common,
        ...(session.client_id ? { client_id: session.client_id } : {}),
        ...(claims.cnf ? { cnf: claims.cnf } : {}),
      });
    },
  )
  .all('/oauth/introspect', postOnly)
  .onError(handleOAuthError);
