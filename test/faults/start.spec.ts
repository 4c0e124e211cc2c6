/**
 * `npm start` is safe to point at a network: it makes the demo accounts (whose passwords are
 * public) only with `--demo`, and the pages name them only when there are some. It refuses a
 * non-loopback address while the signing key is the committed development one (and says which
 * secret to set), or while the storage has the demo accounts and `--demo` was not given. Run by `npm run test:faults` (Node's test runner).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { npmStart, npmStartOutcome, type StartedServer } from '../support/npm-start.ts';
import { freePort } from '../support/wrangler-dev.ts';

const dirs: string[] = [];
function storage(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'qrcode-login-start-'));
  dirs.push(dir);
  return dir;
}
let running: StartedServer | null = null;

after(async () => {
  await running?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A signing key of one's own, as `npm run keygen` makes one. */
function ownKey(): string {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  return JSON.stringify({ ...jwk, kid: 'a-key-of-its-own', alg: 'EdDSA', use: 'sig' });
}

async function demoSignIn(base: string): Promise<number> {
  const res = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'dong', password: '111' }),
  });
  return res.status;
}

async function advertised(base: string): Promise<boolean> {
  const config = (await (await fetch(`${base}/api/config`)).json()) as { development: boolean };
  return config.development;
}

describe('npm start', { concurrency: false }, () => {
  test('makes the demo accounts only with --demo, and names them only when there are some', {
    timeout: 120_000,
  }, async () => {
    const dir = storage();
    running = await npmStart(dir);
    assert.equal(await demoSignIn(running.base), 401);
    assert.equal(await advertised(running.base), false);
    assert.match(running.output(), /no demo accounts/);
    await running.stop();

    running = await npmStart(dir, ['--demo']);
    assert.equal(await demoSignIn(running.base), 200);
    assert.equal(await advertised(running.base), true);
    await running.stop();
    running = null;
  });

  test('refuses a non-loopback address while the storage has the demo accounts, unless --demo', {
    timeout: 120_000,
  }, async () => {
    const dir = storage();
    running = await npmStart(dir, ['--demo']);
    await running.stop();
    running = null;
    const env = { SIGNING_KEY: ownKey() };
    const refused = await npmStartOutcome(
      ['--ip', '0.0.0.0', '--port', String(await freePort()), '--persist-to', dir],
      env,
    );
    assert.equal(refused.code, 1);
    assert.match(refused.output, /demo accounts dong, guang/);
    assert.match(refused.output, /--persist-to/);
    // Asked for knowingly, they are served.
    running = await npmStart(dir, ['--demo'], { ip: '0.0.0.0', env });
    assert.equal(await demoSignIn(running.base), 200);
    await running.stop();
    running = null;
  });

  test('refuses a non-loopback address with the development key, and says which secret to set', async () => {
    for (const ip of ['0.0.0.0', '::']) {
      const { code, output } = await npmStartOutcome(['--ip', ip, '--port', String(await freePort())]);
      assert.equal(code, 1);
      assert.match(output, /development-key-do-not-deploy/);
      assert.match(output, /SIGNING_KEY/);
      assert.match(output, /npm run keygen/);
    }
  });

  test('behind a proxy (--trust-proxy) it faces a network: the development key and the demo accounts are refused there too', {
    timeout: 120_000,
  }, async () => {
    const behind = ['--ip', '127.0.0.1', '--trust-proxy', '127.0.0.1'];
    const key = await npmStartOutcome([...behind, '--port', String(await freePort())]);
    assert.equal(key.code, 1);
    assert.match(key.output, /refusing to serve behind the proxy at 127\.0\.0\.1/);
    assert.match(key.output, /SIGNING_KEY/);
    const dir = storage();
    running = await npmStart(dir, ['--demo']);
    await running.stop();
    running = null;
    const demo = await npmStartOutcome([...behind, '--port', String(await freePort()), '--persist-to', dir], {
      SIGNING_KEY: ownKey(),
    });
    assert.equal(demo.code, 1);
    assert.match(demo.output, /demo accounts dong, guang/);
  });

  test('listens on a non-loopback address with a signing key of its own', { timeout: 120_000 }, async () => {
    running = await npmStart(storage(), [], { ip: '0.0.0.0', env: { SIGNING_KEY: ownKey() } });
    const jwks = (await (await fetch(`${running.base}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    assert.deepEqual(
      jwks.keys.map((k) => k.kid),
      ['a-key-of-its-own'],
    );
    await running.stop();
    running = null;
  });
});
