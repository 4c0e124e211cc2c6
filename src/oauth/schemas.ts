/**
 * @module
 * The OAuth endpoints' shapes as valibot schemas: the same objects validate each form body
 * (through `form.ts`) and describe the routes in `GET /api/openapi.json`, answers and RFC 6749
 * errors included.
 */
import { resolver } from 'hono-openapi';
import * as v from 'valibot';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

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
      v.description('Accepted and ignored: the token signs the user in, as a QR login does.'),
    ),
  ),
});

export const TokenForm = form({
  grant_type: v.picklist([DEVICE_CODE_GRANT], `Only ${DEVICE_CODE_GRANT} is supported here.`),
  device_code: v.pipe(param('device_code'), v.description('The `device_code` of the device authorization.')),
  client_id: v.pipe(param('client_id'), v.description('The client the device code was issued to.')),
});

// ---------------------------------------------------------------- answers (documentation)

export const MetadataAnswer = v.object({
  issuer: v.string(),
  device_authorization_endpoint: v.string(),
  token_endpoint: v.string(),
  jwks_uri: v.string(),
  grant_types_supported: v.array(v.literal(DEVICE_CODE_GRANT)),
  response_types_supported: v.array(v.string()),
  token_endpoint_auth_methods_supported: v.array(v.literal('none')),
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
  token_type: v.literal('Bearer'),
  expires_in: v.number(),
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
  401: { codes: ['invalid_client'], description: 'The `client_id` is not in `OAUTH_CLIENTS`.' },
  403: { codes: ['forbidden'], description: 'Sent by a browser from a page of another site (see `ALLOWED_ORIGINS`).' },
  405: { codes: ['invalid_request'], description: 'Use POST.' },
  408: { codes: ['invalid_request'], description: 'The body did not arrive within 10 s.' },
  429: { codes: ['rate_limited'], description: 'Too many device authorizations from this IP; see `Retry-After`.' },
  500: { codes: ['server_error'], description: 'The server is misconfigured.' },
  503: { codes: ['temporarily_unavailable'], description: 'A backing service failed; see `Retry-After`.' },
};

const json = (schema: v.GenericSchema) => ({ 'application/json': { schema: resolver(schema) } });

/** An OAuth route's responses: its success, and RFC 6749's error shape for each error status. */
export function oauthAnswers(status: number, schema: v.GenericSchema, description: string, errors: number[]) {
  const out: Record<number, { description: string; content: ReturnType<typeof json> }> = {
    [status]: { description, content: json(schema) },
  };
  for (const code of errors) {
    const { codes, description: words } = ERRORS[code] ?? { codes: ['invalid_request'], description: 'Error.' };
    out[code] = {
      description: words,
      content: json(v.object({ error: v.picklist(codes), error_description: v.string() })),
    };
  }
  return out;
}
