/**
 * @module
 * Issuing the Worker's tokens (to the PC after a QR login, to the phone after a password login,
 * from the OAuth token endpoint): JWTs signed through `hono/jwt` with `SIGNING_KEY`, header
 * `typ`, `alg`, `kid`. Access tokens carry `sub`, `username`, `preferred_username`, `name`,
 * `sid`, `iat`, `exp`, `iss`, `aud`, `jti` (and `client_id` for a client's token, `cnf.jkt` for
 * one bound to a DPoP key) and are
 * signed with its first EdDSA or ES256 key; an OpenID Connect id_token carries `aud` = the
 * client, `auth_time`, `sid`, and for the code flow `nonce` and `at_hash`, signed with the
 * client's algorithm (RS256 by default); any other JWT (a logout token) goes through `signWith`.
 */
import type { Context } from 'hono';
import { sign } from 'hono/jwt';
import type { JWTPayload } from 'hono/utils/jwt/types';
import type { Env } from '../env';
import type { AppEnv } from '../http/app-env';
import { base64url } from '../http/crypto';
import { publicOrigin } from '../http/site';
import type { UserRef } from '../user/types';
import { keyRing, type SigningAlg, signingAlgs, signingKeyFor } from './keys';
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
  /** The key the token is bound to (RFC 9449 §6.1): only a DPoP proof of that key may present it. */
  cnf?: { jkt: string };
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

/**
 * A new access token for `user` in the session `sid` (of a device-flow `clientId`, if any),
 * bound to the DPoP key whose thumbprint is `jkt`, if any.
 */
export async function issueToken(
  c: EnvContext,
  user: UserRef,
  sid: string,
  clientId?: string | null,
  jkt?: string | null,
): Promise<string> {
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
  if (jkt) claims.cnf = { jkt };
  return sign({ ...claims }, current);
}

/** The algorithms a client may ask its id_tokens to be signed with (`id_token_signed_response_alg`). */
export type IdTokenAlg = SigningAlg;

/** What an id_token says besides the issuer and the times. */
export interface IdTokenClaims {
  user: UserRef;
  /** The session the id_token names: a browser's single sign-on session for a code-flow client. */
  sid: string;
  clientId: string;
  /** When the user signed in (scanned), epoch ms. */
  authTimeMs: number;
  /** The authorization request's `nonce`, when it sent one. */
  nonce?: string | null;
  /** The access token issued beside it, for `at_hash`. */
  accessToken?: string;
  /** Whether `name` and `preferred_username` are said (the `profile` scope); default yes. */
  profile?: boolean;
  /** The client's `id_token_signed_response_alg`: RS256 by default (OpenID Connect Core §15.1). */
  alg?: IdTokenAlg;
}

/** The hash `at_hash` uses for a signing algorithm (OpenID Connect Core §3.1.3.6; SHA-512 for Ed25519). */
const AT_HASH = { RS256: 'SHA-256', ES256: 'SHA-256', EdDSA: 'SHA-512' } as const;

/** `at_hash`: the left half of the access token's hash, base64url. */
async function atHash(accessToken: string, alg: keyof typeof AT_HASH): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest(AT_HASH[alg], new TextEncoder().encode(accessToken)));
  return base64url(digest.subarray(0, digest.length / 2));
}

/** The algorithm an id_token is signed with: the one asked for, else RS256, else (no RSA key) the access tokens'. */
function idTokenAlg(env: Env, asked: IdTokenAlg | undefined): SigningAlg {
  if (asked) return asked;
  return signingAlgs(env).includes('RS256') ? 'RS256' : keyRing(env).current.alg;
}

/** An OpenID Connect id_token (Core 1.0 §2): for a device-flow client that asked for `openid`, or a code-flow client. */
export async function issueIdToken(c: EnvContext, claims: IdTokenClaims): Promise<string> {
  const alg = idTokenAlg(c.env, claims.alg);
  const iat = Math.floor(Date.now() / 1000);
  const payload: JWTPayload = {
    iss: tokenIssuer(c),
    sub: claims.user.id,
    aud: claims.clientId,
    exp: iat + accessTtlSeconds(c.env),
    iat,
    auth_time: Math.floor(claims.authTimeMs / 1000),
    sid: claims.sid,
  };
  if (claims.nonce) payload.nonce = claims.nonce;
  if (claims.accessToken) payload.at_hash = await atHash(claims.accessToken, alg);
  if (claims.profile !== false) {
    payload.name = claims.user.display_name;
    payload.preferred_username = claims.user.username;
  }
  return signWith(c.env, alg, payload);
}
