#!/usr/bin/env node
/**
 * `npm run keygen [-- --alg ES256] [--kid NAME]`: prints a new private JWK for `SIGNING_KEY`
 * (Ed25519 / EdDSA by default, or P-256 / ES256) and the command that stores it as a secret.
 * The key never touches the disk: it goes from this process's stdout to `wrangler secret put`.
 */
import { webcrypto } from 'node:crypto';

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1] : fallback;
};
const alg = option('--alg', 'EdDSA');
const params = { EdDSA: { name: 'Ed25519' }, ES256: { name: 'ECDSA', namedCurve: 'P-256' } }[alg];
if (!params) {
  console.error(`npm run keygen: --alg must be EdDSA or ES256, not ${alg}`);
  process.exit(2);
}
const { privateKey } = await webcrypto.subtle.generateKey(params, true, ['sign', 'verify']);
const jwk = await webcrypto.subtle.exportKey('jwk', privateKey);
const kid = option('--kid', `${new Date().toISOString().slice(0, 10)}-${webcrypto.randomUUID().slice(0, 8)}`);
const key = JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d, kid, alg, use: 'sig' });

if (process.stdout.isTTY) {
  console.log(`# A new ${alg} signing key (kid ${kid}). Store it as the Worker's secret, then deploy:`);
  console.log(`echo '${key}' | npx wrangler secret put SIGNING_KEY`);
  console.log(
    '# Rotating? First move the current key to SIGNING_KEY_PREVIOUS (its tokens keep verifying until they expire).',
  );
} else {
  // Piped (`npm run keygen --silent | npx wrangler secret put SIGNING_KEY`): the key alone.
  console.log(key);
}
