/**
 * The README's DPoP recipe runs as written: its `checkProof` (jose) accepts a proof of the key a
 * token is bound to, made as a client makes it, and refuses one of another key, another URL or
 * another access token.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ROOT, runCommand } from '../support/operator-scripts.ts';

const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The first fenced block of the README section whose heading is `heading`. */
function firstBlock(heading: string): string {
  const start = README.indexOf(`\n### ${heading}\n`);
  if (start < 0) throw new Error(`README has no section "${heading}"`);
  const end = README.slice(start + 1).search(/\n##/);
  const section = README.slice(start, end < 0 ? undefined : start + 1 + end);
  return /```js\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
}

it('checks a proof against the token’s cnf.jkt, and refuses another key, URL or token', async () => {
  const snippet = firstBlock('Tokens bound to a key (DPoP)');
  expect(snippet).toContain('checkProof');
  const program = `${snippet}
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
const key = await generateKeyPair('ES256');
const jwk = await exportJWK(key.publicKey);
const payload = { cnf: { jkt: await calculateJwkThumbprint(jwk) } };
const token = 'header.claims.signature';
const url = 'https://api.site.example/orders';
const proofOf = async (privateKey, pub, claims = {}) =>
  new SignJWT({ htm: 'GET', htu: url, jti: crypto.randomUUID(), iat: Math.floor(Date.now() / 1000),
    ath: base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)))), ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: pub }).sign(privateKey);
const request = async (proof, at = url) => new Request(at, { headers: { Authorization: 'DPoP ' + token, DPoP: proof } });
const outcome = (p) => p.then(() => 'ok', (err) => err.message);
const other = await generateKeyPair('ES256');
console.log(JSON.stringify([
  await outcome(checkProof(await request(await proofOf(key.privateKey, jwk)), token, payload)),
  await outcome(checkProof(await request(await proofOf(other.privateKey, await exportJWK(other.publicKey))), token, payload)),
  await outcome(checkProof(await request(await proofOf(key.privateKey, jwk), 'https://api.site.example/other'), token, payload)),
  await outcome(checkProof(await request(await proofOf(key.privateKey, jwk)), 'another.access.token', payload)),
]));`;
  const ran = await runCommand(process.execPath, ['--input-type=module', '-e', program]);
  expect(ran.code, ran.stderr).toBe(0);
  expect(JSON.parse(ran.stdout)).toEqual(['ok', 'another key', 'wrong htu', 'wrong ath']);
});
