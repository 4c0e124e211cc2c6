/**
 * @module
 * The floor's tokens: EdDSA (Ed25519) JWTs signed and verified with WebCrypto alone, as the
 * app signs them with EdDSA. The key pair is imported once per isolate.
 */

const encoder = new TextEncoder();

/** @param {Uint8Array} bytes */
const base64url = (bytes) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
/** @param {string} text */
const fromBase64url = (text) =>
  Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

export const ISSUER = 'qrcode-login-floor';
export const AUDIENCE = 'qrcode-login';

/** @type {Promise<{ kid: string, signing: CryptoKey, verifying: CryptoKey }> | undefined} */
let keys;

/** @param {{ SIGNING_KEY: string }} env */
function keyPair(env) {
  keys ??= (async () => {
    const { kid, ...jwk } = JSON.parse(env.SIGNING_KEY);
    const { d, ...publicJwk } = jwk;
    return {
      kid,
      signing: await crypto.subtle.importKey('jwk', jwk, { name: 'Ed25519' }, false, ['sign']),
      verifying: await crypto.subtle.importKey('jwk', publicJwk, { name: 'Ed25519' }, false, ['verify']),
    };
  })();
  return keys;
}

/**
 * @param {{ SIGNING_KEY: string }} env
 * @param {Record<string, unknown>} claims
 */
export async function sign(env, claims) {
  const { kid, signing } = await keyPair(env);
  const head = base64url(encoder.encode(JSON.stringify({ alg: 'EdDSA', typ: 'JWT', kid })));
  const body = base64url(encoder.encode(JSON.stringify({ ...claims, iss: ISSUER, aud: AUDIENCE })));
  const signature = await crypto.subtle.sign('Ed25519', signing, encoder.encode(`${head}.${body}`));
  return `${head}.${body}.${base64url(new Uint8Array(signature))}`;
}

/**
 * The claims of a good token (our key, EdDSA, our issuer and audience, not expired), else null.
 * @param {{ SIGNING_KEY: string }} env
 * @param {string} token
 */
export async function verify(env, token) {
  const [head, body, signature, extra] = token.split('.');
  if (!head || !body || !signature || extra !== undefined) return null;
  try {
    const { kid, verifying } = await keyPair(env);
    const header = JSON.parse(new TextDecoder().decode(fromBase64url(head)));
    if (header.alg !== 'EdDSA' || header.kid !== kid) return null;
    const data = encoder.encode(`${head}.${body}`);
    if (!(await crypto.subtle.verify('Ed25519', verifying, fromBase64url(signature), data))) return null;
    const claims = JSON.parse(new TextDecoder().decode(fromBase64url(body)));
    const good =
      claims.iss === ISSUER &&
      claims.aud === AUDIENCE &&
      typeof claims.exp === 'number' &&
      claims.exp > Date.now() / 1000 &&
      typeof claims.sub === 'string';
    return good ? claims : null;
  } catch {
    return null;
  }
}
