/**
 * Test-side DPoP (RFC 9449): a client's key pair and the proofs it signs, made by hand with
 * `jose` so that tests can also make every bad proof a server must refuse.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { ORIGIN } from '../helpers';

export interface DpopKey {
  alg: 'ES256' | 'EdDSA';
  pair: CryptoKeyPair;
  /** The public JWK, as a proof's header carries it. */
  jwk: JWK;
  /** Its SHA-256 thumbprint: what tokens bound to it carry as `cnf.jkt`. */
  jkt: string;
}

/** A fresh DPoP key pair (P-256 by default). */
export async function dpopKey(alg: 'ES256' | 'EdDSA' = 'ES256'): Promise<DpopKey> {
  const pair = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(pair.publicKey);
  return { alg, pair, jwk, jkt: await calculateJwkThumbprint(jwk) };
}

/** base64url(SHA-256(token)): a proof's `ath`. */
export async function athOf(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)));
  return btoa(String.fromCharCode(...digest))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

export interface ProofOptions {
  /** The access token sent beside it (its hash goes into `ath`). */
  accessToken?: string;
  /** Seconds added to now for `iat`. */
  iatOffset?: number;
  jti?: string;
  nonce?: string;
  /** Extra or replaced header members (`alg`, `typ`, a private `d` …). */
  header?: Record<string, unknown>;
  /** Extra or replaced claims (`htm`, `htu`, `ath` …). */
  claims?: Record<string, unknown>;
}

/** A proof of `key` for `method` on `path` (at the test origin). */
export async function proof(key: DpopKey, method: string, path: string, options: ProofOptions = {}): Promise<string> {
  const claims: Record<string, unknown> = {
    htm: method,
    htu: `${ORIGIN}${path}`,
    jti: options.jti ?? crypto.randomUUID(),
    iat: Math.floor(Date.now() / 1000) + (options.iatOffset ?? 0),
  };
  if (options.accessToken) claims.ath = await athOf(options.accessToken);
  if (options.nonce) claims.nonce = options.nonce;
  return new SignJWT({ ...claims, ...options.claims })
    .setProtectedHeader({ alg: key.alg, typ: 'dpop+jwt', jwk: key.jwk, ...options.header } as never)
    .sign(key.pair.privateKey);
}

/** `Authorization: DPoP` with a proof of `key` for the request. */
export async function dpopAuth(
  key: DpopKey,
  token: string,
  method: string,
  path: string,
  options: ProofOptions = {},
): Promise<Record<string, string>> {
  return { Authorization: `DPoP ${token}`, DPoP: await proof(key, method, path, { accessToken: token, ...options }) };
}

/** A JWS with any header and claims, signed with HMAC-SHA256 under `secret` (an `alg: HS256` "proof"). */
export async function hmacJws(header: object, claims: object, secret = 'a shared secret'): Promise<string> {
  return new SignJWT(claims as never)
    .setProtectedHeader({ alg: 'HS256', ...header } as never)
    .sign(new TextEncoder().encode(secret));
}

/** An unsigned JWS (`alg: none`). */
export function unsignedJws(header: object, claims: object): string {
  const part = (value: object) =>
    btoa(JSON.stringify(value)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return `${part({ ...header, alg: 'none' })}.${part(claims)}.`;
}
