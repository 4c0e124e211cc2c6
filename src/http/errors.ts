/**
 * @module
 * The API's error model: every failure leaves the Worker as
 * `{ "error": "<code>", "message": "<text a person can read>" }` with its status, and where the
 * code alone cannot tell a page whom to blame, a stable `reason` beside them (`ErrorReason`).
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Env } from '../env';
import { describeError, redact } from './log-safe';

/** Every error code the API can answer with, and its HTTP status. */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_qrcode_id: 400,
  unauthorized: 401,
  invalid_credentials: 401,
  /** RFC 9449: a refused DPoP proof (400 where tokens are issued, 401 with `WWW-Authenticate: DPoP` at a resource). */
  invalid_dpop_proof: 400,
  /** RFC 9449 §8: sign the proof with the server's nonce (`DPoP-Nonce`); 400 or 401 as above. */
  use_dpop_nonce: 400,
  /** RFC 6750 §3.1 / RFC 9449 §7.1: a DPoP-bound token presented without its proof (as `Bearer`). */
  invalid_token: 401,
  forbidden: 403,
  step_up_required: 403,
  step_up_failed: 403,
  not_found: 404,
  invalid_user_code: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  invalid_transition: 409,
  match_failed: 409,
  qrcode_expired: 410,
  unsupported_media_type: 415,
  rate_limited: 429,
  server_error: 500,
  service_unavailable: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

/**
 * What a page needs to know beyond the code to say who can fix it (an extra member of the error
 * answer; the code stays the contract's):
 * - `site_token_expired`: 401, the site's token (`IDENTITY=jwt`) has expired: sign in again;
 * - `site_token_refused`: 401, the site's token does not pass this Worker's checks (issuer,
 *   audience, signature, key, algorithm, format): the site or the Worker's configuration must change;
 * - `site_keys_unavailable`: 503, the site's JWKS (`IDENTITY_JWKS_URL`) cannot be fetched.
 */
export const ERROR_REASONS = ['site_token_expired', 'site_token_refused', 'site_keys_unavailable'] as const;
export type ErrorReason = (typeof ERROR_REASONS)[number];

const DEFAULT_MESSAGE: Record<ErrorCode, string> = {
  invalid_request: 'The request is malformed.',
  invalid_qrcode_id: 'This is not a QR code id issued by this service.',
  unauthorized: 'Sign in again: the token is missing, malformed, expired or revoked.',
  invalid_credentials: 'Wrong username or password.',
  invalid_dpop_proof: 'The DPoP proof is missing or not valid for this request.',
  use_dpop_nonce: 'Sign the DPoP proof with the nonce of the DPoP-Nonce header.',
  invalid_token: 'This access token is bound to a DPoP key: send it as Authorization: DPoP with a proof.',
  forbidden: 'This QR code was scanned by another user.',
  step_up_required: 'Confirm with your passkey: this sign-in needs it.',
  step_up_failed: 'The passkey did not verify: nothing was confirmed. Try again.',
  not_found: 'There is nothing here.',
  invalid_user_code: 'This code is unknown or has expired.',
  method_not_allowed: 'This method is not allowed here.',
  request_timeout: 'The request body did not arrive in time.',
  invalid_transition: 'The QR code is not in a state that allows this step.',
  match_failed: 'The number did not match the one on the screen; the login was cancelled.',
  qrcode_expired: 'This QR code has expired or was already used.',
  unsupported_media_type: 'Send the request body as Content-Type: application/json.',
  rate_limited: 'Too many requests; try again later.',
  server_error: 'Something went wrong on the server.',
  service_unavailable: 'The service is temporarily unavailable; try again shortly.',
};

/** The Content-Type of every JSON answer. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** A request failure that the API reports to the client as it is. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: ContentfulStatusCode;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    /** Extra response headers, such as `Retry-After`. */
    readonly headers: Record<string, string> = {},
    /** Whom to blame, for a page (see `ErrorReason`). */
    readonly reason?: ErrorReason,
    /** Another status than the code's own (a DPoP refusal at a resource is 401, at a token endpoint 400). */
    status?: ContentfulStatusCode,
  ) {
    super(message ?? DEFAULT_MESSAGE[code]);
    this.status = status ?? ERROR_STATUS[code];
  }
}

/** A deployment mistake (such as a missing secret): logged with its reason, answered as a 500. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** D1 or another backing service failed: answered as a 503, never as a stack trace. */
export class UnavailableError extends Error {
  override readonly name = 'UnavailableError';
}

/** The JSON error response for `err`. */
export function errorResponse(c: Context, err: ApiError): Response {
  for (const [name, value] of Object.entries(err.headers)) c.header(name, value);
  c.header('Cache-Control', 'no-store');
  const body = { error: err.code, message: err.message, ...(err.reason ? { reason: err.reason } : {}) };
  const res = c.json(body, err.status);
  res.headers.set('Content-Type', JSON_CONTENT_TYPE);
  return res;
}

/**
 * Any failure as the API error it is answered with. Misconfigurations, outages and the
 * unexpected are logged here, with their reason, and answered without it. The log line never
 * carries a secret of `env` nor anything shaped like a credential (see `log-safe.ts`).
 */
export function asApiError(err: Error, env?: Env): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException && err.status < 500) {
    // A refusal raised inside a Hono helper (a validator's malformed JSON, say): the same shape.
    const code = (Object.keys(ERROR_STATUS) as ErrorCode[]).find((k) => ERROR_STATUS[k] === err.status);
    return new ApiError(code ?? 'invalid_request', err.message || undefined);
  }
  if (err instanceof ConfigError) {
    console.error(`configuration error: ${redact(err.message, env)}`);
    return new ApiError('server_error', 'The server is misconfigured and cannot sign in anyone now.');
  }
  if (err instanceof UnavailableError) {
    console.error(`backing service unavailable: ${redact(err.message, env)}`);
    return new ApiError('service_unavailable', undefined, { 'Retry-After': '5' });
  }
  console.error(`unexpected error: ${describeError(err, env)}`);
  return new ApiError('server_error');
}

/** `app.onError`: every failure as its JSON answer. */
export function handleError(err: Error, c: Context): Response {
  return errorResponse(c, asApiError(err, c.env));
}
