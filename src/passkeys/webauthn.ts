/**
 * @module
 * The WebAuthn checks of a registration and of an assertion (W3C Web Authentication Level 3,
 * §7.1 and §7.2), on the JSON that `PublicKeyCredential.toJSON()` gives. Parsing (CBOR, COSE
 * keys, authenticator data) is `@oslojs/webauthn`'s; signatures are verified with WebCrypto. No
 * storage here: the challenge and the stored counter are the caller's (see `store.ts`), so each
 * check here is pure and the state changes only after all of them held.
 *
 * Attestation: we ask for `none` and trust no attestation statement, whatever its format: a
 * passkey is bound to its user by the signed-in session that registers it, not by its maker.
 */
import { decodeCBORToNativeValueNoLeftoverBytes } from '@oslojs/cbor';
import {
  type AuthenticatorData,
  ClientDataType,
  type COSEPublicKey,
  coseAlgorithmES256,
  coseAlgorithmRS256,
  coseEllipticCurveP256,
  parseAuthenticatorData,
  parseClientDataJSON,
} from '@oslojs/webauthn';
import { base64url, fromBase64url } from '../http/crypto';
import type { RelyingParty } from './relying-party';

/**
 * Why a ceremony does not hold: `malformed` when its JSON cannot be read at all (400
 * `invalid_request`), `refused` when it reads but proves nothing (403 `step_up_failed`, 401 for a
 * sign-in, 400 for a registration).
 */
export class CeremonyError extends Error {
  override readonly name = 'CeremonyError';
  constructor(
    readonly kind: 'malformed' | 'refused',
    message: string,
  ) {
    super(message);
  }
}

const malformed = (message: string) => new CeremonyError('malformed', message);
const refused = (message: string) => new CeremonyError('refused', message);

/** The browser's JSON of a new credential (`PublicKeyCredential.toJSON()` after `create`). */
export interface RegistrationJson {
  id: string;
  rawId?: string;
  response: { clientDataJSON: string; attestationObject: string; transports?: string[] };
}

/** The browser's JSON of an assertion (`PublicKeyCredential.toJSON()` after `get`). */
export interface AssertionJson {
  id: string;
  rawId?: string;
  response: { clientDataJSON: string; authenticatorData: string; signature: string; userHandle?: string | null };
}

/** The COSE algorithms we verify: ES256 (every platform authenticator) and RS256 (Windows Hello). */
export const ALGORITHMS = [coseAlgorithmES256, coseAlgorithmRS256] as const;

const KEY_PARAMS: Record<number, { key: SubtleCryptoImportKeyAlgorithm; sign: SubtleCryptoSignAlgorithm }> = {
  [coseAlgorithmES256]: { key: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } },
  [coseAlgorithmRS256]: { key: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, sign: { name: 'RSASSA-PKCS1-v1_5' } },
};

/** The public part of a stored passkey that an assertion is checked against. */
export interface PasskeyKey {
  /** The public key as a JWK (JSON text). */
  public_key: string;
  /** Its COSE algorithm. */
  algorithm: number;
  counter: number;
  backup_eligible: boolean;
}

/** A registration that held: what to store, and the challenge it answered (the store checks it). */
export interface NewPasskey {
  id: string;
  challenge: string;
  public_key: string;
  algorithm: number;
  counter: number;
  backup_eligible: boolean;
  backed_up: boolean;
  transports: string[];
}

/** An assertion as read, before anything is checked. */
export interface Assertion {
  id: string;
  /** The challenge it answers (base64url), for the store to check. */
  challenge: string;
  /** The user handle the authenticator stored at registration (base64url; see `userHandleOf`), or null. */
  userHandle: string | null;
  /** Where it was made: the page's origin, and whether that page was a frame of another site. */
  origin: string;
  crossOrigin: boolean | null;
  clientDataJSON: Uint8Array;
  authenticatorData: Uint8Array;
  signature: Uint8Array;
}

/** What an assertion that held changes: the stored counter and backup state. */
export interface PasskeyUse {
  counter: number;
  backed_up: boolean;
}

const encoder = new TextEncoder();

/** Base64url bytes of a field, or a malformed ceremony naming it. */
function bytesOf(text: string, field: string): Uint8Array {
  try {
    if (/^[A-Za-z0-9_-]*$/.test(text)) return fromBase64url(text);
  } catch {}
  throw malformed(`\`${field}\` is not base64url.`);
}

/**
 * The user handle a passkey stores for `userId` (`user.id` at registration, base64url): the id's
 * UTF-8 bytes, or, for an id longer than WebAuthn's 64 bytes (a site's `sub` may be), their
 * SHA-256. A sign-in (our own accounts, whose ids are short) reads the id back from it.
 */
export async function userHandleOf(userId: string): Promise<string> {
  const bytes = encoder.encode(userId);
  return base64url(bytes.byteLength <= 64 ? bytes : await sha256(bytes));
}

/** The user's id a user handle holds, or null when it holds no text. */
export function userIdOf(handle: string): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(fromBase64url(handle)) || null;
  } catch {
    return null;
  }
}

