#!/usr/bin/env node
/**
 * `npm run keygen [-- --alg ES256] [--kid NAME]`: prints a new private JWK set for `SIGNING_KEY`
 * and the command that stores it as a secret: an Ed25519 (EdDSA) key, or with `--alg ES256` a
 * P-256 one, which signs the access tokens, and an RSA-2048 (RS256) key, which OpenID Connect
 * clients may ask their id_tokens to be signed with (Core 1.0 §15.1: RS256 always works). Their
 * kids are NAME and NAME-rsa (NAME: today's date and a random part).
 * The keys never touch the disk: they go from this process's stdout to `wrangler secret put`
 * (or, from `npm run provision`, straight to its stdin).
 */
import { webcrypto } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const PARAMS = {
  EdDSA: { name: 'Ed25519' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  RS256: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
};
/** The members of each kind of key, public then private, in the order they are printed. */
const MEMBERS = {
  OKP: ['kty', 'crv', 'x', 'd'],
  EC: ['kty', 'crv', 'x', 'y', 'd'],
  RSA: ['kty', 'n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'],
};
/** The algorithms whose key signs the access tokens: the first key of the set. */
export const ACCESS_ALGS = ['EdDSA', 'ES256'];

const newKid = () => `${new Date().toISOString().slice(0, 10)}-${webcrypto.randomUUID().slice(0, 8)}`;

/** A new private JWK (an object) with `kid`, `alg` and `use`; null for an algorithm we do not sign with. */
async function newJwk(alg, kid) {
  const params = PARAMS[alg];
  if (!params) return null;
  const { privateKey } = await webcrypto.subtle.generateKey(params, true, ['sign', 'verify']);
  const jwk = await webcrypto.subtle.exportKey('jwk', privateKey);
  return { ...Object.fromEntries(MEMBERS[jwk.kty].map((m) => [m, jwk[m]])), kid, alg, use: 'sig' };
}

/**
 * A new private JWK set as JSON text, what `SIGNING_KEY` takes: an `alg` key (EdDSA or ES256)
 * with kid `kid`, then an RS256 key (RSA, 2048 bits) with kid `kid-rsa`; null for another `alg`.
 */
export async function newSigningKeySet(alg = 'EdDSA', kid = undefined) {
  if (!ACCESS_ALGS.includes(alg)) return null;
  const id = kid ?? newKid();
  const keys = await Promise.all([newJwk(alg, id), newJwk('RS256', `${id}-rsa`)]);
  return JSON.stringify({ keys });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const option = (name, fallback) => {
    const i = argv.indexOf(name);
    return i >= 0 && argv[i + 1] ? argv[i + 1] : fallback;
  };
  const alg = option('--alg', 'EdDSA');
  const set = await newSigningKeySet(alg, option('--kid', undefined));
  if (!set) {
    console.error(`npm run keygen: --alg must be EdDSA or ES256 (the RSA key comes with either), not ${alg}`);
    process.exit(2);
  }
  if (process.stdout.isTTY) {
    const kids = JSON.parse(set).keys.map((k) => `${k.alg} ${k.kid}`);
    console.log(`# New signing keys (${kids.join(', ')}). Store them as the Worker's secret, then deploy:`);
    console.log(`echo '${set}' | npx wrangler secret put SIGNING_KEY`);
    console.log(
      "# Rotating? First put the current keys' public halves in SIGNING_KEY_PREVIOUS (their tokens keep verifying until they expire; see the README).",
    );
  } else {
    // Piped (`npm run keygen --silent | npx wrangler secret put SIGNING_KEY`): the keys alone.
    console.log(set);
  }
}
