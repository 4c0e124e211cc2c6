/**
 * Test-side token making: signs any header and claims with the development key (`.dev.vars`), a
 * stranger's key (Ed25519, P-256 or RSA), or an HMAC, so that tests can build every forgery a verifier must refuse.
 */
import { env } from 'cloudflare:workers';

export const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
export const enc = (value: unknown) => b64url(new TextEncoder().encode(JSON.stringify(value)));
export const decodePart = (part: string) =>
  JSON.parse(
    new TextDecoder().decode(
      Uint8Array.from(atob(part.replace(/-/g, '+').replace(/_/g, '/')), (ch) => ch.charCodeAt(0)),
    ),
  );

export interface Jwk extends JsonWebKey {
  kid: string;
  alg: string;
}

/** The committed development keys (`.dev.vars`: a JWK set of an Ed25519 and an RSA key). */
export const devKeys = (): Jwk[] => (JSON.parse(env.SIGNING_KEY ?? '{"keys":[]}') as { keys: Jwk[] }).keys;

/** The committed development key the Worker signs access tokens with in tests (Ed25519). */
export const devKey = (): Jwk => devKeys().find((k) => k.alg === 'EdDSA') as Jwk;

/** The committed development RSA key (RS256). */
export const devRsaKey = (): Jwk => devKeys().find((k) => k.alg === 'RS256') as Jwk;

/** The members of a JWK that are private (RFC 7518 §6.2.2, §6.3.2). */
export const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const;

export type KeyAlg = 'EdDSA' | 'ES256' | 'RS256';
const PARAMS = {
  EdDSA: { name: 'Ed25519' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]) },
};

/** A fresh key pair (Ed25519, P-256, or RSA of `bits`) as JWKs, with `kid`. */
export async function newKey(alg: KeyAlg = 'EdDSA', kid: string = crypto.randomUUID(), bits = 2048) {
  const params = alg === 'RS256' ? { ...PARAMS.RS256, modulusLength: bits } : PARAMS[alg];
  const pair = (await crypto.subtle.generateKey(params, true, ['sign', 'verify'])) as CryptoKeyPair;
  const priv = (await crypto.subtle.exportKey('jwk', pair.privateKey)) as JsonWebKey;
  const pub = (await crypto.subtle.exportKey('jwk', pair.publicKey)) as JsonWebKey;
  const clean = (k: JsonWebKey) =>
    k.kty === 'RSA' ? { kty: k.kty, n: k.n, e: k.e } : { kty: k.kty, crv: k.crv, x: k.x, ...(k.y ? { y: k.y } : {}) };
  const secret = Object.fromEntries(
    PRIVATE_MEMBERS.filter((m) => priv[m] !== undefined).map((m) => [m, priv[m]]),
  ) as Partial<Jwk>;
  return {
    privateJwk: { ...clean(priv), ...secret, kid, alg, use: 'sig' } as Jwk,
    publicJwk: { ...clean(pub), kid, alg, use: 'sig' } as Jwk,
  };
}

/** Signs `header.claims` with a private JWK (EdDSA, ES256 or RS256), whatever the header says. */
export async function signWith(jwk: Jwk, header: object, claims: object): Promise<string> {
  const data = `${enc(header)}.${enc(claims)}`;
  const params = jwk.kty === 'RSA' ? PARAMS.RS256 : jwk.kty === 'EC' ? PARAMS.ES256 : PARAMS.EdDSA;
  const { kid: _kid, alg: _alg, use: _use, ...material } = jwk as Jwk & { use?: string };
  const key = await crypto.subtle.importKey('jwk', material, params, false, ['sign']);
  const sig = await crypto.subtle.sign(
    jwk.kty === 'EC' ? { name: 'ECDSA', hash: 'SHA-256' } : params.name,
    key,
    new TextEncoder().encode(data),
  );
  return `${data}.${b64url(new Uint8Array(sig))}`;
}

/** An HMAC-signed token (the classic algorithm-confusion forgery uses a public key as the secret). */
export async function hmacToken(header: object, claims: object, secret: string, hash = 'SHA-256'): Promise<string> {
  const data = `${enc(header)}.${enc(claims)}`;
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash }, false, [
    'sign',
  ]);
  return `${data}.${b64url(new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(data))))}`;
}

/** The header and claims of a token. */
export function parts(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [h, p] = token.split('.');
  return { header: decodePart(h!), claims: decodePart(p!) };
}
