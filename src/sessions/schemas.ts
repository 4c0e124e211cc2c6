/**
 * @module
 * The shapes of password sign-in, the signed-in user and linked devices as valibot schemas,
 * validating requests and describing answers in `GET /api/openapi.json`. `Tokens` is what every
 * sign-in answers, here and in the QR login's status.
 */
import * as v from 'valibot';
import { isoTime, object, text } from '../http/schema-kit';

export const LoginBody = object({
  username: v.pipe(
    text('username', 64),
    v.transform((s) => s.normalize('NFC')),
  ),
  password: text('password', 256),
});

export const SidParam = object({ sid: v.pipe(v.string(), v.maxLength(64)) });

export const UserAnswer = v.object({ id: v.string(), username: v.string(), display_name: v.string() });

/** What every login answers: an access token, its lifetime in seconds, and a refresh token. */
export const Tokens = {
  token: v.pipe(v.string(), v.description('The access token: a JWT, valid `expires_in` seconds.')),
  refresh_token: v.pipe(
    v.string(),
    v.description('Opaque; `POST /oauth/token` with `grant_type=refresh_token` rotates it. Keep it out of pages.'),
  ),
  expires_in: v.pipe(v.number(), v.description('The access token’s lifetime in seconds.')),
};

export const LoginAnswer = v.object({ ...Tokens, user: UserAnswer });

export const SessionAnswer = v.object({
  sid: v.string(),
  created_at: isoTime,
  last_used_at: isoTime,
  via: v.picklist(['password', 'passkey', 'site', 'qrcode', 'device', 'oidc']),
  user_agent: v.string(),
  ip: v.string(),
  place: v.nullable(v.string()),
  current: v.boolean(),
  clients: v.optional(
    v.pipe(
      v.array(v.object({ client_id: v.string(), client_name: v.string() })),
      v.description(
        '`via: "oidc"`, a browser signed in through `/oauth/authorize`: the sites it signed in to. Signing it out ' +
          'signs them out. `via: "device"`: the device-flow client, by its registered name (`OAUTH_CLIENTS` as ' +
          '`id=Name`; else its id).',
      ),
    ),
  ),
});
