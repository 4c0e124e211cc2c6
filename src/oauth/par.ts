/**
 * @module
 * `POST /oauth/par` (RFC 9126): a client pushes its authorization request's parameters from its
 * backend, authenticated by its registered method, and gets a `request_uri` for one authorize
 * request within 60 seconds (kept by a `PushedRequest` object: see `pushed-request.ts`). The
 * parameters are checked as an authorize request's are (`authorize-request.ts`), every failure
 * answered here in RFC 6749's JSON (the client is listening), never at the redirect URI.
 */
import { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import type { AppEnv } from '../http/app-env';
import { provedKey } from '../tokens/dpop';
import { AuthorizeRefusal, checkAuthorizeRequest, UntrustedRequest } from './authorize-request';
import { authenticateClient } from './clients';
import { handleOAuthError, OAuthError, oauthJson, postOnly } from './errors';
import { formBody, formInput } from './form';
import { PUSHED_REQUEST_TTL_S, REQUEST_URI_PREFIX } from './pushed-request';
import { oauthAnswers, ParAnswer, ParForm } from './schemas';

export const pushedAuthorization = new Hono<AppEnv>()
  .post(
    '/oauth/par',
    describeRoute({
      summary: 'A client pushes its authorization request (RFC 9126)',
      description:
        'The authorize parameters (no `request_uri`), with the client’s authentication. The authorize request then ' +
        'carries only `client_id` and the `request_uri`, once, within 60 s. Form bodies only; errors are RFC 6749’s.',
      tags: ['OpenID Provider (authorization code flow)'],
      security: [{ clientBasic: [] }],
      responses: oauthAnswers(201, ParAnswer, 'Use `request_uri` in one authorize request.', [
        [
          400,
          {
            codes: ['invalid_request', 'invalid_scope', 'unsupported_response_type', 'request_not_supported'],
            description: 'The pushed request is refused, as the authorize endpoint would refuse it.',
          },
        ],
        401,
        405,
        408,
        500,
        503,
      ]),
    }),
    formBody,
    formInput(ParForm),
    async (c) => {
      const { client_secret: _secret, ...params } = c.req.valid('form');
      const client = await authenticateClient(c, c.req.valid('form'));
      if (params.request_uri !== undefined) throw new OAuthError('invalid_request', 'request_uri cannot be pushed.');
      // A proof here binds the code to its key, as `dpop_jkt` would (RFC 9449 §10.1); both must agree.
      const jkt = await provedKey(c);
      if (jkt && params.dpop_jkt !== undefined && params.dpop_jkt !== jkt) {
        throw new OAuthError('invalid_dpop_proof', 'dpop_jkt is not the thumbprint of the DPoP proof’s key.');
      }
      if (jkt) params.dpop_jkt = jkt;
      try {
        await checkAuthorizeRequest(c, { ...params, client_id: client.client_id }, 'push');
      } catch (err) {
        if (err instanceof AuthorizeRefusal) throw new OAuthError(err.code, err.message);
        if (err instanceof UntrustedRequest) throw new OAuthError('invalid_request', err.message);
        throw err;
      }
      const id = c.env.PUSHED_REQUEST.newUniqueId();
      const stored = Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined)) as Record<
        string,
        string
      >;
      await c.env.PUSHED_REQUEST.get(id).keep(
        client.client_id,
        { ...stored, client_id: client.client_id },
        Date.now() + PUSHED_REQUEST_TTL_S * 1000,
      );
      return oauthJson(
        c,
        { request_uri: `${REQUEST_URI_PREFIX}${id.toString()}`, expires_in: PUSHED_REQUEST_TTL_S },
        201,
      );
    },
  )
  .all('/oauth/par', postOnly)
  .onError(handleOAuthError);
