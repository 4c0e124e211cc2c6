/**
 * @module
 * The OAuth endpoints' shapes as valibot schemas: the same objects validate each form body
 * (through `form.ts`) and describe the routes in `GET /api/openapi.json`, answers and RFC 6749
 * errors included.
 */
import { resolver } from 'hono-openapi';
import * as v from 'valibot';
import { AssertionBody } from '../passkeys/schemas';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const REFRESH_TOKEN_GRANT = 'refresh_token';
export const AUTHORIZATION_CODE_GRANT = 'authorization_code';

/** The scopes a client may ask for: `openid` brings an id_token and `/oauth/userinfo`. */
export const SCOPES = ['openid', 'profile', 'offline_access'] as const;

/** The longest value of any one parameter. */
export const MAX_PARAM_LENGTH = 1024;

/** RFC 6749 §3.3: space-separated tokens of printable ASCII without `"` and `\`. */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/;

/** A form object whose missing parameters say so in words. */
const form = <T extends v.ObjectEntries>(entries: T) =>
  v.object(entries, (issue) => {
    const key = issue.expected?.startsWith('"') ? issue.expected.slice(1, -1) : null;
    return key ? `\`${key}\` is required.` : 'The body must be a form.';
  });

const param = (name: string) =>
  v.pipe(
    v.string(`\`${name}\` is required.`),
    v.maxLength(MAX_PARAM_LENGTH, `\`${name}\` is longer than ${MAX_PARAM_LENGTH} characters.`),
  );

// ---------------------------------------------------------------- requests

export const DeviceAuthorizationForm = form({
  client_id: v.pipe(param('client_id'), v.description('A client id listed in `OAUTH_CLIENTS`.')),
  scope: v.optional(
    v.pipe(
      param('scope'),
      v.regex(SCOPE, '`scope` is malformed (RFC 6749 §3.3).'),
      v.description(
        '`openid` adds an id_token to the token answer and opens `/oauth/userinfo`; `profile` and `offline_access` are granted to every client (a refresh token is always issued).',
      ),
    ),
  ),
});

/** The client's secret in the form (`client_secret_post`), for the endpoints where a client authenticates. */
const clientSecret = v.optional(
  v.pipe(
    param('client_secret'),
    v.description(
      '`client_secret_post` clients only; `client_secret_basic` ones use the Authorization header (HTTP Basic).',
    ),
  ),
);

export const TokenForm = form({
  grant_type: v.picklist(
    [AUTHORIZATION_CODE_GRANT, DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT],
    `Only ${AUTHORIZATION_CODE_GRANT}, ${DEVICE_CODE_GRANT} and ${REFRESH_TOKEN_GRANT} are supported here.`,
  ),
  code: v.optional(
    v.pipe(param('code'), v.description('The authorization code grant: the code the authorize redirect carried.')),
  ),
  redirect_uri: v.optional(
    v.pipe(param('redirect_uri'), v.description('The authorization code grant: the authorize request’s redirect_uri.')),
  ),
  code_verifier: v.optional(
    v.pipe(param('code_verifier'), v.description('The authorization code grant: the PKCE verifier (S256).')),
  ),
  client_secret: clientSecret,
  device_code: v.optional(
    v.pipe(
      param('device_code'),
      v.description('The device code grant: the `device_code` of the device authorization.'),
    ),
  ),
  refresh_token: v.optional(
    v.pipe(param('refresh_token'), v.description('The refresh token grant: the refresh token to rotate.')),
  ),
  client_id: v.optional(
    v.pipe(
      param('client_id'),
      v.description(
        'The client the code or token was issued to: required for the device code, and for a device-flow client’s refresh.',
      ),
    ),
  ),
  scope: v.optional(
    v.pipe(
      param('scope'),
      v.description('Accepted on a refresh and ignored: a refresh keeps the scope it was granted.'),
    ),
  ),
});

