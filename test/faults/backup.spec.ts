/**
 * `npm run backup` and `npm run restore` of `npm start`'s local state: a PC signs in with a QR
 * login, a phone with its password; the state is backed up (the server stopped, or still
 * running), restored into a fresh folder, and a new `npm start` on that folder knows both
 * sessions: the access tokens from before still answer `/api/me`, the refresh tokens still
 * refresh. A restore never writes over a state, and a damaged archive is refused. Run by
 * `npm run test:faults` (Node's test runner).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, test } from 'node:test';
import { npmStart, type StartedServer } from '../support/npm-start.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const work = mkdtempSync(path.join(tmpdir(), 'qrcode-login-backup-'));
const running: StartedServer[] = [];

after(async () => {
  await Promise.all(running.map((s) => s.stop()));
  rmSync(work, { recursive: true, force: true });
});

/**
 * `npm start` on `dir`. Tokens name the server's public origin as their issuer: a real server
 * has one (`PUBLIC_ORIGIN`), which stays when it moves to another port or machine.
 */
async function serve(dir: string, args: string[] = []): Promise<StartedServer> {
  const server = await npmStart(dir, [...args, '--var', 'PUBLIC_ORIGIN:https://login.example.test']);
  running.push(server);
  return server;
}

/** `npm run <script> -- ...args`, as the project's Node runs it: its exit code and output. */
function npmRun(script: 'backup' | 'restore', args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [path.join(ROOT, `scripts/${script}.mjs`), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

async function call(
  base: string,
  urlPath: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
) {
  const res = await fetch(`${base}${urlPath}`, { ...init, signal: AbortSignal.timeout(40_000) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

interface Tokens {
  token: string;
  refresh_token: string;
}

/** The phone signs in as dong; a PC signs in by QR through it. Both sessions' tokens. */
async function signIn(base: string): Promise<{ phone: Tokens; pc: Tokens }> {
  const json = { 'Content-Type': 'application/json' };
  const login = await call(base, '/api/login', {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ username: 'dong', password: '111' }),
  });
  assert.equal(login.status, 200);
  const phone = login.json as unknown as Tokens;
  const auth = { Authorization: `Bearer ${phone.token}` };
  const qr = (await call(base, '/api/qrcodes', { method: 'POST' })).json as { qrcode_id: string; poll_token: string };
  assert.equal((await call(base, `/api/qrcodes/${qr.qrcode_id}/scan`, { method: 'POST', headers: auth })).status, 200);
  assert.equal(
    (await call(base, `/api/qrcodes/${qr.qrcode_id}/confirm`, { method: 'POST', headers: auth })).status,
    200,
  );
  const done = await call(base, `/api/qrcodes/${qr.qrcode_id}/status`, { headers: { 'X-Poll-Token': qr.poll_token } });
  assert.equal(done.json.status, 'scan-confirm');
  return { phone, pc: done.json as unknown as Tokens };
}

/** The sessions from before work on `base`: their access tokens, then their refresh tokens. */
async function stillSignedIn(base: string, sessions: { phone: Tokens; pc: Tokens }) {
  for (const [who, s] of Object.entries(sessions)) {
    const me = await call(base, '/api/me', { headers: { Authorization: `Bearer ${s.token}` } });
    assert.equal(me.status, 200, `${who}: ${JSON.stringify(me.json)}`);
    assert.equal(me.json.username, 'dong');
    const refreshed = await call(base, '/oauth/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: s.refresh_token }).toString(),
    });
    assert.equal(refreshed.status, 200, `${who}: ${JSON.stringify(refreshed.json)}`);
    assert.match(String(refreshed.json.access_token), /^ey/);
  }
}

describe('npm run backup / npm run restore', { concurrency: false }, () => {
  test('a backup of a stopped server, restored into a fresh folder, keeps the sessions from before', {
    timeout: 180_000,
  }, async () => {
    const before = path.join(work, 'stopped');
    const server = await serve(before, ['--demo']);
    const sessions = await signIn(server.base);
    // Killed, not stopped cleanly: what the databases' WAL holds must be in the backup too.
    await server.stop();
    const archive = path.join(work, 'stopped.tar.gz');
    const made = await npmRun('backup', ['--persist-to', before, '--out', archive]);
    assert.equal(made.code, 0, made.output);
    assert.match(made.output, /with no server running on it: one consistent state/);

    const fresh = path.join(work, 'restored-from-stopped');
    const restored = await npmRun('restore', [archive, '--persist-to', fresh]);
    assert.equal(restored.code, 0, restored.output);
    // Into a folder that holds a state already: refused, nothing written.
    const over = await npmRun('restore', [archive, '--persist-to', before]);
    assert.equal(over.code, 1);
    assert.match(over.output, /already holds a state/);

    const again = await serve(fresh);
    await stillSignedIn(again.base, sessions);
    await again.stop();
  });

  test('a backup taken while the server runs keeps a session made just before it', { timeout: 180_000 }, async () => {
    const live = path.join(work, 'live');
    const server = await serve(live, ['--demo']);
    const sessions = await signIn(server.base);
    const archive = path.join(work, 'live.tar.gz');
    const made = await npmRun('backup', ['--persist-to', live, '--out', archive]);
    assert.equal(made.code, 0, made.output);
    assert.match(made.output, /online, while pid \d+/);
    // The server goes on serving meanwhile.
    assert.equal(
      (await call(server.base, '/api/me', { headers: { Authorization: `Bearer ${sessions.pc.token}` } })).status,
      200,
    );
    await server.stop();

    const fresh = path.join(work, 'restored-from-live');
    const restored = await npmRun('restore', [archive, '--persist-to', fresh]);
    assert.equal(restored.code, 0, restored.output);
    const again = await serve(fresh);
    await stillSignedIn(again.base, sessions);
    await again.stop();
  });

  test('a damaged archive or one that is not a backup is refused, and nothing is restored', async () => {
    // A state of one small database, made here, backed up whole.
    const small = path.join(work, 'small');
    mkdirSync(path.join(small, 'v3/do/x'), { recursive: true });
    const db = new DatabaseSync(path.join(small, 'v3/do/x/a.sqlite'));
    db.exec(`CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('${'x'.repeat(50_000)}')`);
    db.close();
    const archive = path.join(work, 'small.tar.gz');
    const made = await npmRun('backup', ['--persist-to', small, '--out', archive]);
    assert.equal(made.code, 0, made.output);
    const damaged = path.join(work, 'damaged.tar.gz');
    const bytes = readFileSync(archive);
    const at = Math.floor(bytes.length / 2);
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
    writeFileSync(damaged, bytes);
    const target = path.join(work, 'never');
    const refused = await npmRun('restore', [damaged, '--persist-to', target]);
    assert.equal(refused.code, 1, refused.output);
    const stranger = path.join(work, 'stranger.tar.gz');
    writeFileSync(path.join(work, 'notes.txt'), 'not a backup');
    const tar = await new Promise<number | null>((resolve) =>
      spawn('tar', ['-czf', stranger, '-C', work, 'notes.txt']).once('exit', resolve),
    );
    assert.equal(tar, 0);
    const foreign = await npmRun('restore', [stranger, '--persist-to', target]);
    assert.equal(foreign.code, 1);
    assert.match(foreign.output, /not a backup of this project/);
    assert.equal(existsSync(path.join(target, 'v3')), false);
    const empty = await npmRun('backup', [
      '--persist-to',
      path.join(work, 'nothing-here'),
      '--out',
      path.join(work, 'x.tar.gz'),
    ]);
    assert.equal(empty.code, 1);
    assert.match(empty.output, /there is no local state/);
  });
});
