/**
 * `npm run provision`: what it would run (`--dry-run`, which runs nothing), and what it does to
 * a Cloudflare account, played by the stand-in account of test/support/fake-wrangler.ts: it
 * makes what is missing, writes the database id into wrangler.toml, and a second run changes
 * nothing.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without types
import { withDatabaseId } from '../../scripts/provision.mjs';
import { type Fake, fakeCloudflare, ROOT, runScript } from '../support/operator-scripts.ts';

const PROVISION = 'scripts/provision.mjs';
const WEBHOOKS_ON = (toml: string) => toml.replace('[vars]', '[vars]\nWEBHOOK_URL = "https://hooks.example/qr"');
const QUEUES = ['qrcode-login-webhooks', 'qrcode-login-audit', 'qrcode-login-webhooks-dead-letters'];

let fake: Fake | null = null;
afterEach(() => {
  fake?.remove();
  fake = null;
});

/** The account-changing calls among the recorded ones. */
const changes = (calls: string[][]) =>
  calls.filter(([group, verb, name]) => verb === 'create' || verb === 'put' || (group === 'd1' && name === 'apply'));

describe('npm run provision -- --dry-run', () => {
  it('prints every command, checks included, and runs none', async () => {
    fake = fakeCloudflare();
    const toml = readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8');
    const ran = await runScript(PROVISION, ['--dry-run'], { env: fake.env });
    expect(ran.code).toBe(0);
    const commands = ran.stdout.split('\n').filter((l) => l.startsWith('$ '));
    expect(commands.map((l) => l.replace(/\s+#.*$/, ''))).toEqual([
      '$ npx wrangler d1 list --json',
      '$ npx wrangler d1 create qrcode-login',
      '$ npx wrangler d1 migrations apply DB --remote',
      ...QUEUES.flatMap((q) => [`$ npx wrangler queues info ${q}`, `$ npx wrangler queues create ${q}`]),
      '$ npx wrangler secret list',
      '$ npx wrangler secret put SIGNING_KEY',
    ]);
    expect(ran.stdout).toContain('(dry run: nothing was changed)');
    // Not one call reached the account, and wrangler.toml is as it was.
    expect(() => fake?.account()).toThrow(/ENOENT/);
    expect(readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8')).toBe(toml);
  });

  it('with webhooks on (in [vars], or by --var), checks and makes the same queues', async () => {
    fake = fakeCloudflare(WEBHOOKS_ON);
    const ran = await runScript(PROVISION, ['--dry-run', '--config', fake.config], { env: fake.env });
    expect(ran.code).toBe(0);
    for (const queue of QUEUES) {
      expect(ran.stdout).toContain(`$ npx wrangler queues info ${queue} --config ${fake.config}`);
      expect(ran.stdout).toContain(`$ npx wrangler queues create ${queue} --config ${fake.config}`);
    }
    // Or with WEBHOOK_URL given as `npm run deploy` takes it.
    const given = await runScript(PROVISION, ['--dry-run', '--var', 'WEBHOOK_URL:https://hooks.example/qr'], {
      env: fake.env,
    });
    expect(given.code).toBe(0);
    for (const queue of QUEUES) expect(given.stdout).toContain(`$ npx wrangler queues create ${queue}`);
  });
});

describe('npm run provision', () => {
  it('makes the database (its id into wrangler.toml), the migrations, the queues and a signing key; again, nothing', async () => {
    fake = fakeCloudflare();
    const first = await runScript(PROVISION, ['--config', fake.config], { env: fake.env });
    expect(first.code, first.stderr).toBe(0);
    const account = fake.account();
    expect(account.databases).toEqual([{ uuid: expect.any(String), name: 'qrcode-login' }]);
    expect(readFileSync(fake.config, 'utf8')).toContain(`database_id = "${account.databases[0]?.uuid}"`);
    // A private Ed25519 key and a private RSA-2048 one, each with a kid, as `npm run keygen` makes
    // them, went to the secret (its value was never printed).
    const { keys } = account.worker?.secrets.SIGNING_KEY ?? {};
    expect(keys).toEqual([
      { kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', kid: expect.any(String), private: true },
      { kty: 'RSA', alg: 'RS256', kid: `${keys?.[0]?.kid}-rsa`, bits: 2048, private: true },
    ]);
    expect(first.stdout).not.toMatch(/"d"\s*:/);
    // The audit log's queue is needed with webhooks off too: every queue is made.
    expect(account.queues).toEqual(QUEUES);
    expect(changes(account.calls).map((c) => c.slice(0, 3).join(' '))).toEqual([
      'd1 create qrcode-login',
      'd1 migrations apply',
      ...QUEUES.map((q) => `queues create ${q}`),
      'secret put SIGNING_KEY',
    ]);

    const callsBefore = account.calls.length;
    const again = await runScript(PROVISION, ['--config', fake.config], { env: fake.env });
    expect(again.code, again.stderr).toBe(0);
    const after = fake.account();
    // Only the checks and the migrations (which apply nothing new) ran; the key was kept.
    expect(changes(after.calls.slice(callsBefore)).map((c) => c.slice(0, 3).join(' '))).toEqual([
      'd1 migrations apply',
    ]);
    expect(after.worker?.secrets.SIGNING_KEY).toEqual(account.worker?.secrets.SIGNING_KEY);
    expect(after.databases).toEqual(account.databases);
    expect(again.stdout).toContain('SIGNING_KEY is set');
  });

  it('with webhooks on, makes the queues once and says WEBHOOK_SECRET is still to set', async () => {
    fake = fakeCloudflare(WEBHOOKS_ON);
    const first = await runScript(PROVISION, ['--config', fake.config], { env: fake.env });
    expect(first.code, first.stderr).toBe(0);
    expect(fake.account().queues).toEqual(QUEUES);
    expect(first.stdout).toContain('note: WEBHOOK_SECRET is not set');
    const again = await runScript(PROVISION, ['--config', fake.config], { env: fake.env });
    expect(again.code, again.stderr).toBe(0);
    expect(fake.account().calls.filter(([group, verb]) => group === 'queues' && verb === 'create')).toHaveLength(3);
  });

  it('stops at the first command that fails, naming it and what wrangler said', async () => {
    fake = fakeCloudflare();
    const ran = await runScript(PROVISION, ['--config', fake.config], {
      env: { ...fake.env, FAKE_WRANGLER_FAIL: 'd1 list' },
    });
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain('npm run provision: this failed: npx wrangler d1 list --json');
    expect(ran.stderr).toContain('You are not logged in');
    expect(fake.account().calls).toHaveLength(1);
  });

  it('refuses arguments it does not know', async () => {
    const ran = await runScript(PROVISION, ['--remote']);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain('usage: npm run provision');
  });
});

describe('withDatabaseId', () => {
  const toml = readFileSync(path.join(ROOT, 'wrangler.toml'), 'utf8');

  it('changes the id of the DB database and not one other character', () => {
    const id = '11111111-2222-3333-4444-555555555555';
    const changed: string = withDatabaseId(toml, 'DB', id);
    expect(changed).toBe(toml.replace(/database_id = "[^"]*"/, `database_id = "${id}"`));
  });

  it('adds the id after database_name when the table has none, and refuses a binding it lacks', () => {
    const without = '[[d1_databases]]\nbinding = "DB"\ndatabase_name = "x"\nmigrations_dir = "m"\n\n[vars]\nA = "1"\n';
    expect(withDatabaseId(without, 'DB', 'abc')).toBe(
      '[[d1_databases]]\nbinding = "DB"\ndatabase_name = "x"\ndatabase_id = "abc"\nmigrations_dir = "m"\n\n[vars]\nA = "1"\n',
    );
    expect(() => withDatabaseId(without, 'OTHER', 'abc')).toThrow(/binding = "OTHER"/);
  });
});