/** RFC 7009 §2.1 and RFC 7662 §2.1: the token, and a hint of its type. */
const tokenParams = {
  token: v.pipe(param('token'), v.description('An access token or a refresh token.')),
  token_type_hint: v.optional(
    v.pipe(
      param('token_type_hint'),
      v.description('`access_token` or `refresh_token`; the server finds out either way.'),
    ),
  ),
};

export const RevokeForm = form({
  ...tokenParams,
  client_id: v.optional(
    v.pipe(
      param('client_id'),
      v.description(
        'A client revoking its own token: it may revoke only its own (an OpenID Connect client authenticates).',
      ),
    ),
  ),
  client_secret: clientSecret,
});

/** The longest `state` and `nonce`: long enough for what frameworks put there, short enough for the page's 8 KB bodies. */
export const MAX_STATE_LENGTH = 2048;

const authorizeParam = (name: string, description: string, max = MAX_PARAM_LENGTH) =>
  v.optional(
    v.pipe(
      v.string(`\`${name}\` must be given once, as text.`),
      v.maxLength(max, `\`${name}\` is longer than ${max} characters.`),
      v.description(description),
    ),
  );

/**
 * The authorization request's parameters (OpenID Connect Core §3.1.2.1, RFC 7636, RFC 9126),
 * each optional here: `authorize-request.ts` checks them in order, and says which is wrong
 * where the client can hear it. Parameters not listed are ignored.
 */
const authorizeEntries = {
  response_type: authorizeParam('response_type', '`code`, the only one.'),
  client_id: authorizeParam('client_id', 'A client of `OIDC_CLIENTS`.'),
  redirect_uri: authorizeParam('redirect_uri', 'One of the client’s `redirect_uris`, exactly.'),
  scope: authorizeParam('scope', '`openid` required; `profile`, `offline_access`; others are ignored.'),
  state: authorizeParam('state', 'Echoed to the redirect URI.', MAX_STATE_LENGTH),
  nonce: authorizeParam('nonce', 'Put into the id_token.', MAX_STATE_LENGTH),
  code_challenge: authorizeParam('code_challenge', 'The PKCE challenge: required.'),
  code_challenge_method: authorizeParam('code_challenge_method', '`S256` (required; `plain` is refused).'),
  prompt: authorizeParam('prompt', '`none`, `login` or `consent`.'),
  max_age: authorizeParam('max_age', 'Seconds: an older sign-in asks for a new scan.'),
  login_hint: authorizeParam('login_hint', 'Accepted and ignored: the phone says who signs in.'),
  ui_locales: authorizeParam('ui_locales', 'The page’s language (`zh-CN`, `en`).'),
  request_uri: authorizeParam('request_uri', 'From `POST /oauth/par`: then only `client_id` is needed beside it.'),
  response_mode: authorizeParam('response_mode', '`query`, the only one.'),
  dpop_jkt: authorizeParam(
    'dpop_jkt',
    'RFC 9449 §10: the JWK SHA-256 thumbprint of the client’s DPoP key; the code is then exchanged only with a proof of that key.',
  ),
  request: authorizeParam('request', 'Refused: request objects are not supported.', 8192),
  registration: authorizeParam('registration', 'Refused: dynamic registration is not supported.'),
};

export const AuthorizeParams = v.object(authorizeEntries);

/**
 * `GET|POST /oauth/end_session` (RP-Initiated Logout 1.0 §2), each optional; `confirm` is the
 * sign-out question's own answer (a POST from its page). Parameters not listed are ignored.
 */
