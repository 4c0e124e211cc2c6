/**
 * Test-side token making: signs any header and claims with the development key (`.dev.vars`), a
 * stranger's key, or an HMAC, so that tests can build every forgery a verifier must refuse.
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

/** The committed development key the Worker signs with in tests. */
export const devKey = (): Jwk => JSON.parse(env.SIGNING_KEY ?? '{}');

/** A fresh key pair (Ed25519 or P-256) as JWKs, with `kid`. */
export async function newKey(alg: 'EdDSA' | 'ES256' = 'EdDSA', kid = crypto.randomUUID()) {
  const params = alg === 'EdDSA' ? { name: 'Ed25519' } : { name: 'ECDSA', namedCurve: 'P-256' };
  const pair = (await crypto.subtle.generateKey(params, true, ['sign', 'verify'])) as CryptoKeyPair;
  const priv = (await crypto.subtle.exportKey('jwk', pair.privateKey)) as JsonWebKey;
  const pub = (await crypto.subtle.exportKey('jwk', pair.publicKey)) as JsonWebKey;
  const clean = (k: JsonWebKey) => ({ kty: k.kty, crv: k.crv, x: k.x, ...(k.y ? { y: k.y } : {}) });
  return {
    privateJwk: { ...clean(priv), d: priv.d, kid, alg, use: 'sig' } as Jwk,
    publicJwk: { ...clean(pub), kid, alg, use: 'sig' } as Jwk,
  };
}

/** Signs `header.claims` with a private JWK (EdDSA or ES256), whatever the header says. */
export async function signWith(jwk: Jwk, header: object, claims: object): Promise<string> {
  const data = `${enc(header)}.${enc(claims)}`;
  const ec = jwk.kty === 'EC';
  const { kid: _kid, alg: _alg, use: _use, ...material } = jwk as Jwk & { use?: string };
  const key = await crypto.subtle.importKey(
    'jwk',
    material,
    ec ? { name: 'ECDSA', namedCurve: 'P-256' } : { name: 'Ed25519' },
    false,
    ['sign'],
  );
  const sig = await crypto.subtle.sign(
    ec ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'Ed25519' },
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
