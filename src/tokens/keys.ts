/**
 * @module
 * The Worker's signing keys. `SIGNING_KEY` is one private JWK or a JWK set (`{"keys": […]}`,
 * what `npm run keygen` prints) of at most one key per algorithm: Ed25519 (EdDSA), P-256
 * (ES256) and RSA of 2048 bits or more (RS256), each with a `kid`. Its first EdDSA or ES256 key
 * signs the access tokens; any of its keys can sign an id_token (`signingKeyFor`).
 * `SIGNING_KEY_PREVIOUS`, the keys being rotated out (a JWK or a set; their public halves are
 * enough), only verifies. Both are parsed once per isolate; a missing or unusable key is a
 * `ConfigError` (a logged 500) that names the secret and what would be right.
 */
import type { Env } from '../env';
import { fromBase64url } from '../http/crypto';
import { ConfigError } from '../http/errors';

export type SigningAlg = 'EdDSA' | 'ES256' | 'RS256';

/** A public JWK as `/.well-known/jwks.json` publishes it. */
export type PublicJwk =
  | { kty: 'OKP'; crv: 'Ed25519'; x: string; kid: string; alg: 'EdDSA'; use: 'sig' }
  | { kty: 'EC'; crv: 'P-256'; x: string; y: string; kid: string; alg: 'ES256'; use: 'sig' }
  | { kty: 'RSA'; n: string; e: string; kid: string; alg: 'RS256'; use: 'sig' };

/** A private JWK that signs (what hono/jwt's `sign` takes: its `kid` goes into the header). */
export type PrivateJwk = PublicJwk & { d: string } & Partial<Record<(typeof RSA_PRIVATE)[number], string>>;

const SHAPES = {
  EdDSA: { kty: 'OKP', crv: 'Ed25519', name: 'an Ed25519', parts: ['x'] },
  ES256: { kty: 'EC', crv: 'P-256', name: 'a P-256', parts: ['x', 'y'] },
  RS256: { kty: 'RSA', crv: undefined, name: 'an RSA', parts: ['n', 'e'] },
} as const;

/** An RSA private key's members besides `d` (RFC 7518 §6.3.2): Web Crypto needs them all. */
const RSA_PRIVATE = ['p', 'q', 'dp', 'dq', 'qi'] as const;
const MIN_RSA_BITS = 2048;
const MAX_KEYS = 10;
const B64URL = /^[A-Za-z0-9_-]+$/;

/** The number of bits of a base64url big-endian unsigned integer (an RSA modulus); 0 if it is none. */
function bitLength(b64: string): number {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64url(b64);
  } catch {
    return 0;
  }
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  return i === bytes.length ? 0 : (bytes.length - i - 1) * 8 + (bytes[i] as number).toString(2).length;
}

/** One key of a secret (`where` names it in errors); `needPrivate` asks for its private part too. */
function parseKey(where: string, jwk: unknown, needPrivate: boolean): PrivateJwk | PublicJwk {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw new ConfigError(`${where} must be a JSON object (a JWK).`);
  }
  const k = jwk as Record<string, unknown>;
  const alg = (k.alg ?? (k.kty === 'RSA' ? 'RS256' : k.crv === 'P-256' ? 'ES256' : 'EdDSA')) as SigningAlg;
  const shape = Object.hasOwn(SHAPES, alg) ? SHAPES[alg] : null;
  if (!shape) {
    throw new ConfigError(
      `${where} has alg ${String(k.alg)}: only EdDSA (Ed25519), ES256 (P-256) and RS256 (RSA) sign.`,
    );
  }
  if (k.kty !== shape.kty || k.crv !== shape.crv) {
    const want = shape.crv ? `kty ${shape.kty}, crv ${shape.crv}` : `kty ${shape.kty}`;
    throw new ConfigError(`${where} with alg ${alg} must be ${want} (${shape.name} key).`);
  }
  if (typeof k.kid !== 'string' || k.kid.length === 0 || k.kid.length > 128) {
    throw new ConfigError(`${where} needs a "kid" (1 to 128 characters) so that verifiers can pick the key.`);
  }
  const parts: string[] = [...shape.parts];
  if (needPrivate) parts.push('d', ...(alg === 'RS256' ? RSA_PRIVATE : []));
  for (const part of parts) {
    if (typeof k[part] !== 'string' || !B64URL.test(k[part] as string)) {
      const hint = part === 'n' || part === 'e' || part === 'x' || part === 'y' ? '' : ' (it must be the private key)';
      throw new ConfigError(`${where} lacks its "${part}" part${hint}.`);
    }
  }
  if (alg === 'RS256' && bitLength(k.n as string) < MIN_RSA_BITS) {
    throw new ConfigError(
      `${where} is an RSA key of ${bitLength(k.n as string)} bits: RS256 needs ${MIN_RSA_BITS} or more (\`npm run keygen\` makes one).`,
    );
  }
  const pub = Object.fromEntries(shape.parts.map((p) => [p, k[p]]));
  const head = shape.crv ? { kty: shape.kty, crv: shape.crv } : { kty: shape.kty };
  const key = { ...head, ...pub, kid: k.kid, alg, use: 'sig' } as PublicJwk;
  if (!needPrivate) return key;
  const secret = Object.fromEntries(parts.filter((p) => !shape.parts.includes(p as never)).map((p) => [p, k[p]]));
  return { ...key, ...secret } as PrivateJwk;
}

