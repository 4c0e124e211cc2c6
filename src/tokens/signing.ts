/**
 * @module
 * Issuing the Worker's tokens (to the PC after a QR login, to the phone after a password login,
 * from the OAuth token endpoint): JWTs signed through `hono/jwt` with `SIGNING_KEY`, header
 * `typ`, `alg`, `kid`. Access tokens carry `sub`, `username`, `preferred_username`, `name`,
 * `sid`, `iat`, `exp`, `iss`, `aud`, `jti` (and `client_id` for a device-flow client) and are
 * signed with its first EdDSA or ES256 key; an OpenID Connect id_token carries `aud` = the
 * client and `auth_time`, and any other JWT (a logout token) goes through `signWith`, both
 * with the key of the algorithm asked for (RS256, ES256 or EdDSA).
 */
import type { Context } from 'hono';
import { sign } from 'hono/jwt';
import type { JWTPayload } from 'hono/utils/jwt/types';
import type { Env } from '../env';
import type { AppEnv } from '../http/app-env';
import { publicOrigin } from '../http/site';
import type { UserRef } from '../user/types';
import { keyRing, type SigningAlg, signingKeyFor } from './keys';
import { lifetimes } from './lifetimes';

const DEFAULT_AUDIENCE = 'qrcode-login';

type EnvContext = Context<AppEnv>;

/** Lifetime of an access token (`JWT_TTL_SECONDS`, default fifteen minutes). */
export const accessTtlSeconds = (env: Env): number => lifetimes(env).accessTtlSeconds;

/** `iss` of our tokens: `TOKEN_ISSUER`, default the public origin. */
export const tokenIssuer = (c: EnvContext): string => c.env.TOKEN_ISSUER || publicOrigin(c);

/** `aud` of our tokens: `TOKEN_AUDIENCE`, default `qrcode-login`. */
export const tokenAudience = (env: Env): string => env.TOKEN_AUDIENCE || DEFAULT_AUDIENCE;

/** The claims of a token this Worker issued and still accepts. */
export interface TokenClaims {
  sub: string;
  username: string;
  preferred_username: string;
  name: string;
  sid: string;
  jti: string;
  iat: number;
  exp: number;
  iss: string;
  aud: string;
  /** The OAuth client of a device-flow session. */
  client_id?: string;
}

/** Fails early (a logged 500) when the signing key is missing or unusable, before any state changes. */
export function ensureSigningKey(env: Env): void {
  keyRing(env);
}

/**
 * `claims` as a JWT (header `alg`, `typ: JWT`, `kid`) signed with `SIGNING_KEY`'s key for
 * `alg`; a `ConfigError` (a logged 500) naming the secret when it has no such key.
 */
export async function signWith(env: Env, alg: SigningAlg, claims: JWTPayload): Promise<string> {
  return sign(claims, signingKeyFor(env, alg));
}

/** A new access token for `user` in the session `sid` (of a device-flow `clientId`, if any). */
export async function issueToken(c: EnvContext, user: UserRef, sid: string, clientId?: string | null): Promise<string> {
  const { current } = keyRing(c.env);
  const iat = Math.floor(Date.now() / 1000);
  const claims: TokenClaims = {
    sub: user.id,
    username: user.username,
    preferred_username: user.username,
    name: user.display_name,
    sid,
    iat,
    exp: iat + accessTtlSeconds(c.env),
    iss: tokenIssuer(c),
    aud: tokenAudience(c.env),
    jti: crypto.randomUUID(),
  };
  if (clientId) claims.client_id = clientId;
  return sign({ ...claims }, current);
}

/**
 * An OpenID Connect id_token (Core 1.0 §2) for a device-flow client that asked for `openid`,
 * signed with `alg` (by default the access tokens' algorithm).
 */
export async function issueIdToken(
  c: EnvContext,
  user: UserRef,
  sid: string,
  clientId: string,
  authTimeMs: number,
  alg: SigningAlg = keyRing(c.env).current.alg,
): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return signWith(c.env, alg, {
    iss: tokenIssuer(c),
    sub: user.id,
    aud: clientId,
    exp: iat + accessTtlSeconds(c.env),
    iat,
    auth_time: Math.floor(authTimeMs / 1000),
    sid,
    name: user.display_name,
    preferred_username: user.username,
  });
}
