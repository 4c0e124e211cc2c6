/**
 * @module
 * The checks of an authorization request (OpenID Connect Core §3.1.2, RFC 6749 §4.1, RFC 7636,
 * RFC 9126), one small function each, run in a fixed order by `checkAuthorizeRequest`. The same
 * chain serves `GET|POST /oauth/authorize`, the authorize page's `POST /api/authorize` and
 * `POST /oauth/par`.
 *
 * Until the client and its redirect URI are known to belong together, nothing can be sent back
 * to that URI (it could be anyone's): those failures are `UntrustedRequest`, an error page in
 * words (the order is client → the pushed request, whose parameters then stand for the query's
 * → redirect URI, since a pushed request's redirect URI lives in it). From there on every
 * refusal is an `AuthorizeRefusal`, which goes back to the client with `error`, `state` and
 * `iss`: response type → PAR required → unsupported parameters → scope → state and nonce →
 * PKCE → prompt → max_age → `dpop_jkt` (RFC 9449 §10).
 */
import type { Context } from 'hono';
import type { AppEnv } from '../http/app-env';
import type { AuthorizationRequest } from '../user/oidc-types';
import { type OidcClient, oidcClient } from './clients';
import { type PushedRequest, pushedRequestObject } from './pushed-request';
import { SCOPES } from './schemas';

/** The authorize parameters, as strings. */
export type AuthorizeParams = Partial<Record<string, string>>;

/** Why a request cannot be trusted to go back anywhere (each has its words on the error page). */
export type UntrustedReason =
  | 'malformed'
  | 'no_client'
  | 'unknown_client'
  | 'request_uri'
  | 'no_redirect_uri'
  | 'unregistered_redirect_uri';

/** A request whose redirect URI cannot be trusted: answered with an error page, never a redirect. */
export class UntrustedRequest extends Error {
  override readonly name = 'UntrustedRequest';
  constructor(
    readonly reason: UntrustedReason,
    message: string,
  ) {
    super(message);
  }
}

/** The error codes that go back to the client (OpenID Connect Core §3.1.2.6, RFC 6749 §4.1.2.1). */
export type AuthorizeErrorCode =
  | 'invalid_request'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'request_not_supported'
  | 'registration_not_supported'
  | 'login_required'
  | 'access_denied';

/** A refusal that goes back to the client's redirect URI. */
export class AuthorizeRefusal extends Error {
  override readonly name = 'AuthorizeRefusal';
  constructor(
    readonly code: AuthorizeErrorCode,
    message: string,
    readonly target: { redirect_uri: string; state: string | null },
  ) {
    super(message);
  }
}

/** A request that passed every check. */
export interface CheckedRequest {
  client: OidcClient;
  request: AuthorizationRequest;
  /** `prompt=none`: answer at once, with a code or `login_required`, never the page. */
  promptNone: boolean;
  /** The pushed request it came from, if any (spend it when the request is used). */
  pushed: DurableObjectStub<PushedRequest> | null;
}

/**
 * How a pushed request is treated: `peek` checks it is usable and leaves it (the page, which
 * will spend it, is about to be served), `spend` uses it up, `push` is the PAR endpoint itself
 * (a `request_uri` is not allowed there).
 */
export type PushedMode = 'peek' | 'spend' | 'push';

// ---------------------------------------------------------------- before the redirect URI is trusted

function clientOf(c: Context<AppEnv>, params: AuthorizeParams): OidcClient {
  if (!params.client_id) throw new UntrustedRequest('no_client', 'client_id is missing.');
  const client = oidcClient(c.env, params.client_id);
  if (!client) throw new UntrustedRequest('unknown_client', 'client_id is not a client registered here.');
  return client;
}

/**
 * The parameters a `request_uri` of RFC 9126 stands for (only `client_id` beside it counts); a
 * used, expired, unknown or another client's request URI is untrusted.
 */
async function pushedParams(
  c: Context<AppEnv>,
  client: OidcClient,
  params: AuthorizeParams,
  mode: PushedMode,
): Promise<{ params: AuthorizeParams; pushed: DurableObjectStub<PushedRequest> | null }> {
  if (params.request_uri === undefined) return { params, pushed: null };
  const refused = () =>
    new UntrustedRequest('request_uri', 'request_uri is unknown, expired, already used, or another client’s.');
  if (mode === 'push') throw refused();
  const pushed = pushedRequestObject(c.env, params.request_uri);
  const stored = pushed ? await pushed.read(client.client_id, mode === 'spend') : null;
  if (!stored) throw refused();
  return { params: { ...stored, client_id: client.client_id }, pushed };
}

/** The redirect URI, exactly one the client registered (no normalising: a look-alike is another URI). */
function trustedRedirect(client: OidcClient, params: AuthorizeParams): string {
  const uri = params.redirect_uri;
  if (!uri) throw new UntrustedRequest('no_redirect_uri', 'redirect_uri is missing.');
  if (!client.redirect_uris.includes(uri)) {
    throw new UntrustedRequest('unregistered_redirect_uri', 'redirect_uri is not registered for this client.');
  }
  return uri;
}

// ---------------------------------------------------------------- after: refusals go back to the client

type Refuse = (code: AuthorizeErrorCode, message: string) => never;

