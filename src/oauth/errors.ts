/**
 * @module
 * How the OAuth endpoints answer (RFC 6749 §5.1–5.2, RFC 8628 §3.5): JSON that no cache keeps,
 * tokens in RFC 6749's names, and errors as `{ "error", "error_description" }` instead of the API's `{ error, message }`.
 * The API's own failures (a body too large, a rate limit, D1 down, a missing signing key) are
 * mapped onto that shape here, so an OAuth client never sees another one.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Env } from '../env';
import type { AppEnv } from '../http/app-env';
import { asApiError, JSON_CONTENT_TYPE } from '../http/errors';
import type { DevicePollError } from '../login/device-grant';
import { DpopError, type DpopErrorCode } from '../tokens/dpop';
import type { AuthorizeErrorCode } from './authorize-request';

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_scope'
  | 'insufficient_scope'
  | 'unsupported_grant_type'
  | DevicePollError
  | AuthorizeErrorCode
  | DpopErrorCode
  | 'rate_limited'
  | 'forbidden'
  | 'server_error'
  | 'temporarily_unavailable';

/** A refused OAuth request, answered as it is. */
export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  constructor(
    readonly code: OAuthErrorCode,
    message: string,
    readonly status: ContentfulStatusCode = 400,
    /** Extra response headers, such as `Allow` or `Retry-After`. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** 405 for any other method on an OAuth endpoint (they all take POST only). */
export const postOnly = (): never => {
  throw new OAuthError('invalid_request', 'Use POST here.', 405, { Allow: 'POST' });
};

/** A JSON answer with the headers RFC 6749 §5.1 asks of anything that carries a token or a code. */
export function oauthJson(c: Context<AppEnv>, body: object, status: ContentfulStatusCode = 200): Response {
  const res = c.json(body, status);
  res.headers.set('Content-Type', JSON_CONTENT_TYPE);
  res.headers.set('Cache-Control', 'no-store');
  res.headers.set('Pragma', 'no-cache');
  return res;
}

/** What a grant issues, in our words. */
export interface GrantTokens {
  token: string;
  expires_in: number;
  refresh_token?: string;
  id_token?: string;
  scope?: string;
  /** The DPoP key the tokens are bound to: `token_type` is then `DPoP` (RFC 9449 §5). */
  jkt?: string | null;
}

/** The token endpoint's success (RFC 6749 §5.1): our tokens in OAuth's names. */
export function tokenAnswer(
  c: Context<AppEnv>,
  { token, refresh_token, expires_in, id_token, scope, jkt }: GrantTokens,
): Response {
  return oauthJson(c, {
    access_token: token,
    token_type: jkt ? 'DPoP' : 'Bearer',
    expires_in,
    ...(scope ? { scope } : {}),
    ...(refresh_token ? { refresh_token } : {}),
    ...(id_token ? { id_token } : {}),
  });
}

/** The error in OAuth's words, for any failure that reaches an OAuth route. */
function asOAuthError(err: Error, env: Env): OAuthError {
  if (err instanceof OAuthError) return err;
  // A refused DPoP proof (RFC 9449): 400 where tokens are issued, 401 with its challenge at userinfo.
  if (err instanceof DpopError) return new OAuthError(err.code, err.message, err.status, err.headers);
  // A body too large, a rate limit, D1 down, a missing key: the API's codes said in OAuth's.
  const api = asApiError(err, env);
  // A rate limit, a page of another site (403, see origin-guard.ts), a bound token sent as Bearer keep their own codes.
  let code: OAuthErrorCode = (['rate_limited', 'forbidden', 'invalid_token'] as const).includes(
    api.code as 'rate_limited',
  )
    ? (api.code as OAuthErrorCode)
    : 'invalid_request';
  if (api.status >= 500) code = api.code === 'service_unavailable' ? 'temporarily_unavailable' : 'server_error';
  return new OAuthError(code, api.message, api.status, api.headers);
}

/** `onError` of the OAuth routes. */
export function handleOAuthError(err: Error, c: Context<AppEnv>): Response {
  const e = asOAuthError(err, c.env);
  const res = oauthJson(c, { error: e.code, error_description: e.message }, e.status);
  for (const [name, value] of Object.entries(e.headers)) res.headers.set(name, value);
  return res;
}
