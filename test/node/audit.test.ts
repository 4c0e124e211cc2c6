/**
 * `npm run audit`: the operator answers "who, when, from where" from the command line. Locally,
 * against the Worker served by `npm start` on the same storage: a wrong password and a sign-in
 * travel through the real AUDIT queue into D1 and come out of `npm run audit`, as lines a person
 * reads and as `--json` (one event a line, exactly as the contract spells it). Remotely, through
 * `wrangler d1 execute --json` against the stand-in account of test/support/fake-wrangler.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without types
import { sinceTime } from '../../scripts/audit.mjs';
import { npmStart } from '../support/npm-start.ts';
import { fakeCloudflare, runScript } from '../support/operator-scripts.ts';

const AUDIT = 'scripts/audit.mjs';
const SLOW = 240_000;
const storage = mkdtempSync(path.join(tmpdir(), 'qrcode-login-audit-'));
afterAll(() => rmSync(storage, { recursive: true, force: true }));

const local = (args: string[]) => runScript(AUDIT, [...args, '--persist-to', storage]);
const lines = (stdout: string) => stdout.split('\n').filter(Boolean);

/** What `--json` may print: the contract's members, nothing else. */
const MEMBERS = ['id', 'at', 'kind', 'user', 'actor', 'sid', 'device', 'ip', 'place', 'detail'];

async function login(base: string, username: string, password: string, ua: string) {
  const res = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'User-Agent': ua },
    body: JSON.stringify({ username, password }),
  });
  return res.status;
}