export const EndSessionParams = v.object({
  id_token_hint: authorizeParam(
    'id_token_hint',
    'An id_token this server issued to the client (an expired one will do): its session is signed out without a question.',
    8192,
  ),
  post_logout_redirect_uri: authorizeParam(
    'post_logout_redirect_uri',
    'One of the client’s `post_logout_redirect_uris`, exactly: where the browser goes once signed out.',
  ),
  state: authorizeParam('state', 'Echoed to the post_logout_redirect_uri.', MAX_STATE_LENGTH),
  client_id: authorizeParam('client_id', 'A client of `OIDC_CLIENTS` (the hint’s audience when it is left out).'),
  ui_locales: authorizeParam('ui_locales', 'The pages’ language (`zh-CN`, `en`).'),
  logout_hint: authorizeParam('logout_hint', 'Accepted and ignored.'),
  confirm: authorizeParam('confirm', 'The sign-out question’s answer (sent by its own page only).', 4096),
});

/** `POST /oauth/par`: the authorize parameters (no `request_uri`), with the client's authentication. */
export const ParForm = form({ ...authorizeEntries, client_secret: clientSecret });

/** The page's `authorization` (`POST /api/authorize/qrcode`, `/continue`, `/cancel`). */
export const AuthorizationBody = v.object(
  {
    authorization: v.pipe(
      v.string('`authorization` is required.'),
      v.maxLength(8000, '`authorization` is too long.'),
      v.description('What `POST /api/authorize` answered.'),
    ),
  },
  '`authorization` is required.',
);

/** `POST /api/authorize/passkey`: the page's `authorization` and a passkey's assertion. */
export const PasskeyAuthorizationBody = v.object(
  { ...AuthorizationBody.entries, assertion: AssertionBody },
  '`authorization` and `assertion` are required.',
);

export const IntrospectForm = form(tokenParams);

// ---------------------------------------------------------------- answers (documentation)

const AUTH_METHOD = v.picklist(['client_secret_basic', 'client_secret_post', 'none']);

export const MetadataAnswer = v.object({
  issuer: v.string(),
  authorization_endpoint: v.string(),
  device_authorization_endpoint: v.string(),
  token_endpoint: v.string(),
  pushed_authorization_request_endpoint: v.string(),
  userinfo_endpoint: v.string(),
  revocation_endpoint: v.string(),
  introspection_endpoint: v.string(),
  end_session_endpoint: v.string(),
  jwks_uri: v.string(),
  grant_types_supported: v.array(v.picklist([AUTHORIZATION_CODE_GRANT, DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT])),
  response_types_supported: v.array(v.literal('code')),
  response_modes_supported: v.array(v.literal('query')),
  code_challenge_methods_supported: v.array(v.literal('S256')),
  dpop_signing_alg_values_supported: v.array(v.picklist(['ES256', 'EdDSA', 'Ed25519'])),
  scopes_supported: v.array(v.picklist(SCOPES)),
  subject_types_supported: v.array(v.literal('public')),
  id_token_signing_alg_values_supported: v.pipe(
    v.array(v.string()),
    v.description('RS256 first (OpenID Connect Core §15.1), then the algorithms of the keys in use.'),
  ),
  token_endpoint_auth_methods_supported: v.array(AUTH_METHOD),
  revocation_endpoint_auth_methods_supported: v.array(AUTH_METHOD),
  introspection_endpoint_auth_methods_supported: v.array(v.literal('client_secret_basic')),
  claims_supported: v.array(v.string()),
  prompt_values_supported: v.array(v.picklist(['none', 'login', 'consent'])),
  request_parameter_supported: v.literal(false),
  request_uri_parameter_supported: v.literal(false),
  require_pushed_authorization_requests: v.literal(false),
  authorization_response_iss_parameter_supported: v.literal(true),
  backchannel_logout_supported: v.literal(true),
  backchannel_logout_session_supported: v.literal(true),
});

export const DeviceAuthorizationAnswer = v.object({
  device_code: v.string(),
  user_code: v.string(),
  verification_uri: v.string(),
  verification_uri_complete: v.string(),
  expires_in: v.number(),
  interval: v.number(),
});

