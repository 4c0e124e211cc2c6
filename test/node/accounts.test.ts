/**
 * `npm run accounts`: accounts added, listed, disabled and enabled in the local database (then
 * signed in, or refused, by the Worker served on that storage with `npm start`) and in the
 * remote one (the stand-in account of test/support/fake-wrangler.ts). The password is read
 * from stdin and appears nowhere but as its hash in the database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { npmStart } from '../support/npm-start.ts';
import { fakeCloudflare, runScript } from '../support/operator-scripts.ts';

const ACCOUNTS = 'scripts/accounts.mjs';
// Each run starts Node, wrangler's reader and a Miniflare: seconds apiece on a busy machine.
const SLOW = 240_000;
const storage = mkdtempSync(path.join(tmpdir(), 'qrcode-login-accounts-'));
afterAll(() => rmSync(storage, { recursive: true, force: true }));

const PASSWORDS = { alice: 'correct horse battery', "o'brien": "it's'); DROP TABLE users; --", bob: 'bob-password-1' };

const local = (args: string[], input = '') => runScript(ACCOUNTS, [...args, '--persist-to', storage], { input });

async function signIn(base: string, username: string, password: string) {
  const res = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  return { status: res.status, body: (await res.json()) as { user?: { display_name: string }; error?: string } };
}

describe('npm run accounts, in the local database', () => {
  it(
    'adds accounts that sign in, refuses a second with the same name, and lists them',
    async () => {
      for (const [username, password] of Object.entries(PASSWORDS)) {
        const name = username === 'alice' ? ['--name', 'Alice A.'] : [];
        const ran = await local(['add', username, ...name], `${password}\n`);
        expect(ran.code, ran.stderr).toBe(0);
        expect(ran.stdout).toContain(`added ${username} (id u_`);
        expect(ran.stdout + ran.stderr).not.toContain(password);
      }
      const again = await local(['add', 'alice'], 'other\n');
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('already has an account named "alice"');
      const disabled = await local(['disable', 'bob']);
      expect(disabled.code, disabled.stderr).toBe(0);
      expect(disabled.stdout).toContain('disabled bob');

      const listed = await local(['list']);
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).toContain('3 accounts in the local database');
      expect(listed.stdout).toMatch(/^alice\tAlice A\.\tmade \S+$/m);
      expect(listed.stdout).toMatch(/^o'brien\to'brien\tmade \S+$/m);
      expect(listed.stdout).toMatch(/^bob\tbob\tmade \S+\tDISABLED \S+$/m);

      // The Worker on that storage: the new accounts sign in, the disabled one as an unknown name.
      let server = await npmStart(storage);
      try {
        const alice = await signIn(server.base, 'alice', PASSWORDS.alice);
        expect(alice).toMatchObject({ status: 200, body: { user: { display_name: 'Alice A.' } } });
        expect((await signIn(server.base, "o'brien", PASSWORDS["o'brien"])).status).toBe(200);
        expect(await signIn(server.base, 'bob', PASSWORDS.bob)).toMatchObject({
          status: 401,
          body: { error: 'invalid_credentials' },
        });
      } finally {
        await server.stop();
      }

      expect((await local(['enable', 'bob'])).code).toBe(0);
      server = await npmStart(storage);
      try {
        expect((await signIn(server.base, 'bob', PASSWORDS.bob)).status).toBe(200);
      } finally {
        await server.stop();
      }
    },
    SLOW,
  );

  it(
    'says what is wrong: no password, an unknown account, a bad name, bad usage',
    async () => {
      expect(await local(['add', 'carol'], '')).toMatchObject({
        code: 1,
        stderr: expect.stringContaining('no password given'),
      });
      expect(await local(['disable', 'nobody'])).toMatchObject({
        code: 1,
        stderr: expect.stringContaining('has no account named "nobody"'),
      });
      expect(await local(['add', ' padded'], 'x\n')).toMatchObject({
        code: 1,
        stderr: expect.stringContaining('spaces'),
      });
      expect(await local(['add', 'a'.repeat(65)], 'x\n')).toMatchObject({
        code: 1,
        stderr: expect.stringContaining('64'),
      });
      expect(await runScript(ACCOUNTS, ['remove', 'alice'])).toMatchObject({
        code: 2,
        stderr: expect.stringContaining('usage: npm run accounts'),
      });
    },
    SLOW,
  );
});

describe('npm run accounts -- --remote', () => {
  it(
    'adds, lists and disables in the deployed database, hashing the password here',
    async () => {
      const fake = fakeCloudflare();
      try {
        expect((await runScript('scripts/provision.mjs', ['--config', fake.config], { env: fake.env })).code).toBe(0);
        const remote = (args: string[], input = '') =>
          runScript(ACCOUNTS, [...args, '--remote', '--config', fake.config], { env: fake.env, input });
        const added = await remote(['add', 'carol', '--name', 'Carol'], 'carol-password\n');
        expect(added.code, added.stderr).toBe(0);
        expect(added.stdout).toContain('to the remote database "qrcode-login"');
        expect((await remote(['disable', 'carol'])).code).toBe(0);
        expect((await remote(['list'])).stdout).toMatch(/^carol\tCarol\tmade \S+\tDISABLED \S+$/m);

        const account = fake.account();
        // Nothing was run on a local database, and the password was on no command line.
        expect(account.calls.some((c) => c.includes('--local'))).toBe(false);
        expect(JSON.stringify(account.calls)).not.toContain('carol-password');
        const db = new DatabaseSync(path.join(path.dirname(fake.config), 'd1.sqlite'));
        const row = db.prepare('SELECT password_hash, disabled_at FROM users WHERE username = ?').get('carol');
        expect(row?.password_hash).toMatch(/^pbkdf2_sha256\$100000\$[\w-]{22}\$[\w-]{43}$/);
        expect(row?.disabled_at).toEqual(expect.any(String));
        db.close();
      } finally {
        fake.remove();
      }
    },
    SLOW,
  );

  it('tells how to apply the migrations to a database that lacks them', async () => {
    const fake = fakeCloudflare();
    try {
      const ran = await runScript(ACCOUNTS, ['list', '--remote', '--config', fake.config], { env: fake.env });
      expect(ran.code).toBe(1);
      expect(ran.stderr).toContain('no such table: users');
      expect(ran.stderr).toContain('npm run provision applies them');
    } finally {
      fake.remove();
    }
  });
});
