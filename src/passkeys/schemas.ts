/**
 * @module
 * The passkey endpoints' shapes as valibot schemas: the browser's JSON of a new credential and
 * of an assertion (`PublicKeyCredential.toJSON()`; keys it adds beyond these are ignored), and
 * the answers, so that `GET /api/openapi.json` documents them from the schemas that validate.
 */
import * as v from 'valibot';
import { isoTime, object, text } from '../http/schema-kit';

/** A base64url field of at most `max` characters (empty allowed with `min` 0). */
const base64url = (name: string, max: number, min = 1) =>
  v.pipe(
    v.string(`\`${name}\` must be a base64url string.`),
    v.regex(min === 0 ? /^[A-Za-z0-9_-]*$/ : /^[A-Za-z0-9_-]+$/, `\`${name}\` must be a base64url string.`),
    v.maxLength(max, `\`${name}\` is longer than ${max} characters.`),
  );

/** A credential id: at most 1023 bytes (WebAuthn §5.10.3), so 1364 base64url characters. */
const credentialId = (name: string) => base64url(name, 1364);

const publicKeyType = v.literal('public-key', '`type` must be "public-key".');

/** The keys of a credential's JSON around its `response` (WebAuthn §5.1, `toJSON()`). */
const credential = <T extends v.ObjectEntries>(response: T) => ({
  id: credentialId('id'),
  rawId: v.optional(credentialId('rawId')),
  type: publicKeyType,
  response: object(response, '`response`'),
});

/** `POST /api/passkeys/register`: the browser's JSON of the new credential, and an optional name. */
export const RegistrationBody = object({
  ...credential({
    clientDataJSON: base64url('response.clientDataJSON', 2048),
    attestationObject: base64url('response.attestationObject', 4096),
    transports: v.optional(
      v.pipe(
        v.array(v.pipe(v.string(), v.maxLength(32)), '`response.transports` must be a list of strings.'),
        v.maxLength(8, '`response.transports` lists too many transports.'),
      ),
    ),
  }),
  name: v.optional(
    v.pipe(
      text('name', 64),
      v.transform((s) => s.normalize('NFC').trim()),
      v.minLength(1, '`name` must not be blank.'),
    ),
  ),
});

/** An assertion: the browser's JSON after `navigator.credentials.get`. */
export const AssertionBody = object(
  credential({
    clientDataJSON: base64url('response.clientDataJSON', 2048),
    authenticatorData: base64url('response.authenticatorData', 2048),
    signature: base64url('response.signature', 1024),
    userHandle: v.optional(v.nullable(base64url('response.userHandle', 128, 0))),
  }),
);

/** What a confirm carries when the login asks for a passkey (`CONFIRM_WITH`): an assertion of one of the user's. */
export const StepUpBody = { passkey: v.optional(AssertionBody) };

/** `:id` of `DELETE /api/passkeys/:id`: anything else is no passkey (404). */
export const PasskeyIdParam = object({ id: credentialId('id') });

// ---------------------------------------------------------------- answers (documentation)

const descriptor = v.object({ type: v.literal('public-key'), id: v.string(), transports: v.array(v.string()) });

export const CreationOptionsAnswer = v.object({
  rp: v.object({ id: v.string(), name: v.string() }),
  user: v.object({
    id: v.pipe(v.string(), v.description('The user’s id, UTF-8, base64url (its SHA-256 when longer than 64 bytes).')),
    name: v.string(),
    displayName: v.string(),
  }),
  challenge: v.string(),
  pubKeyCredParams: v.array(v.object({ type: v.literal('public-key'), alg: v.number() })),
  timeout: v.number(),
  excludeCredentials: v.array(descriptor),
  authenticatorSelection: v.object({
    residentKey: v.literal('required'),
    requireResidentKey: v.boolean(),
    userVerification: v.literal('required'),
  }),
  attestation: v.literal('none'),
  extensions: v.object({ credProps: v.boolean() }),
});

export const RequestOptionsAnswer = v.object({
  challenge: v.string(),
  rpId: v.string(),
  timeout: v.number(),
  userVerification: v.literal('required'),
  allowCredentials: v.optional(v.array(descriptor)),
});

export const CreatedPasskeyAnswer = v.object({ id: v.string(), name: v.string(), created_at: isoTime });

export const PasskeyAnswer = v.object({
  id: v.string(),
  name: v.string(),
  created_at: isoTime,
  last_used_at: v.nullable(isoTime),
});