function checkResponseType(params: AuthorizeParams, refuse: Refuse): void {
  if (params.response_type === undefined) refuse('invalid_request', 'response_type is missing: use code.');
  if (params.response_type !== 'code') {
    refuse('unsupported_response_type', 'Only response_type=code is supported (no implicit, no hybrid).');
  }
}

function checkPushed(client: OidcClient, fromPar: boolean, mode: PushedMode, refuse: Refuse): void {
  if (client.require_pushed_authorization_requests && !fromPar && mode !== 'push') {
    refuse('invalid_request', 'This client must push its authorization requests (POST /oauth/par) first.');
  }
}

function checkUnsupported(params: AuthorizeParams, refuse: Refuse): void {
  if (params.request !== undefined) refuse('request_not_supported', 'Request objects are not supported.');
  if (params.registration !== undefined) refuse('registration_not_supported', 'Registration is not supported.');
  if (params.response_mode !== undefined && params.response_mode !== 'query') {
    refuse('invalid_request', 'Only response_mode=query is supported.');
  }
}

/** RFC 6749 §3.3: space-separated tokens of printable ASCII without `"` and `\`. */
const SCOPE_SYNTAX = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/;

/** The known scopes asked for (unknown ones are ignored, not refused); `openid` is required. */
function scopeOf(params: AuthorizeParams, refuse: Refuse): string {
  const scope = params.scope ?? '';
  if (!SCOPE_SYNTAX.test(scope) || !scope.split(' ').includes('openid')) {
    refuse('invalid_scope', 'scope must include openid.');
  }
  const asked = new Set(scope.split(' '));
  return SCOPES.filter((s) => asked.has(s)).join(' ');
}

/** RFC 7636 §4.2: the S256 challenge is 32 bytes in base64url. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

function challengeOf(params: AuthorizeParams, refuse: Refuse): string {
  if (params.code_challenge === undefined) refuse('invalid_request', 'code_challenge is required (PKCE, S256).');
  if (params.code_challenge_method !== 'S256') {
    refuse('invalid_request', 'code_challenge_method must be S256 (plain is not accepted).');
  }
  if (!S256_CHALLENGE.test(params.code_challenge ?? '')) {
    refuse('invalid_request', 'code_challenge must be 43 base64url characters (S256).');
  }
  return params.code_challenge!;
}

const PROMPTS = ['none', 'login', 'consent'];

/** `prompt`: none alone, or login and consent. */
function promptOf(params: AuthorizeParams, refuse: Refuse): { none: boolean; prompt: 'login' | 'consent' | null } {
  if (params.prompt === undefined) return { none: false, prompt: null };
  const values = params.prompt.split(' ');
  if (values.some((p) => !PROMPTS.includes(p))) refuse('invalid_request', 'prompt must be none, login or consent.');
  if (values.includes('none') && values.length > 1) refuse('invalid_request', 'prompt=none stands alone.');
  return {
    none: values.includes('none'),
    prompt: values.includes('login') ? 'login' : values.includes('consent') ? 'consent' : null,
  };
}

/** RFC 9449 §10: a JWK SHA-256 thumbprint is 32 bytes in base64url. */
const JKT = /^[A-Za-z0-9_-]{43}$/;

function dpopJktOf(params: AuthorizeParams, refuse: Refuse): string | null {
  if (params.dpop_jkt === undefined) return null;
  if (!JKT.test(params.dpop_jkt))
    refuse('invalid_request', 'dpop_jkt must be a JWK SHA-256 thumbprint (43 base64url characters).');
  return params.dpop_jkt;
}

function maxAgeOf(params: AuthorizeParams, refuse: Refuse): number | null {
  if (params.max_age === undefined) return null;
  if (!/^\d{1,10}$/.test(params.max_age)) refuse('invalid_request', 'max_age must be a whole number of seconds.');
  return Number(params.max_age);
}

/**
 * Runs the chain. Throws `UntrustedRequest` or `AuthorizeRefusal`; a misconfigured
 * `OIDC_CLIENTS` throws its `ConfigError`.
 */
export async function checkAuthorizeRequest(
  c: Context<AppEnv>,
  query: AuthorizeParams,
  mode: PushedMode,
): Promise<CheckedRequest> {
  const client = clientOf(c, query);
  const { params, pushed } = await pushedParams(c, client, query, mode);
  const redirect_uri = trustedRedirect(client, params);
  const state = params.state ?? null;
  const refuse: Refuse = (code, message) => {
    throw new AuthorizeRefusal(code, message, { redirect_uri, state });
  };
  checkResponseType(params, refuse);
  checkPushed(client, pushed !== null, mode, refuse);
  checkUnsupported(params, refuse);
  const scope = scopeOf(params, refuse);
  const code_challenge = challengeOf(params, refuse);
  const { none, prompt } = promptOf(params, refuse);
  const max_age = maxAgeOf(params, refuse);
  const dpop_jkt = dpopJktOf(params, refuse);
  return {
    client,
    request: {
      client_id: client.client_id,
      redirect_uri,
      scope,
      state,
      nonce: params.nonce ?? null,
      code_challenge,
      max_age,
      prompt,
      iat: Math.floor(Date.now() / 1000),
      ...(dpop_jkt ? { dpop_jkt } : {}),
    },
    promptNone: none,
    pushed,
  };
}
