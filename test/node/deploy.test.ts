/**
 * `npm run deploy`: with webhooks off the Worker is deployed without its queue bindings, so no
 * queue need exist (checked with wrangler's own `deploy --dry-run`, offline); with webhooks on,
 * with them. A real deploy runs the remote migrations first and cleans up after itself (against
 * the stand-in account of test/support/fake-wrangler.ts), and refuses the placeholder database.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without types
import { NO_WEBHOOKS_CONFIG, withoutQueues } from '../../scripts/deploy.mjs';
// @ts-expect-error: a plain ES module script without types
import { shown } from '../../scripts/run-wrangler.mjs';
import { type Fake, fakeCloudflare, ROOT, runScript } from '../support/operator-scripts.ts';

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

describe('withoutQueues', () => {
  it('leaves out the queue tables of wrangler.toml and keeps every other line', () => {
    const toml = readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8');
    const out: string = withoutQueues(toml);
    expect(out).not.toMatch(/^\s*\[\[?queues/m);
    expect(out).not.toContain('qrcode-login-webhooks');
    const kept = out.split('\n').filter((l) => !l.startsWith('# Made by') && !l.startsWith('# the queues.'));
    const original = toml.split('\n');
    // What remains is the original in order, minus a run of lines per queue table.
    let i = 0;
    for (const line of kept) {
      while (original[i] !== line) i++;
      i++;
    }
    for (const table of ['[vars]', '[[d1_databases]]', '[[migrations]]', '[assets]', '[alias]', '[observability]']) {
      expect(out).toContain(table);
    }
  });
});

describe('npm run deploy -- --dry-run (wrangler bundles and checks, offline)', () => {
  it('with webhooks off, deploys no queue binding, and leaves no file behind', async () => {
    const ran = await runScript(DEPLOY, ['--dry-run', '--outdir', outdir]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain(`$ npx wrangler deploy --config ${NO_WEBHOOKS_CONFIG} --dry-run`);
    const bound = bindings(ran.stdout);
    expect(bound).toEqual(expect.arrayContaining(['LOGIN_SESSION', 'RATE_LIMITER', 'USER_CODE', 'DB', 'ASSETS']));
    expect(bound).not.toContain('WEBHOOKS');
    expect(ran.stdout).toContain('--dry-run: exiting now.');
    expect(existsSync(path.join(ROOT, NO_WEBHOOKS_CONFIG))).toBe(false);
  });

  it('with WEBHOOK_URL given, deploys wrangler.toml with its queue', async () => {
    const ran = await runScript(DEPLOY, [
      '--dry-run',
      '--outdir',
      outdir,
      '--var',
      'WEBHOOK_URL:https://hooks.example/qr',
    ]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain('$ npx wrangler deploy --dry-run');
    expect(bindings(ran.stdout)).toContain('WEBHOOKS');
    expect(ran.stdout).toMatch(/env\.WEBHOOKS \(qrcode-login-webhooks\)\s+Queue/);
  });
});

describe('secrets stay off the command line', () => {
  it('a secret given with --var is refused by name, its value never printed', async () => {
    const ran = await runScript(DEPLOY, [
      '--dry-run',
      '--var',
      'WEBHOOK_SECRET:whsec_c2VjcmV0LXZhbHVlLW9mLXRoZS1ob29r',
    ]);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain('WEBHOOK_SECRET must not come with --var');
    expect(ran.stderr).toContain('npx wrangler secret put WEBHOOK_SECRET');
    expect(ran.stdout + ran.stderr).not.toContain('c2VjcmV0LXZhbHVlLW9mLXRoZS1ob29r');
  });

  it('a command the scripts show has each secret --var value redacted', () => {
    expect(
      shown(['deploy', '--var', 'WEBHOOK_SECRET:whsec_abc', '--var=SIGNING_KEY:{"d":"x"}', '--var', 'SITE_NAME:Shop']),
    ).toBe("npx wrangler deploy --var 'WEBHOOK_SECRET:[redacted]' '--var=SIGNING_KEY:[redacted]' --var SITE_NAME:Shop");
  });
});

describe('npm run deploy', () => {
  it('applies the remote migrations, then deploys the queue-less configuration, then removes it', async () => {
    fake = fakeCloudflare(WITH_ID);
    // The account as `npm run provision` leaves it.
    expect((await runScript('scripts/provision.mjs', ['--config', fake.config], { env: fake.env })).code).toBe(0);
    const ran = await runScript(DEPLOY, ['--config', fake.config], { env: fake.env });
    expect(ran.code, ran.stderr).toBe(0);
    const account = fake.account();
    const last = account.calls.slice(-2).map((c) => c.slice(0, 3).join(' '));
    expect(last).toEqual([
      'd1 migrations apply',
      `deploy --config ${path.join(path.dirname(fake.config), NO_WEBHOOKS_CONFIG)}`,
    ]);
    expect(account.deploys).toEqual([
      { config: expect.stringMatching(/wrangler\.no-webhooks\.toml$/), existed: true, queues: false },
    ]);
    expect(account.queues).toEqual([]);
    expect(existsSync(path.join(path.dirname(fake.config), NO_WEBHOOKS_CONFIG))).toBe(false);
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
