/**
 * `npm run deploy`: the Worker is deployed with every queue binding, webhooks on or off, since the
 * audit log takes every security event through its queue (checked with wrangler's own
 * `deploy --dry-run`, offline). A real deploy runs the remote migrations first (against the
 * stand-in account of test/support/fake-wrangler.ts), and refuses the placeholder database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type Fake, fakeCloudflare, runScript } from '../support/operator-scripts.ts';

const DEPLOY = 'scripts/deploy.mjs';
const outdir = mkdtempSync(path.join(tmpdir(), 'qrcode-login-deploy-'));
const WITH_ID = (toml: string) =>
  toml.replace(/database_id = "[^"]*"/, 'database_id = "5f0c1a2b-0000-4000-8000-000000000001"');

let fake: Fake | null = null;
afterEach(() => {
  fake?.remove();
  fake = null;
});
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** The bindings `wrangler deploy --dry-run` lists, by name. */
const bindings = (stdout: string) => [...stdout.matchAll(/^env\.(\w+)/gm)].map((m) => m[1]);

describe('npm run deploy -- --dry-run (wrangler bundles and checks, offline)', () => {
  it('with webhooks off, still deploys the audit queue (and every other), as wrangler.toml has them', async () => {
    const ran = await runScript(DEPLOY, ['--dry-run', '--outdir', outdir]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain('$ npx wrangler deploy --dry-run');
    const bound = bindings(ran.stdout);
    expect(bound).toEqual(
      expect.arrayContaining(['LOGIN_SESSION', 'RATE_LIMITER', 'USER_CODE', 'DB', 'ASSETS', 'AUDIT', 'WEBHOOKS']),
    );
    expect(ran.stdout).toMatch(/env\.AUDIT \(qrcode-login-audit\)\s+Queue/);
    expect(ran.stdout).toContain('--dry-run: exiting now.');
  });
});

describe('npm run deploy', () => {
  it('applies the remote migrations, then deploys wrangler.toml with its queues, which provision made', async () => {
    fake = fakeCloudflare(WITH_ID);
    // The account as `npm run provision` leaves it.
    expect((await runScript('scripts/provision.mjs', ['--config', fake.config], { env: fake.env })).code).toBe(0);
    const ran = await runScript(DEPLOY, ['--config', fake.config], { env: fake.env });
    expect(ran.code, ran.stderr).toBe(0);
    const account = fake.account();
    const last = account.calls.slice(-2).map((c) => c.slice(0, 2).join(' '));
    expect(last).toEqual(['d1 migrations', 'deploy --config']);
    expect(account.deploys).toEqual([{ config: fake.config, existed: true, queues: true }]);
    expect(account.queues).toEqual(expect.arrayContaining(['qrcode-login-audit']));
  });

  it('with webhooks on, deploys wrangler.toml as it is', async () => {
    fake = fakeCloudflare((t) => WITH_ID(t).replace('[vars]', '[vars]\nWEBHOOK_URL = "https://hooks.example/qr"'));
    expect((await runScript('scripts/provision.mjs', ['--config', fake.config], { env: fake.env })).code).toBe(0);
    const ran = await runScript(DEPLOY, ['--config', fake.config], { env: fake.env });
    expect(ran.code, ran.stderr).toBe(0);
    expect(fake.account().deploys).toEqual([{ config: fake.config, existed: true, queues: true }]);
  });

  it('refuses the placeholder database id before touching the account', async () => {
    fake = fakeCloudflare((t) =>
      t.replace(/database_id = "[^"]*"/, 'database_id = "00000000-0000-0000-0000-000000000000"'),
    );
    const ran = await runScript(DEPLOY, ['--config', fake.config], { env: fake.env });
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain('npm run provision creates the database');
    expect(() => fake?.account()).toThrow(/ENOENT/);
  });
});
