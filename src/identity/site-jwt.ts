/**
 * @module
 * The phone user as the site's own user (`IDENTITY=jwt`): the site's JWT, verified with jose
 * against `IDENTITY_JWKS_URL` (RS256, ES256, EdDSA) or the shared secret `IDENTITY_JWT_SECRET`
 * (HS256), with `IDENTITY_ISSUER` and `IDENTITY_AUDIENCE` required, `exp` required, `nbf`
 * honoured, 60 s of clock skew. Anything that does not verify is 401 `unauthorized`, and the
 * check it failed is logged (so that a site's operator can see why its users are refused),
 * never the token; the answer's `reason` tells the phone whether its user can fix it (an expired
 * token) or the site must (`site_token_refused`).
 */
import { decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from 'jose';
import type { Env } from '../env';
import { ApiError, ConfigError, UnavailableError } from '../http/errors';
import { describeError } from '../http/log-safe';
import type { UserRef } from '../user/types';
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
      throw new ConfigError(
        'IDENTITY_JWKS_URL is not a URL: set it to the https address of the site’s key set, such as https://shop.example/.well-known/jwks.json.',
      );
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
        throw new ConfigError(
          `IDENTITY_JWT_SECRET is shorter than ${MIN_SECRET_BYTES} bytes: the site and this Worker must share a secret of ${MIN_SECRET_BYTES} bytes or more.`,
        );
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

/** A value of the token, quoted and cut short for a log line (it was chosen by whoever sent it). */
const shown = (value: unknown) => JSON.stringify(value)?.slice(0, 80) ?? 'none';

/** The check that `err` says a token failed, and why, in the words of the log. */
function failedCheck(err: unknown, env: Env): [check: string, why: string] {
  if (err instanceof errors.JWTExpired) {
    return ['expiry', `it expired at ${shown(err.payload.exp)} (${CLOCK_SKEW_SECONDS} s of clock skew allowed)`];
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    const got = err.payload[err.claim];
    switch (err.claim) {
      case 'iss':
        return ['issuer', `its "iss" is ${shown(got)}, not IDENTITY_ISSUER ${shown(env.IDENTITY_ISSUER)}`];
      case 'aud':
        return ['audience', `its "aud" is ${shown(got)}, not IDENTITY_AUDIENCE ${shown(env.IDENTITY_AUDIENCE)}`];
      case 'exp':
        return ['expiry', err.reason === 'missing' ? 'it has no "exp"' : `its "exp" is ${shown(got)}`];
      case 'nbf':
        return ['not-before', `it is not valid before ${shown(got)} (${CLOCK_SKEW_SECONDS} s of clock skew allowed)`];
      case 'sub':
        return ['subject', err.reason === 'missing' ? 'it has no "sub"' : 'its "sub" is not 1 to 256 characters'];
      default:
        return ['claims', err.message];
    }
  }
  if (err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JWKSMultipleMatchingKeys) {
    return ['signature', 'its signature does not verify with the key it names'];
  }
  if (err instanceof errors.JWKSNoMatchingKey) return ['unknown kid', 'no key of IDENTITY_JWKS_URL has its "kid"'];
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return ['algorithm', err.message];
  }
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return ['format', err.message];
  return ['unexpected', describeError(err, env)];
}

/**
 * Logs why the site's token was refused (the failed check, the token's `kid` and `alg`, never the
 * token) and answers the 401: `site_token_expired` when only its time is up (the user signs in
 * with the site again), else `site_token_refused` (the site and this Worker disagree: signing in
 * again will not help), with the check named, as the log names it.
 */
function refusal(err: unknown, token: string, env: Env): ApiError {
  const [check, why] = failedCheck(err, env);
  let header = '';
  try {
    const { kid, alg } = decodeProtectedHeader(token);
    header = ` [kid ${shown(kid)}, alg ${shown(alg)}]`;
  } catch {
    // Not even a JWS header: the check says so.
  }
  console.warn(`identity: refused a site token (${check}): ${why}${header}`);
  if (err instanceof errors.JWTExpired) {
    return new ApiError(
      'unauthorized',
      'The sign-in with the site has expired: sign in with the site again.',
      {},
      'site_token_expired',
    );
  }
  return new ApiError(
    'unauthorized',
    `The site’s sign-in token was refused (${check}): the site and this server disagree on their ` +
      'configuration (IDENTITY_ISSUER, IDENTITY_AUDIENCE, the key), so signing in again will not help; ' +
      'the server’s log says what differs.',
    {},
    'site_token_refused',
  );
}

/**
 * What `IDENTITY=jwt` verifies with: the issuer and audience it requires and the key source;
 * a `ConfigError` that names the variable to fix when they are missing or unusable.
 */
export function siteVerifier(env: Env): Verifier {
  if (!env.IDENTITY_ISSUER || !env.IDENTITY_AUDIENCE) {
    throw new ConfigError('IDENTITY=jwt needs IDENTITY_ISSUER and IDENTITY_AUDIENCE.');
  }
  return verifier(env);
}

/** The site's user that a token names, and when they signed in with the site. */
export interface SiteIdentity {
  user: UserRef;
  /**
   * When the user signed in with the site (epoch ms): the token's `auth_time` (OpenID Connect's
   * word for it) when it has one, else its `iat`; null when it has neither.
   */
  signedInAt: number | null;
}

/** A time claim in seconds, as epoch ms; null when absent or not a number. */
const timeClaim = (payload: JWTPayload, name: string): number | null => {
  const value = payload[name];
  return typeof value === 'number' && Number.isFinite(value) ? value * 1000 : null;
};

/** The site's user that `token` names, and when they signed in; or 401 `unauthorized`. */
export async function verifySiteToken(env: Env, token: string): Promise<SiteIdentity> {
  const { key, algorithms } = siteVerifier(env);
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
    // The JWKS cannot be fetched: a 503 of ours, not a refusal of the token.
    if (err instanceof UnavailableError || err instanceof ApiError) throw err;
    throw refusal(err, token, env);
  }
  const id = claim(payload, 'sub');
  if (!id) throw refusal(new errors.JWTClaimValidationFailed('no usable "sub"', payload, 'sub', 'invalid'), token, env);
  const username = claim(payload, 'preferred_username') ?? id;
  return {
    user: { id, username, display_name: claim(payload, 'name') ?? username },
    signedInAt: timeClaim(payload, 'auth_time') ?? timeClaim(payload, 'iat'),
  };
}
