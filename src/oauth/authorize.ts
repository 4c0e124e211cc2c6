/**
 * @module
 * `GET /oauth/authorize` (and `POST`, a form body): the authorization endpoint of the OpenID
 * Provider. The request is checked (`authorize-request.ts`); a request that cannot be sent back
 * to its client gets an error page in words (never a redirect), any other refusal goes back to
 * the client's redirect URI with `error`, `error_description`, `state` and `iss` (RFC 9207). A
 * valid request is shown the authorize page (`public/authorize.html`), which asks
 * `POST /api/authorize` for its QR (`authorize-api.ts`). `prompt=none` never shows the page: a
 * code at once for a live single sign-on session that satisfies `max_age`, else
 * `login_required`. A POST is sent on to the GET with the same parameters (`303`), so that the
 * page reads them from its address like any other.
 *
 * Also the pieces the page's API shares: the `authorization` it carries (a statement signed by
 * this Worker, see `tokens/internal-jws.ts`: stateless, valid ten minutes), and the silent answer.
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import { describeRoute, validator } from 'hono-openapi';
import type { AppEnv } from '../http/app-env';
import { ApiError, asApiError } from '../http/errors';
import { pageAt } from '../pages/assets';
import { authorizationResponse, continueAs } from '../sessions/sso';
import { readStatement, signStatement } from '../tokens/internal-jws';
import type { AuthorizationRequest, OidcLogin } from '../user/oidc-types';
import {
  AuthorizeRefusal,
  type CheckedRequest,
  checkAuthorizeRequest,
  type AuthorizeParams as Params,
  UntrustedRequest,
} from './authorize-request';
import { type OidcClient, oidcClient } from './clients';
import { errorPage } from './error-page';
import { OAuthError } from './errors';
import { formBody } from './form';
import { AuthorizeParams } from './schemas';

const TAGS = ['OpenID Provider (authorization code flow)'];

/** How long an authorize request may wait for its sign-in (the page replaces expired QRs meanwhile). */
export const REQUEST_LIFETIME_S = 600;

// ---------------------------------------------------------------- answers

/** A redirect that no cache keeps. */
export function redirectTo(url: string): Response {
  return new Response(null, { status: 302, headers: { Location: url, 'Cache-Control': 'no-store' } });
}

/** Where a refusal goes back to: the client's redirect URI with the error (RFC 6749 §4.1.2.1). */
export const refusalResponse = (c: Context<AppEnv>, refusal: AuthorizeRefusal): string =>
  authorizationResponse(c, refusal.target.redirect_uri, {
    error: refusal.code,
    error_description: refusal.message,
    state: refusal.target.state,
  });

/** What a login for `checked` is: the client, by its name, and the request. */
export const oidcLogin = ({ client, request }: Pick<CheckedRequest, 'client' | 'request'>): OidcLogin => ({
  client_id: client.client_id,
  client_name: client.client_name,
  request,
});

/**
 * `prompt=none` (OpenID Connect Core §3.1.2.6): where the browser goes at once, with a code for
 * the live single sign-on session, or with `login_required`. A pushed request is spent here.
 */
export async function silentAnswer(c: Context<AppEnv>, checked: CheckedRequest): Promise<string> {
  if (checked.pushed && !(await checked.pushed.read(checked.client.client_id, true))) {
    throw new UntrustedRequest('request_uri', 'request_uri was used meanwhile.');
  }
  const code = await continueAs(c, oidcLogin(checked));
  if (code) return code;
  const { redirect_uri, state } = checked.request;
  return refusalResponse(
    c,
    new AuthorizeRefusal('login_required', 'No sign-in of this browser satisfies the request.', {
      redirect_uri,
      state,
    }),
  );
}

// ---------------------------------------------------------------- the page's `authorization`

const STATEMENT_TYP = 'authz';
const STATEMENT_AUDIENCE = 'authorize-page';

/** The validated request, signed for the page to carry back (no storage). */
export const signAuthorization = (c: Context<AppEnv>, request: AuthorizationRequest): Promise<string> =>
  signStatement(c, STATEMENT_TYP, STATEMENT_AUDIENCE, { ...request });

/**
 * The request and client an `authorization` carries, and whether it is past its ten minutes; a
 * forged one, or one whose client or redirect URI is no longer registered, is 400.
 */
