/**
 * @module
 * Passkeys in the browser, for the phone pages and the element: whether this browser can use
 * them, the two WebAuthn ceremonies on the Worker's JSON options (with `PublicKeyCredential`'s
 * own JSON helpers, or the same by hand where a browser lacks them), and what a failed ceremony
 * means, as one word that each page puts into a sentence. No CDN, no library.
 */

/**
 * Whether this page can use the passkeys of the relying party `rpId` (the server's
 * `passkey_rp_id`): a browser with WebAuthn, a secure context, and a page whose host is the RP ID
 * or under it, never an IP address (browsers refuse those as RP IDs). Where it cannot, the pages
 * offer no passkey button that could only fail.
 * @param {string | null} rpId
 */
export function passkeysUsable(rpId) {
  if (!rpId || typeof PublicKeyCredential !== 'function' || !globalThis.isSecureContext) return false;
  const host = location.hostname;
  if (/^[\d.]+$/.test(host) || host.includes(':') || host.startsWith('[')) return false;
  return host === rpId || host.endsWith(`.${rpId}`);
}

/**
 * base64url text as bytes.
 * @param {string} text
 */
function bytes(text) {
  const plain = atob(
    text
      .replace(/-/g, '+')
      .replace(/_/g, '/')
      .padEnd(Math.ceil(text.length / 4) * 4, '='),
  );
  return Uint8Array.from(plain, (c) => c.charCodeAt(0));
}

/**
 * Bytes as base64url text.
 * @param {ArrayBuffer | null} buffer
 */
function base64url(buffer) {
  if (!buffer) return null;
  let plain = '';
  for (const byte of new Uint8Array(buffer)) plain += String.fromCharCode(byte);
  return btoa(plain).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * @param {{ id: string, type: string, transports?: string[] }[] | undefined} list
 * @returns {PublicKeyCredentialDescriptor[] | undefined}
 */
const descriptors = (list) =>
  list?.map((d) => ({
    type: /** @type {PublicKeyCredentialType} */ (d.type),
    id: bytes(d.id),
    transports: /** @type {AuthenticatorTransport[]} */ (d.transports ?? []),
  }));

/**
 * The Worker's request options (JSON) as `navigator.credentials.get` takes them.
 * @param {PublicKeyCredentialRequestOptionsJSON} json
 * @returns {PublicKeyCredentialRequestOptions}
 */
function requestOptions(json) {
  if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function') {
    return PublicKeyCredential.parseRequestOptionsFromJSON(json);
  }
  return /** @type {PublicKeyCredentialRequestOptions} */ ({
    ...json,
    challenge: bytes(json.challenge),
    allowCredentials: descriptors(json.allowCredentials),
  });
}

/**
 * The Worker's creation options (JSON) as `navigator.credentials.create` takes them.
 * @param {PublicKeyCredentialCreationOptionsJSON} json
 * @returns {PublicKeyCredentialCreationOptions}
 */
function creationOptions(json) {
  if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function') {
    return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  }
  return /** @type {PublicKeyCredentialCreationOptions} */ ({
    ...json,
    challenge: bytes(json.challenge),
    user: { ...json.user, id: bytes(json.user.id) },
    excludeCredentials: descriptors(json.excludeCredentials),
  });
}

/**
 * A credential as the Worker reads it (`PublicKeyCredential.toJSON()`, or the same by hand).
 * @param {PublicKeyCredential} credential
 * @returns {any}
 */
function credentialJson(credential) {
  if (typeof credential.toJSON === 'function') return credential.toJSON();
  const r = /** @type {any} */ (credential.response);
  const response =
    'attestationObject' in r
      ? {
          clientDataJSON: base64url(r.clientDataJSON),
          attestationObject: base64url(r.attestationObject),
          transports: typeof r.getTransports === 'function' ? r.getTransports() : [],
        }
      : {
          clientDataJSON: base64url(r.clientDataJSON),
          authenticatorData: base64url(r.authenticatorData),
          signature: base64url(r.signature),
          userHandle: base64url(r.userHandle),
        };
  return { id: credential.id, rawId: base64url(credential.rawId), type: credential.type, response };
}

/**
 * `navigator.credentials.get` for the Worker's request options; the assertion as JSON.
 * `hints: ["hybrid"]` asks the browser for a passkey on a phone nearby (it draws its own QR).
 * @param {any} options the Worker's request options
 * @param {{ hints?: string[], signal?: AbortSignal }} [more]
 */
export async function usePasskey(options, { hints, signal } = {}) {
  const publicKey = requestOptions(hints ? { ...options, hints } : options);
  const credential = await navigator.credentials.get({ publicKey, signal });
  if (!credential) throw new DOMException('No passkey was chosen.', 'NotAllowedError');
  return credentialJson(/** @type {PublicKeyCredential} */ (credential));
}

/**
 * `navigator.credentials.create` for the Worker's creation options; the new credential as JSON.
 * @param {any} options the Worker's creation options
 */
export async function makePasskey(options) {
  const credential = await navigator.credentials.create({ publicKey: creationOptions(options) });
  if (!credential) throw new DOMException('No passkey was made.', 'NotAllowedError');
  return credentialJson(/** @type {PublicKeyCredential} */ (credential));
}

/**
 * What a failed ceremony means: the user cancelled it or let it time out (or no passkey of theirs
 * was there: browsers say the same, on purpose), this device already has this passkey, passkeys
 * cannot be used here (no secure context, an address outside the RP ID), or anything else.
 * @typedef {'cancelled' | 'exists' | 'unavailable' | 'failed'} CeremonyProblem
 * @param {unknown} err
 * @returns {CeremonyProblem}
 */
export function ceremonyProblem(err) {
  const name = err instanceof DOMException ? err.name : '';
  if (name === 'NotAllowedError' || name === 'AbortError') return 'cancelled';
  if (name === 'InvalidStateError') return 'exists';
  if (name === 'SecurityError' || name === 'NotSupportedError') return 'unavailable';
  return 'failed';
}