/** The keys of a secret: one JWK, or a JWK set `{"keys": […]}`. */
function parseKeys(name: string, text: string, needPrivate: boolean): (PrivateJwk | PublicJwk)[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigError(`${name} is not JSON: set it to the private JWK set that \`npm run keygen\` prints.`);
  }
  const set = (value as { keys?: unknown } | null)?.keys;
  if (set === undefined) return [parseKey(name, value, needPrivate)];
  if (!Array.isArray(set) || set.length === 0 || set.length > MAX_KEYS) {
    throw new ConfigError(`${name} has "keys" but not a list of 1 to ${MAX_KEYS} JWKs.`);
  }
  const keys = set.map((jwk, i) => {
    const kid = (jwk as { kid?: unknown } | null)?.kid;
    return parseKey(`${name}'s key ${i + 1}${typeof kid === 'string' ? ` (kid "${kid}")` : ''}`, jwk, needPrivate);
  });
  const kids = new Set<string>();
  for (const key of keys) {
    if (kids.has(key.kid)) throw new ConfigError(`${name} has two keys with kid "${key.kid}": give each its own kid.`);
    kids.add(key.kid);
  }
  return keys;
}

/** A JWK without its private members. */
function publicHalf(key: PrivateJwk | PublicJwk): PublicJwk {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = key as PrivateJwk;
  return pub as PublicJwk;
}

export interface KeyRing {
  /** The key that signs access tokens: `SIGNING_KEY`'s first EdDSA or ES256 key. */
  current: PrivateJwk;
  /** `SIGNING_KEY`'s keys by algorithm: what signs id_tokens and logout tokens. */
  signing: Partial<Record<SigningAlg, PrivateJwk>>;
  /** Every key a token may be signed with (`SIGNING_KEY`'s first, then the previous ones), by `kid`. */
  verifying: PublicJwk[];
}

let cached: { current?: string; previous?: string; ring: KeyRing } | null = null;

/** The key ring from the secrets, parsed once per isolate (and again only when a secret changes). */
export function keyRing(env: Env): KeyRing {
  if (cached && cached.current === env.SIGNING_KEY && cached.previous === env.SIGNING_KEY_PREVIOUS) return cached.ring;
  if (!env.SIGNING_KEY) {
    throw new ConfigError('SIGNING_KEY is not set: run `npm run keygen` and `wrangler secret put SIGNING_KEY`.');
  }
  const own = parseKeys('SIGNING_KEY', env.SIGNING_KEY, true) as PrivateJwk[];
  const signing: KeyRing['signing'] = {};
  for (const key of own) {
    if (signing[key.alg]) {
      throw new ConfigError(
        `SIGNING_KEY has two ${key.alg} keys ("${signing[key.alg]?.kid}" and "${key.kid}"): at most one per algorithm signs; move the older one to SIGNING_KEY_PREVIOUS.`,
      );
    }
    signing[key.alg] = key;
  }
  const current = own.find((k) => k.alg !== 'RS256');
  if (!current) {
    throw new ConfigError(
      'SIGNING_KEY has no EdDSA (Ed25519) or ES256 (P-256) key, which access tokens are signed with: `npm run keygen` prints a set with an Ed25519 and an RSA key.',
    );
  }
  const verifying = own.map(publicHalf);
  if (env.SIGNING_KEY_PREVIOUS) {
    // Verification picks a key by kid: several keys of one algorithm may be on their way out.
    for (const key of parseKeys('SIGNING_KEY_PREVIOUS', env.SIGNING_KEY_PREVIOUS, false)) {
      const same = verifying.find((k) => k.kid === key.kid);
      // A rotation's first step: the current keys are already the previous ones too.
      if (same && JSON.stringify(same) === JSON.stringify(key)) continue;
      if (same) {
        throw new ConfigError(
          `SIGNING_KEY_PREVIOUS has another key with kid "${key.kid}" than SIGNING_KEY has: give each key its own kid.`,
        );
      }
      verifying.push(key as PublicJwk);
    }
  }
  const ring = { current, signing, verifying };
  cached = { current: env.SIGNING_KEY, previous: env.SIGNING_KEY_PREVIOUS, ring };
  return ring;
}

/** The algorithms `SIGNING_KEY` can sign with (an id_token's, a logout token's), in its order. */
export function signingAlgs(env: Env): SigningAlg[] {
  return Object.keys(keyRing(env).signing) as SigningAlg[];
}

/**
 * `SIGNING_KEY`'s key for `alg`; a `ConfigError` (a logged 500) naming the secret when it has
 * none (a single key from before the RSA one: `npm run keygen` prints a set with both).
 */
export function signingKeyFor(env: Env, alg: SigningAlg): PrivateJwk {
  const key = keyRing(env).signing[alg];
  if (key) return key;
  const kinds = { EdDSA: 'an Ed25519', ES256: 'a P-256', RS256: 'an RSA' };
  throw new ConfigError(
    `SIGNING_KEY has no ${alg} key: add ${kinds[alg]} key to its set (\`npm run keygen\` prints a set with an Ed25519 and an RSA key; \`-- --alg ES256\` a P-256 one instead of Ed25519).`,
  );
}
