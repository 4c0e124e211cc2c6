/**
 * `npm run deploy`: the Worker is deployed with every queue binding, webhooks on or off, since the
 * audit log takes every security event through its queue (checked with wrangler's own
 * `deploy --dry-run`, offline). An operator's own deploy (name, custom domain, vars, database) comes from
 * `deploy.config.json`, and wrangler.toml stays as it is. A real deploy runs the remote
 * migrations first and cleans up after itself (against the stand-in account of
 * test/support/fake-wrangler.ts), and refuses the placeholder database.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without types
import { GENERATED_CONFIG } from '../../scripts/deploy.mjs';
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

describe('npm run deploy -- --dry-run (wrangler bundles and checks, offline)', () => {
  it('deploys wrangler.toml as it is, every queue bound, webhooks off', async () => {
    const ran = await runScript(DEPLOY, ['--dry-run', '--outdir', outdir]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain('$ npx wrangler deploy --dry-run');
    expect(ran.stdout).toContain('# every queue is deployed with the Worker');
    const bound = bindings(ran.stdout);
    expect(bound).toEqual(
      expect.arrayContaining(['LOGIN_SESSION', 'RATE_LIMITER', 'USER_CODE', 'DB', 'ASSETS', 'WEBHOOKS', 'AUDIT']),
    );
    expect(ran.stdout).toMatch(/env\.AUDIT \(qrcode-login-audit\)\s+Queue/);
    expect(ran.stdout).toContain('--dry-run: exiting now.');
    expect(existsSync(path.join(ROOT, GENERATED_CONFIG))).toBe(false);
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
  it('applies the remote migrations, then deploys wrangler.toml with every queue, which provision made', async () => {
    fake = fakeCloudflare(WITH_ID);
    // The account as `npm run provision` leaves it: every queue made, webhooks off.
    expect((await runScript('scripts/provision.mjs', ['--config', fake.config], { env: fake.env })).code).toBe(0);
    expect(fake.account().queues).toEqual(expect.arrayContaining(['qrcode-login-audit', 'qrcode-login-webhooks']));
    const ran = await runScript(DEPLOY, ['--config', fake.config], { env: fake.env });
    expect(ran.code, ran.stderr).toBe(0);
    const account = fake.account();
    const last = account.calls.slice(-2).map((c) => c.slice(0, 3).join(' '));
    expect(last).toEqual(['d1 migrations apply', `deploy --config ${fake.config}`]);
    expect(account.deploys).toEqual([{ config: fake.config, existed: true, queues: true }]);
    expect(existsSync(path.join(path.dirname(fake.config), GENERATED_CONFIG))).toBe(false);
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

describe("an operator's own deploy: deploy.config.json, wrangler.toml untouched", () => {
  const settings = {
    name: 'shop-login',
    routes: [{ pattern: 'login.shop.example', custom_domain: true }],
    workers_dev: false,
    vars: {
      SITE_NAME: 'Example Shop',
      PUBLIC_ORIGIN: 'https://login.shop.example',
      ALLOWED_ORIGINS: 'https://shop.example',
    },
    d1: { database_name: 'shop-login' },
  };

  it('provision makes its database and writes the id there; deploy sends its name, domain and vars', async () => {
    fake = fakeCloudflare();
    const dir = path.dirname(fake.config);
    const toml = readFileSync(fake.config, 'utf8');
    writeFileSync(path.join(dir, 'deploy.config.json'), JSON.stringify(settings, null, 2));

    const provisioned = await runScript('scripts/provision.mjs', ['--config', fake.config], { env: fake.env });
    expect(provisioned.code, provisioned.stderr).toBe(0);
    const account = fake.account();
    expect(account.databases.map((d) => d.name)).toEqual(['shop-login']);
    const id = account.databases[0]?.uuid;
    const written = JSON.parse(readFileSync(path.join(dir, 'deploy.config.json'), 'utf8'));
    expect(written).toEqual({ ...settings, d1: { database_name: 'shop-login', database_id: id } });
    // The secret goes to the Worker the settings name, through the configuration made from them.
    const put = account.calls.find((c) => c[0] === 'secret' && c[1] === 'put') ?? [];
    expect(put.slice(-2)).toEqual(['--config', path.join(dir, GENERATED_CONFIG)]);

    const ran = await runScript(DEPLOY, ['--config', fake.config], { env: fake.env });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain('deploy.config.json over wrangler.toml: name, routes, workers_dev, vars, d1');
    expect(fake.account().deploys).toEqual([
      {
        config: path.join(dir, GENERATED_CONFIG),
        existed: true,
        queues: true,
        deployed: {
          name: 'shop-login',
          routes: settings.routes,
          workers_dev: false,
          vars: expect.objectContaining({ ...settings.vars, QR_TTL_SECONDS: '120', MATCH_CODE: 'off' }),
          database_id: id,
        },
      },
    ]);
    // The accounts of the deployed Worker are in its database too.
    const listed = await runScript('scripts/accounts.mjs', ['list', '--remote', '--config', fake.config], {
      env: fake.env,
    });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('0 accounts in the remote database "shop-login"');
    const execute = fake.account().calls.findLast((c) => c[0] === 'd1' && c[1] === 'execute') ?? [];
    expect(execute).toContain(path.join(dir, GENERATED_CONFIG));

    // Nothing of the operator's went into wrangler.toml, and nothing generated is left.
    expect(readFileSync(fake.config, 'utf8')).toBe(toml);
    expect(existsSync(path.join(dir, GENERATED_CONFIG))).toBe(false);
  });

  it('--deploy-config FILE names another file; wrangler checks it offline (--dry-run)', async () => {
    const file = path.join(outdir, 'staging.deploy.json');
    writeFileSync(file, JSON.stringify({ ...settings, d1: {} }));
    const ran = await runScript(DEPLOY, ['--dry-run', '--outdir', outdir, '--deploy-config', file]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/env\.SITE_NAME \("Example Shop"\)\s+Environment Variable/);
    expect(ran.stdout).toMatch(/env\.PUBLIC_ORIGIN \("https:\/\/login\.shop\.example"\)/);
    expect(existsSync(path.join(ROOT, GENERATED_CONFIG))).toBe(false);
  });

  it('refuses a key it does not read, and a secret among the vars, before touching anything', async () => {
    for (const [bad, words] of [
      [{ ...settings, route: 'login.shop.example' }, '"route", which a deploy does not read'],
      [{ vars: { WEBHOOK_SECRET: 'whsec_abc' } }, 'WEBHOOK_SECRET is a secret, not a variable'],
    ] as const) {
      const file = path.join(outdir, 'bad.deploy.json');
      writeFileSync(file, JSON.stringify(bad));
      const ran = await runScript(DEPLOY, ['--dry-run', '--deploy-config', file]);
      expect(ran.code).toBe(1);
      expect(ran.stderr).toContain(words);
      expect(ran.stdout + ran.stderr).not.toContain('whsec_abc');
    }
  });
});
