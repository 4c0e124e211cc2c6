/**
 * @module
 * The logout token of OpenID Connect Back-Channel Logout 1.0 (§2.4): a JWT of `typ`
 * `logout+jwt` (§2.4 recommends it, so that it can never pass for an id_token), signed like the
 * client's id_tokens (its `id_token_signed_response_alg`, with `SIGNING_KEY`'s key of that
 * algorithm), with `iss`, `aud` (the client), `iat`, `exp` (two minutes on), `jti` (new for each
 * token), `sub`, `sid` (the browser session its id_tokens named) and the back-channel logout
 * event; never a `nonce`. It needs only `env` (the queue's consumer signs it, afresh for each
 * attempt, so that a retry hours later is not an expired token).
 */
import { SignJWT } from 'jose';
import type { Env } from '../env';
import { signingKey } from './internal-jws';
import { type SigningAlg, signingKeyFor } from './keys';

/** The member of `events` that makes a JWT a logout token. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** A logout token's `typ` (Back-Channel Logout 1.0 §2.4). */
export const LOGOUT_TOKEN_TYP = 'logout+jwt';
/** How long a logout token is valid: the spec recommends at most two minutes. */
export const LOGOUT_TOKEN_TTL_SECONDS = 120;

/** What a logout token says besides the times and its `jti`. */
export interface LogoutClaims {
  iss: string;
  /** The client told. */
  aud: string;
  sub: string;
  /** The session its id_tokens named. */
  sid: string;
  /** The client's `id_token_signed_response_alg`. */
  alg: SigningAlg;
}

/** A logout token, signed now; a `ConfigError` when `SIGNING_KEY` has no key of the client's algorithm. */
export async function issueLogoutToken(env: Env, claims: LogoutClaims): Promise<string> {
  const jwk = signingKeyFor(env, claims.alg);
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({ sid: claims.sid, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } })
    .setProtectedHeader({ alg: claims.alg, kid: jwk.kid, typ: LOGOUT_TOKEN_TYP })
    .setIssuer(claims.iss)
    .setAudience(claims.aud)
    .setSubject(claims.sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + LOGOUT_TOKEN_TTL_SECONDS)
    .setJti(crypto.randomUUID())
    .sign(await signingKey(jwk));
}