describe('npm run audit, in the local database', () => {
  it(
    'shows a wrong password and a sign-in that went through the Worker’s queue: who, when, from where',
    async () => {
      const server = await npmStart(storage, ['--demo']);
      try {
        expect(await login(server.base, 'dong', 'wrong', 'guesser/1.0')).toBe(401);
        expect(await login(server.base, 'dong', '111', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0')).toBe(200);
        // The queue hands its batch to the consumer within its max_batch_timeout (5 s): look
        // until the two events are there.
        let json: Record<string, unknown>[] = [];
        for (let tries = 0; tries < 20 && json.length < 2; tries++) {
          const ran = await local(['--user', 'DONG', '--json']);
          expect(ran.code, ran.stderr).toBe(0);
          json = lines(ran.stdout).map((l) => JSON.parse(l));
        }
        expect(json.map((e) => e.kind)).toEqual(['sign_in_refused', 'sign_in']);
        for (const event of json) {
          expect(Object.keys(event).every((k) => MEMBERS.includes(k))).toBe(true);
          expect(event).toMatchObject({
            id: expect.stringMatching(/^evt_/),
            at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
            user: { id: 'u_dong', username: 'dong' },
            ip: '127.0.0.1',
          });
        }
        expect(json[0]).toMatchObject({ device: 'guesser/1.0', detail: { reason: 'password' } });
        expect(json[1]).toMatchObject({ sid: expect.any(String), detail: { via: 'password' } });

        // As a person reads it: when, who, what, from where, the device, the details.
        const human = await local(['--user', 'dong', '--since', '1h']);
        expect(human.code, human.stderr).toBe(0);
        expect(human.stderr).toMatch(/^2 events in the local database \(\S+\) \(user dong, since \S+\), oldest first/);
        const [refused, signedIn] = lines(human.stdout).map((l) => l.split('\t'));
        expect(refused).toEqual([
          json[0]!.at,
          'dong',
          'sign_in_refused',
          '127.0.0.1',
          'guesser/1.0',
          'reason=password',
        ]);
        expect(signedIn?.slice(1, 4)).toEqual(['dong', 'sign_in', '127.0.0.1']);

        // Filters: a kind, a time after the events, another user.
        expect(lines((await local(['--kind', 'sign_in', '--user', 'dong', '--json'])).stdout)).toHaveLength(1);
        const future = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
        const none = await local(['--since', future]);
        expect(none).toMatchObject({ code: 0, stdout: '' });
        expect(none.stderr).toContain('0 events');
        expect((await local(['--user', 'guang', '--json'])).stdout).toBe('');
      } finally {
        await server.stop();
      }
    },
    SLOW,
  );

  it('says what is wrong with its arguments', async () => {
    expect(await runScript(AUDIT, ['--since', 'yesterday'])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('--since takes an ISO date or time'),
    });
    expect(await runScript(AUDIT, ['--kind', 'everything'])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('--kind takes one of: sign_in,'),
    });
    expect(await runScript(AUDIT, ['--user', 'x'.repeat(65)])).toMatchObject({ code: 1 });
    expect(await runScript(AUDIT, ['--limit', '0'])).toMatchObject({ code: 1 });
    expect(await runScript(AUDIT, ['--frobnicate'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('usage: npm run audit'),
    });
  });

  it('reads --since as an ISO date or time, or a time ago', () => {
    const now = Date.parse('2026-11-25T10:00:00.000Z');
    expect(sinceTime('7d', now)).toBe('2026-11-18T10:00:00.000Z');
    expect(sinceTime('12h', now)).toBe('2026-11-24T22:00:00.000Z');
    expect(sinceTime('30m', now)).toBe('2026-11-25T09:30:00.000Z');
    expect(sinceTime('2026-11-01', now)).toBe('2026-11-01T00:00:00.000Z');
    expect(sinceTime('2026-11-01T08:00:00+02:00', now)).toBe('2026-11-01T06:00:00.000Z');
  });
});

describe('npm run audit -- --remote', () => {
  it(
    'shows an account disabled and enabled from the command line, `npm run accounts` as who did it',
    async () => {
      const fake = fakeCloudflare();
      try {
        expect((await runScript('scripts/provision.mjs', ['--config', fake.config], { env: fake.env })).code).toBe(0);
        const accounts = (args: string[], input = '') =>
          runScript('scripts/accounts.mjs', [...args, '--remote', '--config', fake.config], { env: fake.env, input });
        expect((await accounts(['add', 'carol'], 'carol-password\n')).code).toBe(0);
        expect((await accounts(['disable', 'carol'])).code).toBe(0);
        // Again: nothing changes, so nothing is said to have changed.
        expect((await accounts(['disable', 'carol'])).code).toBe(0);
        expect((await accounts(['enable', 'carol'])).code).toBe(0);
        const ran = await runScript(AUDIT, ['--remote', '--config', fake.config, '--user', 'carol', '--json'], {
          env: fake.env,
        });
        expect(ran.code, ran.stderr).toBe(0);
        const events = lines(ran.stdout).map((l) => JSON.parse(l));
        expect(events.map((e) => e.kind)).toEqual(['account_disabled', 'account_enabled']);
        for (const e of events) {
          expect(e).toMatchObject({
            id: expect.stringMatching(/^evt_[\w-]{22}$/),
            user: { username: 'carol' },
            actor: { id: 'operator', username: 'npm run accounts' },
            detail: { via: 'cli' },
          });
        }
      } finally {
        fake.remove();
      }
    },
    SLOW,
  );

  it(
    'reads the deployed database through wrangler d1 execute, a quote in a username and all',
    async () => {
      const fake = fakeCloudflare();
      try {
        expect((await runScript('scripts/provision.mjs', ['--config', fake.config], { env: fake.env })).code).toBe(0);
        const db = new DatabaseSync(path.join(path.dirname(fake.config), 'd1.sqlite'));
        const insert = db.prepare(
          'INSERT INTO audit_events (id, at, kind, user_id, username, actor_id, actor_username, sid, ip, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        );
        insert.run(
          'evt_one',
          '2026-11-20T10:00:00.000Z',
          'sign_in',
          'u_ob',
          "o'brien",
          null,
          null,
          's1',
          '192.0.2.1',
          '{"via":"passkey"}',
        );
        insert.run(
          'evt_two',
          '2026-11-21T10:00:00.000Z',
          'account_disabled',
          'u_ob',
          "o'brien",
          'u_boss',
          'boss',
          null,
          '192.0.2.9',
          null,
        );
        insert.run(
          'evt_three',
          '2026-11-21T11:00:00.000Z',
          'sign_in',
          'u_x',
          'someone',
          null,
          null,
          's2',
          '192.0.2.2',
          null,
        );
        db.close();

        const ran = await runScript(AUDIT, ['--remote', '--config', fake.config, '--user', "O'Brien", '--json'], {
          env: fake.env,
        });
        expect(ran.code, ran.stderr).toBe(0);
        expect(lines(ran.stdout).map((l) => JSON.parse(l))).toEqual([
          {
            id: 'evt_one',
            at: '2026-11-20T10:00:00.000Z',
            kind: 'sign_in',
            user: { id: 'u_ob', username: "o'brien" },
            sid: 's1',
            ip: '192.0.2.1',
            detail: { via: 'passkey' },
          },
          {
            id: 'evt_two',
            at: '2026-11-21T10:00:00.000Z',
            kind: 'account_disabled',
            user: { id: 'u_ob', username: "o'brien" },
            actor: { id: 'u_boss', username: 'boss' },
            ip: '192.0.2.9',
          },
        ]);
        expect(ran.stderr).toContain('2 events in the remote database "qrcode-login"');
        const call = fake.account().calls.at(-1)!;
        expect(call.slice(0, 4)).toEqual(['d1', 'execute', 'DB', '--remote']);
        expect(call).toContain('--json');
        // The human form names the admin who acted.
        const human = await runScript(AUDIT, ['--remote', '--config', fake.config, '--since', '2026-11-21'], {
          env: fake.env,
        });
        expect(lines(human.stdout).map((l) => l.split('\t').slice(1, 3))).toEqual([
          ["o'brien", 'account_disabled by boss'],
          ['someone', 'sign_in'],
        ]);
      } finally {
        fake.remove();
      }
    },
    SLOW,
  );
});
