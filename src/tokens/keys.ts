/**
 * @module
 * The Worker's signing keys: `SIGNING_KEY` (a private JWK, Ed25519/EdDSA or P-256/ES256, with a
 * `kid`) signs every token; `SIGNING_KEY_PREVIOUS`, the key being rotated out, only verifies.
 * Both are parsed once per isolate; a missing or unusable key is a `ConfigError` (a logged 500)
 * that names the secret to fix.
 */
import type { Env } from '../env';
import { ConfigError } from '../http/errors';

export type SigningAlg = 'EdDSA' | 'ES256';

/** A public JWK as `/.well-known/jwks.json` publishes it. */
export interface PublicJwk {
  kty: 'OKP' | 'EC';
  crv: 'Ed25519' | 'P-256';
  x: string;
  y?: string;
  kid: string;
  alg: SigningAlg;
  use: 'sig';
}

/** A private JWK that signs (what hono/jwt's `sign` takes: its `kid` goes into the header). */
export interface PrivateJwk extends PublicJwk {
  d: string;
}

const CURVES: Record<SigningAlg, { kty: PublicJwk['kty']; crv: PublicJwk['crv'] }> = {
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  ES256: { kty: 'EC', crv: 'P-256' },
};

const B64URL = /^[A-Za-z0-9_-]+$/;

/** Parses one JWK from a secret's text; `needPrivate` asks for the `d` part too. */
function parseJwk(name: string, text: string, needPrivate: boolean): PublicJwk & { d?: string } {
  let jwk: Record<string, unknown>;
  try {
    jwk = JSON.parse(text);
  } catch {
    throw new ConfigError(`${name} is not JSON: set it to the private JWK that \`npm run keygen\` prints.`);
  }
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw new ConfigError(`${name} must be a JSON object (a JWK).`);
  }
  const alg = (jwk.alg ?? (jwk.crv === 'P-256' ? 'ES256' : 'EdDSA')) as SigningAlg;
  const shape = CURVES[alg];
  if (!shape) throw new ConfigError(`${name} has alg ${String(jwk.alg)}: only EdDSA (Ed25519) and ES256 (P-256) sign.`);
  if (jwk.kty !== shape.kty || jwk.crv !== shape.crv) {
    throw new ConfigError(`${name} with alg ${alg} must be kty ${shape.kty}, crv ${shape.crv}.`);
  }
  if (typeof jwk.kid !== 'string' || jwk.kid.length === 0 || jwk.kid.length > 128) {
    throw new ConfigError(`${name} needs a "kid" (1 to 128 characters) so that verifiers can pick the key.`);
  }
  const parts = alg === 'ES256' ? ['x', 'y'] : ['x'];
  if (needPrivate) parts.push('d');
  for (const part of parts) {
    if (typeof jwk[part] !== 'string' || !B64URL.test(jwk[part] as string)) {
      throw new ConfigError(`${name} lacks its "${part}" part${part === 'd' ? ' (it must be the private key)' : ''}.`);
    }
  }
  const pub: PublicJwk = { kty: shape.kty, crv: shape.crv, x: jwk.x as string, kid: jwk.kid, alg, use: 'sig' };
  if (alg === 'ES256') pub.y = jwk.y as string;
  return needPrivate ? { ...pub, d: jwk.d as string } : pub;
}

export interface KeyRing {
  /** The key that signs new tokens. */
  current: PrivateJwk;
  /** Every key a token may be signed with (current first), by `kid`. */
  verifying: PublicJwk[];
}

let cached: { current?: string; previous?: string; ring: KeyRing } | null = null;

/** The key ring from the secrets, parsed once per isolate (and again only when a secret changes). */
export function keyRing(env: Env): KeyRing {
  if (cached && cached.current === env.SIGNING_KEY && cached.previous === env.SIGNING_KEY_PREVIOUS) return cached.ring;
  if (!env.SIGNING_KEY) {
    throw new ConfigError('SIGNING_KEY is not set: run `npm run keygen` and `wrangler secret put SIGNING_KEY`.');
  }
  const current = parseJwk('SIGNING_KEY', env.SIGNING_KEY, true) as PrivateJwk;
  const { d: _private, ...currentPublic } = current;
  const verifying: PublicJwk[] = [currentPublic];
  if (env.SIGNING_KEY_PREVIOUS) {
    const previous = parseJwk('SIGNING_KEY_PREVIOUS', env.SIGNING_KEY_PREVIOUS, false);
    if (previous.kid === current.kid) {
      throw new ConfigError('SIGNING_KEY_PREVIOUS has the same kid as SIGNING_KEY: give each key its own kid.');
    }
    const { d: _ignored, ...previousPublic } = previous;
    verifying.push(previousPublic);
  }
  const ring = { current, verifying };
  cached = { current: env.SIGNING_KEY, previous: env.SIGNING_KEY_PREVIOUS, ring };
  return ring;
}
