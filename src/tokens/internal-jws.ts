/**
 * @module
 * Short-lived statements the Worker signs for itself (the authorize page's `authorization`, say):
 * compact JWS signed with the current key, with a `typ` and an audience of their own, so that
 * none of them can ever pass for an access token or an id_token (those are `typ: JWT`, for other
 * audiences), and no storage is needed to trust them when they come back.
 */
import type { Context } from 'hono';
import { type JWTPayload, jwtVerify, SignJWT } from 'jose';
import type { AppEnv } from '../http/app-env';
import { keyRing, type PrivateJwk } from './keys';
import { tokenIssuer } from './signing';
import { IMPORT_PARAMS, publicKey } from './verify';

const signingKeys = new Map<string, Promise<CryptoKey>>();

/** The imported private key of `jwk` (kept per isolate). */
export function signingKey(jwk: PrivateJwk): Promise<CryptoKey> {
  const { kid: _kid, alg, use: _use, ...material } = jwk;
  const cacheKey = `${jwk.kid}:${JSON.stringify(material)}`;
  let key = signingKeys.get(cacheKey);
  if (!key) {
    key = crypto.subtle.importKey('jwk', material, IMPORT_PARAMS[alg], false, ['sign']);
    signingKeys.set(cacheKey, key);
  }
  return key;
}

/** A statement of type `typ` for `audience`, made at `claims.iat` (default now); its reader judges its age. */
export async function signStatement(
  c: Context<AppEnv>,
  typ: string,
  audience: string,
  claims: Record<string, unknown>,
): Promise<string> {
  const { current } = keyRing(c.env);
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: current.alg, kid: current.kid, typ })
    .setIssuer(tokenIssuer(c))
    .setAudience(audience);
  if (typeof claims.iat !== 'number') jwt.setIssuedAt();
  return jwt.sign(await signingKey(current));
}

/** The claims of a statement of ours of type `typ` for `audience`, or null (forged, another type, another key). */
export async function readStatement(
  c: Context<AppEnv>,
  typ: string,
  audience: string,
  token: string,
): Promise<JWTPayload | null> {
  const ring = keyRing(c.env);
  try {
    const { payload } = await jwtVerify(
      token,
      async (header) => {
        const jwk = ring.verifying.find((k) => k.kid === header.kid && k.alg === header.alg);
        if (!jwk) throw new Error('not our key');
        return publicKey(jwk);
      },
      { typ, issuer: tokenIssuer(c), audience, algorithms: [...new Set(ring.verifying.map((k) => k.alg))] },
    );
    return typeof payload.iat === 'number' ? payload : null;
  } catch {
    return null;
  }
}
