/**
 * @module
 * Issuing the Worker's tokens (to the PC after a QR login, to the phone after a password login,
 * from the OAuth token endpoint): JWTs signed through `hono/jwt` with `SIGNING_KEY`, header
 * `typ`, `alg`, `kid`; claims `sub`, `username`, `name`, `sid`, `iat`, `exp`, `iss`, `aud`, `jti`.
 */
import type { Context } from 'hono';
import { sign } from 'hono/jwt';
import type { AppEnv } from '../app-env';
import type { Env } from '../env';
import type { UserRef } from '../login/state';
import { publicOrigin } from '../public-origin';
import { keyRing } from './keys';

const DEFAULT_TTL_SECONDS = 604_800;
const DEFAULT_AUDIENCE = 'qrcode-login';

type EnvContext = Context<AppEnv>;

/** Positive whole seconds from a variable, or the default. */
export function seconds(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** Lifetime of an issued token (`JWT_TTL_SECONDS`, default 7 days). */
export const tokenTtlSeconds = (env: Env): number => seconds(env.JWT_TTL_SECONDS, DEFAULT_TTL_SECONDS);

/** `iss` of our tokens: `TOKEN_ISSUER`, default the public origin. */
export const tokenIssuer = (c: EnvContext): string => c.env.TOKEN_ISSUER || publicOrigin(c);

/** `aud` of our tokens: `TOKEN_AUDIENCE`, default `qrcode-login`. */
export const tokenAudience = (env: Env): string => env.TOKEN_AUDIENCE || DEFAULT_AUDIENCE;

/** The claims of a token this Worker issued and still accepts. */
export interface TokenClaims {
  sub: string;
  username: string;
  name: string;
  sid: string;
  jti: string;
  iat: number;
  exp: number;
  iss: string;
  aud: string;
}

/** Fails early (a logged 500) when the signing key is missing or unusable, before any state changes. */
export function ensureSigningKey(env: Env): void {
  keyRing(env);
}

/** A new token for `user` in the linked-device session `sid`. */
export async function issueToken(c: EnvContext, user: UserRef, sid: string): Promise<string> {
  const { current } = keyRing(c.env);
  const iat = Math.floor(Date.now() / 1000);
  const claims: TokenClaims = {
    sub: user.id,
    username: user.username,
    name: user.display_name,
    sid,
    iat,
    exp: iat + tokenTtlSeconds(c.env),
    iss: tokenIssuer(c),
    aud: tokenAudience(c.env),
    jti: crypto.randomUUID(),
  };
  return sign({ ...claims }, current);
}
