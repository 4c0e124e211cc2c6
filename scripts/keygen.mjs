#!/usr/bin/env node
/**
 * `npm run keygen [-- --alg ES256] [--kid NAME]`: prints a new private JWK for `SIGNING_KEY`
 * (Ed25519 / EdDSA by default, or P-256 / ES256) and the command that stores it as a secret.
 * The key never touches the disk: it goes from this process's stdout to `wrangler secret put`
 * (or, from `npm run provision`, straight to its stdin).
 */
import { webcrypto } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const PARAMS = { EdDSA: { name: 'Ed25519' }, ES256: { name: 'ECDSA', namedCurve: 'P-256' } };

/** A new private JWK as JSON text, with `kid`, `alg` and `use`; null for an algorithm we do not sign with. */
export async function newSigningKey(alg = 'EdDSA', kid = undefined) {
  const params = PARAMS[alg];
  if (!params) return null;
  const { privateKey } = await webcrypto.subtle.generateKey(params, true, ['sign', 'verify']);
  const jwk = await webcrypto.subtle.exportKey('jwk', privateKey);
  const id = kid ?? `${new Date().toISOString().slice(0, 10)}-${webcrypto.randomUUID().slice(0, 8)}`;
  return JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d, kid: id, alg, use: 'sig' });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const option = (name, fallback) => {
    const i = argv.indexOf(name);
    return i >= 0 && argv[i + 1] ? argv[i + 1] : fallback;
  };
  const alg = option('--alg', 'EdDSA');
  const key = await newSigningKey(alg, option('--kid', undefined));
  if (!key) {
    console.error(`npm run keygen: --alg must be EdDSA or ES256, not ${alg}`);
    process.exit(2);
  }
  if (process.stdout.isTTY) {
    const { kid } = JSON.parse(key);
    console.log(`# A new ${alg} signing key (kid ${kid}). Store it as the Worker's secret, then deploy:`);
    console.log(`echo '${key}' | npx wrangler secret put SIGNING_KEY`);
    console.log(
      '# Rotating? First move the current key to SIGNING_KEY_PREVIOUS (its tokens keep verifying until they expire).',
    );
  } else {
    // Piped (`npm run keygen --silent | npx wrangler secret put SIGNING_KEY`): the key alone.
    console.log(key);
  }
}