/** `authenticatorData`'s flags beyond the two that oslo reads (§6.1). */
function flagsOf(authData: Uint8Array) {
  const flags = authData[32] ?? 0;
  return { backupEligible: (flags & 0x08) !== 0, backedUp: (flags & 0x10) !== 0 };
}

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, i) => byte === b[i]);
}

/** The client data, checked for the ceremony `type`; its challenge as base64url. */
function clientDataOf(bytes: Uint8Array, type: ClientDataType) {
  let data: ReturnType<typeof parseClientDataJSON>;
  try {
    data = parseClientDataJSON(bytes);
  } catch (err) {
    throw malformed(`\`clientDataJSON\` cannot be read: ${(err as Error).message}`);
  }
  if (data.type !== type) {
    throw refused(type === ClientDataType.Create ? 'This is not a new passkey.' : 'This is not a passkey assertion.');
  }
  return { ...data, challenge: base64url(data.challenge) };
}

/** The checks both ceremonies share (§7.1 steps 9–17, §7.2 steps 13–19): origin, RP ID, presence, verification, backup flags. */
async function checkContext(
  origin: string,
  crossOrigin: boolean | null,
  authData: AuthenticatorData,
  rawAuthData: Uint8Array,
  rp: RelyingParty,
): Promise<void> {
  if (!rp.origins.includes(origin)) {
    throw refused(`The passkey was used on ${origin.slice(0, 100)}, which is not a page of this site.`);
  }
  // A page of ours inside a frame of another site is that site's doing.
  if (crossOrigin === true) throw refused('The passkey was used inside a frame of another site.');
  if (!sameBytes(authData.relyingPartyIdHash, await sha256(encoder.encode(rp.id)))) {
    throw refused(`The passkey belongs to another site than ${rp.id}.`);
  }
  if (!authData.userPresent) throw refused('The authenticator did not see you present.');
  if (!authData.userVerified) {
    throw refused('The authenticator did not verify you (fingerprint, face or PIN): it is required here.');
  }
  const { backupEligible, backedUp } = flagsOf(rawAuthData);
  if (backedUp && !backupEligible) throw refused('The authenticator’s backup flags contradict each other.');
}

/** The passkey's public key as a JWK, from its COSE form (§5.8.5), for one of `ALGORITHMS`. */
function jwkOf(key: COSEPublicKey): { algorithm: number; jwk: JsonWebKey } {
  const toBytes = (value: bigint, length: number) => {
    const out = new Uint8Array(length);
    for (let i = length - 1; i >= 0; i--, value >>= 8n) out[i] = Number(value & 0xffn);
    return out;
  };
  let algorithm: number;
  try {
    algorithm = key.algorithm();
    if (algorithm === coseAlgorithmES256) {
      const { curve, x, y } = key.ec2();
      if (curve === coseEllipticCurveP256) {
        return {
          algorithm,
          jwk: { kty: 'EC', crv: 'P-256', x: base64url(toBytes(x, 32)), y: base64url(toBytes(y, 32)) },
        };
      }
    } else if (algorithm === coseAlgorithmRS256) {
      const { n, e } = key.rsa();
      return { algorithm, jwk: { kty: 'RSA', n: base64url(toBytes(n, 256)), e: base64url(toBytes(e, 3)) } };
    }
  } catch (err) {
    throw malformed(`The passkey's public key cannot be read: ${(err as Error).message}`);
  }
  throw refused('The passkey uses an algorithm this site does not accept (ES256 or RS256).');
}

/**
 * Checks a new credential (§7.1) for `rp`: a `webauthn.create` ceremony on one of its origins,
 * for its RP ID, with the user present and verified, whose credential id is the one the JSON
 * names and whose key is ES256 or RS256. The challenge is returned for the store to take.
 */
export async function verifyRegistration(json: RegistrationJson, rp: RelyingParty): Promise<NewPasskey> {
  if (json.rawId !== undefined && json.rawId !== json.id) throw malformed('`rawId` and `id` differ.');
  const clientData = clientDataOf(bytesOf(json.response.clientDataJSON, 'clientDataJSON'), ClientDataType.Create);
  let object: unknown;
  try {
    object = decodeCBORToNativeValueNoLeftoverBytes(bytesOf(json.response.attestationObject, 'attestationObject'), 4);
  } catch (err) {
    if (err instanceof CeremonyError) throw err;
    throw malformed('`attestationObject` is not CBOR.');
  }
  const { fmt, attStmt, authData: rawAuthData } = (object ?? {}) as Record<string, unknown>;
  if (typeof fmt !== 'string' || typeof attStmt !== 'object' || !(rawAuthData instanceof Uint8Array)) {
    throw malformed('`attestationObject` lacks `fmt`, `attStmt` or `authData`.');
  }
  let authData: AuthenticatorData;
  try {
    authData = parseAuthenticatorData(rawAuthData);
  } catch (err) {
    throw malformed(`The authenticator data cannot be read: ${(err as Error).message}`);
  }
  await checkContext(clientData.origin, clientData.crossOrigin, authData, rawAuthData, rp);
  const credential = authData.credential;
  if (!credential) throw malformed('The authenticator data holds no new credential.');
  if (base64url(credential.id) !== json.id)
    throw refused('The credential id differs from the one the authenticator made.');
  const { algorithm, jwk } = jwkOf(credential.publicKey);
  try {
    // Imported once here so that a key WebCrypto refuses (a point off the curve) is never stored.
    await crypto.subtle.importKey('jwk', jwk, KEY_PARAMS[algorithm]!.key, false, ['verify']);
  } catch {
    throw malformed('The passkey’s public key is not a valid key.');
  }
  const { backupEligible, backedUp } = flagsOf(rawAuthData);
  return {
    id: json.id,
    challenge: clientData.challenge,
    public_key: JSON.stringify(jwk),
    algorithm,
    counter: authData.signatureCounter,
    backup_eligible: backupEligible,
    backed_up: backedUp,
    transports: json.response.transports ?? [],
  };
}

