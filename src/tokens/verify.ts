/**
 * @module
 * Verifying the Worker's own tokens: only a key of the ring (`SIGNING_KEY` or
 * `SIGNING_KEY_PREVIOUS`) picked by `kid`, only that key's algorithm, and `exp`, `iss` and `aud`
 * required. Anything else is 401 `unauthorized`. Imported public keys are kept per isolate.
 */
import type { Context } from 'hono';
import { decode, verify } from 'hono/jwt';
import type { Env } from '../env';
import type { AppEnv } from '../http/app-env';
import { ApiError } from '../http/errors';
import { keyRing, type PublicJwk } from './keys';
import { type TokenClaims, tokenAudience, tokenIssuer } from './signing';

export const IMPORT_PARAMS = {
  EdDSA: { name: 'Ed25519' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
} as const;

const imported = new Map<string, Promise<CryptoKey>>();

/** The imported public key of `jwk` (kept per isolate). */
export function publicKey(jwk: PublicJwk): Promise<CryptoKey> {
  const { kid: _kid, alg, use: _use, ...material } = jwk;
  const cacheKey = `${jwk.kid}:${JSON.stringify(material)}`;
  let key = imported.get(cacheKey);
  if (!key) {
    key = crypto.subtle.importKey('jwk', material, IMPORT_PARAMS[alg], false, ['verify']);
    imported.set(cacheKey, key);
  }
  return key;
}

/**
 * The key of ours that this token names by `kid`, or null: then it is not ours (it may be a
 * site's token, see identity/), and nothing more is decoded.
 */
export function ownKeyOf(env: Env, token: string): PublicJwk | null {
  let kid: unknown;
  try {
    kid = decode(token).header.kid;
  } catch {
    return null;
  }
  return keyRing(env).verifying.find((k) => k.kid === kid) ?? null;
}

const unauthorized = () => new ApiError('unauthorized');

/**
 * The claims of a valid token of ours, signed with `jwk` (from `ownKeyOf`); anything else is
 * 401 `unauthorized`. `verify` refuses any `alg` in the header but the key's own.
 */
export async function verifyOwnToken(c: Context<AppEnv>, token: string, jwk: PublicJwk): Promise<TokenClaims> {
  let payload: Record<string, unknown>;
  try {
    payload = await verify(token, await publicKey(jwk), {
      alg: jwk.alg,
      iss: tokenIssuer(c),
      aud: tokenAudience(c.env),
    });
  } catch {
    throw unauthorized();
  }
  // `verify` checks `exp` only when present: every claim we rely on must be there.
  const { sub, username, name, sid, jti, iat, exp, iss, aud } = payload;
  if (
    typeof sub !== 'string' ||
    typeof username !== 'string' ||
    typeof name !== 'string' ||
    typeof sid !== 'string' ||
    typeof jti !== 'string' ||
    typeof iat !== 'number' ||
    typeof exp !== 'number' ||
    typeof iss !== 'string' ||
    typeof aud !== 'string' ||
    exp <= Date.now() / 1000
  ) {
    throw unauthorized();
  }
  // The last version's tokens have no `preferred_username`: it is the username.
  const claims: TokenClaims = { sub, username, preferred_username: username, name, sid, jti, iat, exp, iss, aud };
  if (typeof payload.client_id === 'string') claims.client_id = payload.client_id;
  const cnf = payload.cnf as { jkt?: unknown } | undefined;
  if (cnf !== undefined) {
    // A binding we cannot read would be a token usable without its key: refuse it instead.
    if (typeof cnf !== 'object' || cnf === null || typeof cnf.jkt !== 'string') throw unauthorized();
    claims.cnf = { jkt: cnf.jkt };
  }
  return claims;
}
