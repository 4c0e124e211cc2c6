/**
 * @module
 * The phone user as the site's own user (`IDENTITY=jwt`): the site's JWT, verified with jose
 * against `IDENTITY_JWKS_URL` (RS256, ES256, EdDSA) or the shared secret `IDENTITY_JWT_SECRET`
 * (HS256), with `IDENTITY_ISSUER` and `IDENTITY_AUDIENCE` required, `exp` required, `nbf`
 * honoured, 60 s of clock skew. Anything that does not verify is 401 `unauthorized`.
 */
import { errors, type JWTPayload, jwtVerify } from 'jose';
import type { Env } from '../env';
import { ApiError, ConfigError, UnavailableError } from '../errors';
import type { UserRef } from '../login/state';
import { remoteKeys } from './jwks-cache';

const ASYMMETRIC = ['RS256', 'ES256', 'EdDSA'];
const CLOCK_SKEW_SECONDS = 60;
const MIN_SECRET_BYTES = 32;
const MAX_CLAIM = 256;

type Verifier = { key: Parameters<typeof jwtVerify>[1]; algorithms: string[] };

let cachedSecret: { text: string; key: Uint8Array } | null = null;

function verifier(env: Env): Verifier {
  if (env.IDENTITY_JWKS_URL) {
    let url: URL;
    try {
      url = new URL(env.IDENTITY_JWKS_URL);
    } catch {
      throw new ConfigError('IDENTITY_JWKS_URL is not a URL.');
    }
    const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1';
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) {
      throw new ConfigError('IDENTITY_JWKS_URL must be https (http only for localhost and 127.0.0.1).');
    }
    return { key: remoteKeys(url.href), algorithms: ASYMMETRIC };
  }
  if (env.IDENTITY_JWT_SECRET) {
    if (cachedSecret?.text !== env.IDENTITY_JWT_SECRET) {
      const key = new TextEncoder().encode(env.IDENTITY_JWT_SECRET);
      if (key.byteLength < MIN_SECRET_BYTES) {
        throw new ConfigError(`IDENTITY_JWT_SECRET is shorter than ${MIN_SECRET_BYTES} bytes.`);
      }
      cachedSecret = { text: env.IDENTITY_JWT_SECRET, key };
    }
    return { key: cachedSecret.key, algorithms: ['HS256'] };
  }
  throw new ConfigError('IDENTITY=jwt needs IDENTITY_JWKS_URL or IDENTITY_JWT_SECRET.');
}

const claim = (payload: JWTPayload, name: string): string | undefined => {
  const value = payload[name];
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_CLAIM ? value : undefined;
};

/** The site's user that `token` names, or 401 `unauthorized`. */
export async function verifySiteToken(env: Env, token: string): Promise<UserRef> {
  if (!env.IDENTITY_ISSUER || !env.IDENTITY_AUDIENCE) {
    throw new ConfigError('IDENTITY=jwt needs IDENTITY_ISSUER and IDENTITY_AUDIENCE.');
  }
  const { key, algorithms } = verifier(env);
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, key as Parameters<typeof jwtVerify>[1] & Uint8Array, {
      issuer: env.IDENTITY_ISSUER,
      audience: env.IDENTITY_AUDIENCE,
      algorithms,
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ['exp', 'sub'],
    }));
  } catch (err) {
    if (err instanceof UnavailableError) throw err;
    if (!(err instanceof errors.JOSEError)) console.warn('identity: unexpected error verifying a site token', err);
    throw new ApiError('unauthorized', 'The sign-in token is not valid here: sign in again.');
  }
  const id = claim(payload, 'sub');
  if (!id) throw new ApiError('unauthorized', 'The sign-in token names no user.');
  const username = claim(payload, 'preferred_username') ?? id;
  return { id, username, display_name: claim(payload, 'name') ?? username };
}
