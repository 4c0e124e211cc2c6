/**
 * @module
 * The API's shapes as valibot schemas: the same objects validate each request (through
 * `validate.ts`) and describe it in `GET /api/openapi.json` (through hono-openapi), so the
 * document can never drift from what the Worker accepts. Answers are described here too.
 */
import * as v from 'valibot';
import { STATUSES, STEP_UP_REASONS } from './login/state';
import { RequestOptionsAnswer, StepUpBody } from './passkeys/schemas';
import { isoTime, object, text } from './schema-kit';

export { isoTime, object, text };

/** The largest request body the API reads. */
export const MAX_BODY_BYTES = 8 * 1024;
/** The largest value of any single request header. */
export const MAX_HEADER_BYTES = 8 * 1024;
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

export const LoginBody = object({
  username: v.pipe(
    text('username', 64),
    v.transform((s) => s.normalize('NFC')),
  ),
  password: text('password', 256),
});

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

export const SidParam = object({ sid: v.pipe(v.string(), v.maxLength(64)) });

// ---------------------------------------------------------------- answers (documentation)

const status = v.picklist(STATUSES);

export const ErrorAnswer = v.object({
  error: v.string(),
  message: v.string(),
});

export const UserAnswer = v.object({ id: v.string(), username: v.string(), display_name: v.string() });

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

/** What every login answers: an access token, its lifetime in seconds, and a refresh token. */
const Tokens = {
  token: v.pipe(v.string(), v.description('The access token: a JWT, valid `expires_in` seconds.')),
  refresh_token: v.pipe(
    v.string(),
    v.description('Opaque; `POST /oauth/token` with `grant_type=refresh_token` rotates it. Keep it out of pages.'),
  ),
  expires_in: v.pipe(v.number(), v.description('The access token’s lifetime in seconds.')),
};

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
  user: v.optional(UserAnswer),
});

export const UserCodeAnswer = v.object({ user_code: v.string(), verification_url: v.string() });

export const PhoneAnswer = v.object({
  status,
  version: v.number(),
  expires_at: isoTime,
  requester: v.optional(RequesterAnswer),
  match_choices: v.optional(v.array(v.string())),
  client_id: v.optional(v.string()),
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

export const LoginAnswer = v.object({ ...Tokens, user: UserAnswer });

export const ResolveAnswer = v.object({ qrcode_id: v.string() });

export const DeviceAnswer = v.object({
  sid: v.string(),
  created_at: isoTime,
  last_used_at: isoTime,
  via: v.picklist(['password', 'passkey', 'site', 'qrcode', 'device']),
  user_agent: v.string(),
  ip: v.string(),
  place: v.nullable(v.string()),
  current: v.boolean(),
});

export const ConfigAnswer = v.object({
  development: v.boolean(),
  match_code: v.boolean(),
  site_name: v.string(),
  identity: v.picklist(['accounts', 'jwt']),
  identity_login_url: v.nullable(v.string()),
  site_accent: v.pipe(
    v.nullable(v.object({ color: v.string(), text: v.picklist(['#000000', '#ffffff']) })),
    v.description(
      '`SITE_ACCENT` (`#rrggbb`, lower case) and the colour of text on it; null when unset or refused (the pages keep their own).',
    ),
  ),
  site_logo: v.pipe(
    v.nullable(v.string()),
    v.description('`SITE_LOGO`: a path of this Worker or an image `data:` URL; null when unset or refused.'),
  ),
  passkey_rp_id: v.pipe(
    v.nullable(v.string()),
    v.description(
      'The passkeys’ RP ID (`PASSKEY_RP_ID`, default the public host): pages offer passkeys only on a host under it. Null when it is unusable.',
    ),
  ),
});

export const OriginCheckAnswer = v.object({
  origin: v.pipe(v.nullable(v.string()), v.description("The request's `Origin` header, null without one.")),
  allowed: v.pipe(v.boolean(), v.description("Whether a page of that origin may call this Worker's API.")),
});

export type Input<T extends v.GenericSchema> = v.InferOutput<T>;
