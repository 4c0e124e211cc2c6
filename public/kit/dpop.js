/**
 * @module
 * The browser's DPoP key (RFC 9449) and the proofs it signs: one ES256 key pair per origin, made
 * with WebCrypto as non-extractable (no script can read the private key, not even this one) and
 * kept in IndexedDB, so that a reload, another tab or a restart of the browser proves the same key
 * its tokens are bound to. A token copied out of the page (localStorage, a log) is then worth
 * nothing elsewhere. Where WebCrypto or IndexedDB is missing (an insecure origin, a private
 * window that refuses storage) there is no key, and logins stay bearer logins, as before.
 */

const DB_NAME = 'qrlogin-dpop';
const STORE = 'keys';
const KEY_NAME = 'es256';

/** @typedef {{ privateKey: CryptoKey, jwk: JsonWebKey }} PageKey */

/** @type {Promise<PageKey | null> | null} */
let pageKey = null;
/** The server's clock minus ours (ms), from answers' `Date`: a proof's `iat` is the server's time. */
let skewMs = 0;
/** The last `DPoP-Nonce` each server gave (RFC 9449 §8), by origin. */
const nonces = new Map();

const encoder = new TextEncoder();

/** @param {Uint8Array} bytes */
const b64url = (bytes) => {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

/** @param {unknown} value */
const part = (value) => b64url(encoder.encode(JSON.stringify(value)));

/** Whether this browser can hold a key here. */
export const dpopUsable = () =>
  typeof isSecureContext === 'boolean' && isSecureContext && !!globalThis.crypto?.subtle && !!globalThis.indexedDB;

/**
 * @template T
 * @param {IDBRequest<T>} req
 * @returns {Promise<T>}
 */
const done = (req) =>
  new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });

/** @returns {Promise<IDBDatabase>} */
function open() {
  const req = indexedDB.open(DB_NAME, 1);
  req.onupgradeneeded = () => req.result.createObjectStore(STORE);
  return done(req);
}

/** The key kept in IndexedDB, made (and kept) the first time. */
async function loadOrMake() {
  const db = await open();
  try {
    const kept = /** @type {CryptoKeyPair | undefined} */ (
      await done(db.transaction(STORE).objectStore(STORE).get(KEY_NAME))
    );
    let pair = kept;
    if (!pair) {
      pair = /** @type {CryptoKeyPair} */ (
        await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])
      );
      // `add`, not `put`: of two tabs making a key at once, the first one kept wins for both.
      try {
        await done(db.transaction(STORE, 'readwrite').objectStore(STORE).add(pair, KEY_NAME));
      } catch {
        pair = /** @type {CryptoKeyPair} */ (await done(db.transaction(STORE).objectStore(STORE).get(KEY_NAME)));
      }
    }
    const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
    return { privateKey: pair.privateKey, jwk: { kty, crv, x, y } };
  } finally {
    db.close();
  }
}

/**
 * This browser's key, or null where it cannot have one.
 * @returns {Promise<PageKey | null>}
 */
export function dpopKey() {
  pageKey ??= dpopUsable() ? loadOrMake().catch(() => null) : Promise.resolve(null);
  return pageKey;
}

/**
 * Learns from an answer: the server's clock (`Date`) and its nonce (`DPoP-Nonce`), if any.
 * @param {string} url
 * @param {Headers} headers
 */
export function heard(url, headers) {
  const date = Date.parse(headers.get('Date') ?? '');
  if (date) skewMs = date - Date.now();
  const nonce = headers.get('DPoP-Nonce');
  if (nonce) nonces.set(new URL(url).origin, nonce);
}

/**
 * A DPoP proof for `method` on `url` (with `accessToken`'s hash as `ath`), signed with this
 * browser's key; null where there is no key.
 * @param {string} method
 * @param {string | URL} url
 * @param {string | null} [accessToken]
 * @returns {Promise<string | null>}
 */
export async function dpopProof(method, url, accessToken) {
  const key = await dpopKey();
  if (!key) return null;
  const at = new URL(url, location.href);
  /** @type {Record<string, unknown>} */
  const claims = {
    htm: method.toUpperCase(),
    htu: `${at.origin}${at.pathname}`,
    iat: Math.floor((Date.now() + skewMs) / 1000),
    jti: crypto.randomUUID(),
  };
  if (accessToken) {
    claims.ath = b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(accessToken))));
  }
  const nonce = nonces.get(at.origin);
  if (nonce) claims.nonce = nonce;
  const input = `${part({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.jwk })}.${part(claims)}`;
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key.privateKey, encoder.encode(input));
  return `${input}.${b64url(new Uint8Array(signature))}`;
}

/**
 * Whether `token` (one of our access tokens) is bound to a key (`cnf.jkt`): then it goes out
 * only as `Authorization: DPoP` with a proof.
 * @param {string | null | undefined} token
 */
export function isBound(token) {
  const claims = token?.split('.')[1];
  if (!claims) return false;
  try {
    const payload = JSON.parse(atob(claims.replace(/-/g, '+').replace(/_/g, '/')));
    return typeof payload?.cnf?.jkt === 'string';
  } catch {
    return false;
  }
}

/**
 * The headers that present `token` for `method` on `url`: `Bearer`, or for a bound token
 * `DPoP` with its proof.
 * @param {string} method
 * @param {string | URL} url
 * @param {string} token
 * @returns {Promise<Record<string, string>>}
 */
export async function authHeaders(method, url, token) {
  if (!isBound(token)) return { Authorization: `Bearer ${token}` };
  const proof = await dpopProof(method, url, token);
  return proof ? { Authorization: `DPoP ${token}`, DPoP: proof } : { Authorization: `DPoP ${token}` };
}