export const TokenAnswer = v.object({
  access_token: v.string(),
  token_type: v.pipe(
    v.picklist(['Bearer', 'DPoP']),
    v.description('`DPoP` when the request carried a DPoP proof (RFC 9449): the access token has `cnf.jkt`.'),
  ),
  expires_in: v.number(),
  refresh_token: v.optional(
    v.pipe(
      v.string(),
      v.description(
        'Rotated by every refresh: the one sent stops working. A code-flow client gets one only with `offline_access`.',
      ),
    ),
  ),
  id_token: v.optional(
    v.pipe(v.string(), v.description('With `openid` in the scope (always for the authorization code grant).')),
  ),
  scope: v.optional(v.pipe(v.string(), v.description('A code-flow client’s granted scope.'))),
});

export const ParAnswer = v.object({
  request_uri: v.pipe(v.string(), v.description('`urn:ietf:params:oauth:request_uri:…`, for one authorize request.')),
  expires_in: v.pipe(v.number(), v.description('Seconds: 60.')),
});

export const IntrospectionAnswer = v.object({
  active: v.boolean(),
  token_type: v.optional(v.picklist(['Bearer', 'DPoP', 'refresh_token'])),
  cnf: v.optional(
    v.pipe(
      v.object({ jkt: v.string() }),
      v.description('The DPoP key (JWK SHA-256 thumbprint) a bound token must be presented with (RFC 9449 §6.2).'),
    ),
  ),
  sub: v.optional(v.string()),
  sid: v.optional(v.string()),
  username: v.optional(v.string()),
  exp: v.optional(v.number()),
  iat: v.optional(v.number()),
  iss: v.optional(v.string()),
  aud: v.optional(v.string()),
  client_id: v.optional(v.string()),
});

export const UserInfoAnswer = v.object({
  sub: v.string(),
  name: v.optional(v.pipe(v.string(), v.description('With `profile` (a device-flow client: always).'))),
  preferred_username: v.optional(v.string()),
});

/** The error codes each status of the OAuth endpoints can carry. */
const ERRORS: Record<number, { codes: string[]; description: string }> = {
  400: {
    codes: [
      'invalid_request',
      'invalid_scope',
      'unsupported_grant_type',
      'invalid_grant',
      'authorization_pending',
      'slow_down',
      'access_denied',
      'expired_token',
    ],
    description: 'Refused (RFC 6749 §5.2, RFC 8628 §3.5); `error` says why.',
  },
  401: {
    codes: ['invalid_client'],
    description: 'The client is not registered, or did not authenticate by its method (`WWW-Authenticate: Basic`).',
  },
  403: { codes: ['forbidden'], description: 'Sent by a browser from a page of another site (see `ALLOWED_ORIGINS`).' },
  405: { codes: ['invalid_request'], description: 'Use POST.' },
  408: { codes: ['invalid_request'], description: 'The body did not arrive within 10 s.' },
  429: { codes: ['rate_limited'], description: 'Too many device authorizations from this IP; see `Retry-After`.' },
  500: { codes: ['server_error'], description: 'The server is misconfigured.' },
  503: { codes: ['temporarily_unavailable'], description: 'A backing service failed; see `Retry-After`.' },
};

const json = (schema: v.GenericSchema) => ({ 'application/json': { schema: resolver(schema) } });

/** An OAuth route's responses: its success, and RFC 6749's error shape for each error status. */
export function oauthAnswers(
  status: number,
  schema: v.GenericSchema | null,
  description: string,
  /** Error statuses, each with the usual codes, or with its own (`[401, { codes, description }]`). */
  errors: (number | [number, { codes: string[]; description: string }])[],
) {
  const out: Record<number, { description: string; content?: ReturnType<typeof json> }> = {
    [status]: schema ? { description, content: json(schema) } : { description },
  };
  for (const error of errors) {
    const [code, own] = typeof error === 'number' ? [error, undefined] : error;
    const { codes, description: words } = own ?? ERRORS[code] ?? { codes: ['invalid_request'], description: 'Error.' };
    out[code] = {
      description: words,
      content: json(v.object({ error: v.picklist(codes), error_description: v.string() })),
    };
  }
  return out;
}