export async function readAuthorization(
  c: Context<AppEnv>,
  token: string,
): Promise<{ request: AuthorizationRequest; client: OidcClient; expired: boolean }> {
  const claims = await readStatement(c, STATEMENT_TYP, STATEMENT_AUDIENCE, token);
  const client = typeof claims?.client_id === 'string' ? oidcClient(c.env, claims.client_id) : null;
  if (!claims || !client?.redirect_uris.includes(String(claims.redirect_uri))) {
    throw new ApiError('invalid_request', '`authorization` is not one this server gave, or its client changed.');
  }
  const request: AuthorizationRequest = {
    client_id: client.client_id,
    redirect_uri: String(claims.redirect_uri),
    scope: String(claims.scope),
    state: typeof claims.state === 'string' ? claims.state : null,
    nonce: typeof claims.nonce === 'string' ? claims.nonce : null,
    code_challenge: String(claims.code_challenge),
    max_age: typeof claims.max_age === 'number' ? claims.max_age : null,
    prompt: claims.prompt === 'login' || claims.prompt === 'consent' ? claims.prompt : null,
    iat: claims.iat!,
  };
  return { request, client, expired: Date.now() / 1000 - request.iat >= REQUEST_LIFETIME_S };
}

// ---------------------------------------------------------------- the endpoint

/** `onError` of `/oauth/authorize`: every failure is a page in words, with its status. */
export function authorizeError(err: Error, c: Context<AppEnv>): Response {
  if (err instanceof UntrustedRequest) return errorPage(c, err.reason);
  if (err instanceof OAuthError) return errorPage(c, 'malformed', err.status);
  const api = asApiError(err, c.env);
  if (api.status >= 500)
    return errorPage(c, api.code === 'service_unavailable' ? 'unavailable' : 'server_error', api.status);
  return errorPage(c, 'malformed', api.status);
}

/** The parameters' schema as a validator whose refusal is the error page. */
const params = <T extends 'query' | 'form'>(target: T) =>
  validator(
    target,
    AuthorizeParams,
    (result) => {
      if (!result.success) {
        throw new UntrustedRequest('malformed', result.error[0]?.message ?? 'The request is malformed.');
      }
    },
    target === 'form' ? { media: 'application/x-www-form-urlencoded' } : undefined,
  );

/** The answer to an authorize request: a refusal's redirect, the silent answer, or `valid`. */
async function answer(c: Context<AppEnv>, query: Params, valid: () => Promise<Response> | Response): Promise<Response> {
  let checked: CheckedRequest;
  try {
    checked = await checkAuthorizeRequest(c, query, 'peek');
  } catch (err) {
    if (err instanceof AuthorizeRefusal) return redirectTo(refusalResponse(c, err));
    throw err;
  }
  return checked.promptNone ? redirectTo(await silentAnswer(c, checked)) : valid();
}

const describe = (summary: string, description: string) =>
  describeRoute({
    summary,
    description,
    tags: TAGS,
    responses: {
      200: { description: 'The authorize page (HTML): the QR, the code to type, "Continue as" where it applies.' },
      302: {
        description:
          'Back to the client: `code`, `state`, `iss` (`prompt=none` with a live sign-in), or `error`, ' +
          '`error_description`, `state`, `iss`.',
      },
      400: { description: 'An error page in words: the request cannot be sent back to its client.' },
      500: { description: 'An error page: the server is misconfigured (`OIDC_CLIENTS`).' },
      503: { description: 'An error page: a backing service is unavailable.' },
    },
  });

export const authorizeEndpoint = new Hono<AppEnv>()
  .get(
    '/oauth/authorize',
    describe(
      'A site asks the user to sign in (OpenID Connect, authorization code flow)',
      'The parameters in the query. `response_type=code`, `client_id`, `redirect_uri` (registered, exactly), `scope` ' +
        'with `openid`, `code_challenge` with `code_challenge_method=S256`, optional `state`, `nonce`, `prompt`, ' +
        '`max_age`, `request_uri` (from PAR).',
    ),
    params('query'),
    async (c) => answer(c, c.req.valid('query'), () => pageAt(c, '/authorize')),
  )
  .post(
    '/oauth/authorize',
    describe(
      'The same, with the parameters in a form body',
      'A valid request is sent on to the GET with the same parameters (303), where the page reads them.',
    ),
    formBody,
    params('form'),
    async (c) => {
      const query = c.req.valid('form');
      return answer(c, query, () => {
        const search = new URLSearchParams(query as Record<string, string>).toString();
        return new Response(null, {
          status: 303,
          headers: { Location: `/oauth/authorize?${search}`, 'Cache-Control': 'no-store' },
        });
      });
    },
  )
  .all('/oauth/authorize', (c) => {
    const res = errorPage(c, 'malformed', 405);
    res.headers.set('Allow', 'GET, POST');
    return res;
  })
  .onError(authorizeError);
