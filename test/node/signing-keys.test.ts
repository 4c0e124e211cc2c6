/**
 * The signing keys on the operator's side: `npm run keygen` prints a JWK set of an Ed25519 (or,
 * with `--alg ES256`, a P-256) key and an RSA-2048 key, each with kid, alg and use, whose halves
 * sign and verify; and `npm start` refuses a non-loopback address while `SIGNING_KEY` holds a
 * committed development key, alone (the old form) or in a set (`.dev.vars`).
 */
import { createPrivateKey, createPublicKey, type JsonWebKey, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without types
import { exposureProblem } from '../../scripts/start.mjs';
import { ROOT, runScript } from '../support/operator-scripts.ts';

type Jwk = JsonWebKey & { kid: string; alg: string; use: string };

const HASH: Record<string, string | null> = { EdDSA: null, ES256: 'sha256', RS256: 'sha256' };

/** The private JWK signs, its public half alone (as the JWKS publishes it) verifies. */
function signsAndVerifies(jwk: Jwk): boolean {
  const { d, p, q, dp, dq, qi, ...pub } = jwk;
  const data = Buffer.from('a token to sign');
  const signature = sign(HASH[jwk.alg] ?? null, data, createPrivateKey({ key: jwk, format: 'jwk' }));
  return verify(HASH[jwk.alg] ?? null, data, createPublicKey({ key: pub, format: 'jwk' }), signature);
}

async function keygen(args: string[] = []) {
  const ran = await runScript('scripts/keygen.mjs', args);
  expect(ran.code, ran.stderr).toBe(0);
  // Piped, it prints the set alone: what `wrangler secret put SIGNING_KEY` reads.
  expect(ran.stdout.trim().split('\n')).toHaveLength(1);
  return (JSON.parse(ran.stdout) as { keys: Jwk[] }).keys;
}

describe('npm run keygen', () => {
  it('prints a set of a new Ed25519 key and a new RSA-2048 key, with kid, alg and use', async () => {
    const keys = await keygen();
    expect(keys).toEqual([
      {
        kty: 'OKP',
        crv: 'Ed25519',
        x: expect.any(String),
        d: expect.any(String),
        kid: expect.stringMatching(/^\d{4}-\d{2}-\d{2}-[0-9a-f]{8}$/),
        alg: 'EdDSA',
        use: 'sig',
      },
      {
        kty: 'RSA',
        ...Object.fromEntries(['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'].map((m) => [m, expect.any(String)])),
        kid: `${keys[0]?.kid}-rsa`,
        alg: 'RS256',
        use: 'sig',
      },
    ]);
    expect(Buffer.from(keys[1]?.n ?? '', 'base64url').length * 8).toBe(2048);
    expect(keys.map(signsAndVerifies)).toEqual([true, true]);
    // Each run, new keys.
    const again = await keygen();
    expect(again.map((k) => k.kid)).not.toEqual(keys.map((k) => k.kid));
    expect(again[1]?.n).not.toBe(keys[1]?.n);
  });

  it('--alg ES256 makes a P-256 key instead of the Ed25519 one; --kid names both', async () => {
    const keys = await keygen(['--alg', 'ES256', '--kid', 'shop-2']);
    expect(keys.map((k) => [k.kty, k.crv, k.alg, k.kid])).toEqual([
      ['EC', 'P-256', 'ES256', 'shop-2'],
      ['RSA', undefined, 'RS256', 'shop-2-rsa'],
    ]);
    expect(keys.map(signsAndVerifies)).toEqual([true, true]);
  });

  it('refuses another algorithm for the first key, and says which it takes', async () => {
    for (const alg of ['RS256', 'HS256']) {
      const ran = await runScript('scripts/keygen.mjs', ['--alg', alg]);
      expect(ran.code).toBe(2);
      expect(ran.stdout).toBe('');
      expect(ran.stderr).toContain(`--alg must be EdDSA or ES256 (the RSA key comes with either), not ${alg}`);
    }
  });
});

describe('npm start and the committed development keys', () => {
  const devVars = readFileSync(path.join(ROOT, '.dev.vars'), 'utf8');
  const committed = devVars.match(/^SIGNING_KEY='(.*)'$/m)?.[1] ?? '';
  const devKeys = (JSON.parse(committed) as { keys: Jwk[] }).keys;

  it('.dev.vars holds the Ed25519 development key and an RSA-2048 development key', () => {
    expect(devKeys.map((k) => [k.alg, k.kid])).toEqual([
      ['EdDSA', 'development-key-do-not-deploy'],
      ['RS256', 'development-rsa-key-do-not-deploy'],
    ]);
    expect(Buffer.from(devKeys[1]?.n ?? '', 'base64url').length * 8).toBe(2048);
    expect(devKeys.map(signsAndVerifies)).toEqual([true, true]);
  });

  it('refuses a non-loopback address with either development key, in a set or alone', async () => {
    const [ed, rsa] = devKeys;
    const [own] = await keygen();
    for (const key of [committed, JSON.stringify(ed), JSON.stringify({ keys: [own, rsa] })]) {
      const problem: string | null = exposureProblem('0.0.0.0', { SIGNING_KEY: key });
      expect(problem).toMatch(/development-(rsa-)?key-do-not-deploy/);
      expect(problem).toContain('npm run keygen');
      expect(exposureProblem('127.0.0.1', { SIGNING_KEY: key })).toBeNull();
    }
    const ownSet = JSON.stringify({ keys: await keygen() });
    expect(exposureProblem('0.0.0.0', { SIGNING_KEY: ownSet })).toBeNull();
  });
});
