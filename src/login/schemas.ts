/**
 * @module
 * The QR login's shapes as valibot schemas: the same objects validate each request (through
 * `http/validate.ts`) and describe it in `GET /api/openapi.json` (through hono-openapi), so the
 * document can never drift from what the Worker accepts. Answers are described here too.
 */
import * as v from 'valibot';
import { isoTime, object } from '../http/schema-kit';
import { RequestOptionsAnswer, StepUpBody } from '../passkeys/schemas';
import { Tokens, UserAnswer } from '../sessions/schemas';
import { STATUSES, STEP_UP_REASONS } from './state';

/** The longest `wait` a long-poll may ask for, in seconds. */
export const MAX_WAIT_SECONDS = 30;
export const DEFAULT_WAIT_SECONDS = 25;

// ---------------------------------------------------------------- requests

/** `:id`: a QR id this namespace issued (64 hex digits; `idFromString` has the last word). */
export const QrcodeIdParam = object({
  id: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'This is not a QR code id issued by this service.')),
});

/** `X-Poll-Token`: 32 random bytes, base64url (43 characters). */
export const PollTokenHeader = object(
  {
    'x-poll-token': v.pipe(
      v.string('The X-Poll-Token header is missing.'),
      v.regex(/^[A-Za-z0-9_-]{43}$/, 'The X-Poll-Token header is malformed.'),
    ),
  },
  'The headers',
);

/** `after`: a whole number ≥ 0; `wait`: seconds ≥ 0, fractions allowed, capped at 30. */
export const StatusQuery = object(
  {
    after: v.optional(
      v.pipe(v.string(), v.regex(/^\d{1,15}$/, '`after` must be a whole number of 0 or more.'), v.transform(Number)),
    ),
    wait: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^\d{1,15}(\.\d{1,6})?$/, '`wait` must be a number of seconds, 0 or more.'),
        v.transform((s) => Math.round(Math.min(Number(s), MAX_WAIT_SECONDS) * 1000)),
      ),
    ),
  },
  'The query',
);

/** `POST /api/qrcodes/:id/confirm`: the proofs the login asks for (see `PROOFS` in `login/state.ts`). */
export const ConfirmBody = object({
  match_code: v.optional(
    v.pipe(v.string('`match_code` must be two digits.'), v.regex(/^\d{2}$/, '`match_code` must be two digits.')),
  ),
  ...StepUpBody,
});

export const ResolveBody = object({
  user_code: v.pipe(
    v.string('`user_code` is required and must be a short string.'),
    v.maxLength(32, '`user_code` is required and must be a short string.'),
  ),
});

// ---------------------------------------------------------------- answers (documentation)

const status = v.picklist(STATUSES);

export const RequesterAnswer = v.object({
  user_agent: v.string(),
  ip: v.string(),
  country: v.nullable(v.string()),
  city: v.nullable(v.string()),
  created_at: isoTime,
});

export const CreatedQrAnswer = v.object({
  qrcode_id: v.string(),
  poll_token: v.string(),
  scan_url: v.string(),
  img: v.string(),
  status,
  version: v.number(),
  expires_at: isoTime,
});

export const StatusAnswer = v.object({
  status,
  version: v.number(),
  expires_at: isoTime,
  scanner: v.optional(v.object({ display_name: v.string() })),
  match_code: v.optional(v.string()),
  reason: v.optional(v.picklist(['cancelled', 'match_failed'])),
  token: v.optional(Tokens.token),
  refresh_token: v.optional(Tokens.refresh_token),
  expires_in: v.optional(Tokens.expires_in),
  token_type: v.optional(
    v.pipe(
      v.literal('DPoP'),
      v.description(
        'A login created with a DPoP proof (RFC 9449), or collected with one: its token is bound to that key ' +
          '(`cnf.jkt`); each status poll of a bound login needs a proof of the same key.',
      ),
    ),
  ),
  user: v.optional(UserAnswer),
  redirect_to: v.optional(
    v.pipe(
      v.string(),
      v.description(
        'A login made for an OpenID Connect client (`POST /api/authorize`) carries no token, refresh token nor user: ' +
          'confirmed, `redirect_to` is `<redirect_uri>?code=…&state=…&iss=…` and the answer sets the browser’s single ' +
          'sign-on cookie; cancelled on the phone, it is `<redirect_uri>?error=access_denied&error_description=…&state=…&iss=…`. ' +
          'The page goes there with `location.replace`.',
      ),
    ),
  ),
});

export const UserCodeAnswer = v.object({ user_code: v.string(), verification_url: v.string() });

export const PhoneAnswer = v.object({
  status,
  version: v.number(),
  expires_at: isoTime,
  requester: v.optional(RequesterAnswer),
  match_choices: v.optional(v.array(v.string())),
  client_id: v.optional(
    v.pipe(v.string(), v.description('The device-flow client that asks, or the OpenID Connect client signed in to.')),
  ),
  client_name: v.optional(
    v.pipe(
      v.string(),
      v.description(
        'The client’s registered name: an OpenID Connect client’s (the phone asks “Sign in to <client_name> on a ' +
          'computer?”), or a device-flow client’s (`OAUTH_CLIENTS` as `id=Name`), shown instead of its id.',
      ),
    ),
  ),
  site_name: v.optional(v.string()),
  phone: v.optional(v.object({ ip: v.string(), country: v.nullable(v.string()), city: v.nullable(v.string()) })),
  location_differs: v.optional(v.boolean()),
  typed: v.optional(
    v.pipe(v.literal(true), v.description('The scanner reached this login by typing its code (`/api/codes/resolve`).')),
  ),
  step_up: v.optional(
    v.pipe(
      RequestOptionsAnswer,
      v.description(
        'A passkey is required to confirm (`CONFIRM_WITH`): request options for the user’s passkeys, the challenge bound to this QR.',
      ),
    ),
  ),
  step_up_reason: v.optional(
    v.pipe(
      v.picklist(STEP_UP_REASONS),
      v.description(
        'Why: `always` (`CONFIRM_WITH=passkey`), `location` (the location warning shows), `typed` (the code was typed).',
      ),
    ),
  ),
});

export const ResolveAnswer = v.object({ qrcode_id: v.string() });