/** Reads an assertion (nothing checked yet); malformed when a field cannot be decoded. */
export function readAssertion(json: AssertionJson): Assertion {
  if (json.rawId !== undefined && json.rawId !== json.id) throw malformed('`rawId` and `id` differ.');
  const clientDataJSON = bytesOf(json.response.clientDataJSON, 'clientDataJSON');
  const clientData = clientDataOf(clientDataJSON, ClientDataType.Get);
  const authenticatorData = bytesOf(json.response.authenticatorData, 'authenticatorData');
  if (authenticatorData.byteLength < 37) throw malformed('`authenticatorData` is too short.');
  const handle = json.response.userHandle ? base64url(bytesOf(json.response.userHandle, 'userHandle')) : null;
  return {
    id: json.id,
    challenge: clientData.challenge,
    userHandle: handle,
    origin: clientData.origin,
    crossOrigin: clientData.crossOrigin,
    clientDataJSON,
    authenticatorData,
    signature: bytesOf(json.response.signature, 'signature'),
  };
}

/**
 * An ASN.1 DER ECDSA signature (§6.5.5) as the 64 bytes WebCrypto verifies: r and s, each
 * left-padded to 32 bytes. DER drops leading zeros (about one signature in 128 has a shorter r
 * or s) and adds one before a high bit: both are undone here. Null for anything else.
 */
export function rawEcdsaSignature(der: Uint8Array): Uint8Array | null {
  if (der.byteLength < 8 || der[0] !== 0x30 || der[1] !== der.byteLength - 2) return null;
  const raw = new Uint8Array(64);
  let at = 2;
  for (const offset of [0, 32]) {
    const length = der[at + 1] ?? 0;
    if (der[at] !== 0x02 || length < 1 || at + 2 + length > der.byteLength) return null;
    let int = der.subarray(at + 2, at + 2 + length);
    while (int.byteLength > 1 && int[0] === 0) int = int.subarray(1);
    if (int.byteLength > 32) return null;
    raw.set(int, offset + 32 - int.byteLength);
    at += 2 + length;
  }
  return at === der.byteLength ? raw : null;
}

/**
 * Checks an assertion (§7.2) against the stored passkey it names, for `rp`: origin, RP ID,
 * presence, verification, backup eligibility as registered, a counter that moved forward
 * (when either is not zero: a cloned authenticator stays behind), and the signature.
 * The challenge is not checked here: the store takes it, after this held.
 */
export async function verifyAssertion(assertion: Assertion, stored: PasskeyKey, rp: RelyingParty): Promise<PasskeyUse> {
  let authData: AuthenticatorData;
  try {
    authData = parseAuthenticatorData(assertion.authenticatorData);
  } catch (err) {
    throw malformed(`The authenticator data cannot be read: ${(err as Error).message}`);
  }
  await checkContext(assertion.origin, assertion.crossOrigin, authData, assertion.authenticatorData, rp);
  const { backupEligible, backedUp } = flagsOf(assertion.authenticatorData);
  if (backupEligible !== stored.backup_eligible)
    throw refused('The passkey’s backup eligibility changed since it was registered.');
  const counter = authData.signatureCounter;
  if ((counter !== 0 || stored.counter !== 0) && counter <= stored.counter) {
    throw refused('The passkey’s signature counter did not move forward: it may have been copied.');
  }
  const params = KEY_PARAMS[stored.algorithm];
  if (!params) throw refused('The passkey uses an algorithm this site does not accept.');
  const key = await crypto.subtle.importKey('jwk', JSON.parse(stored.public_key), params.key, false, ['verify']);
  const signed = new Uint8Array([...assertion.authenticatorData, ...(await sha256(assertion.clientDataJSON))]);
  const signature =
    stored.algorithm === coseAlgorithmES256 ? rawEcdsaSignature(assertion.signature) : assertion.signature;
  if (!signature || !(await crypto.subtle.verify(params.sign, key, signature, signed))) {
    throw refused('The passkey’s signature does not verify.');
  }
  return { counter, backed_up: backedUp };
}
