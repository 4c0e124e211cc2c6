/**
 * A fault a person can cause: `wrangler dev` is stopped and started again in the middle of a
 * login. The session's state is in local storage, so after the restart the phone confirms and
 * the PC's poll gets its token. Run by `npm run test:faults` (Node's test runner).
 */

import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';

const ROOT = path.resolve(import.meta.dirname, '../..');
const WRANGLER = path.join(ROOT, 'node_modules/.bin/wrangler');
const ENV = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' };
const persist = mkdtempSync(path.join(tmpdir(), 'qrcode-login-restart-'));
let server: ChildProcess | null = null;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function wrangler(args: string[]): void {
  const run = spawnSync(WRANGLER, [...args, '--persist-to', persist], { cwd: ROOT, env: ENV, encoding: 'utf8' });
  assert.equal(run.status, 0, `wrangler ${args.join(' ')} failed:\n${run.stderr}`);
}

/** Starts `wrangler dev` on the test's storage and resolves once the API answers. */
async function start(port: number): Promise<void> {
  server = spawn(WRANGLER, ['dev', '--port', String(port), '--ip', '127.0.0.1', '--persist-to', persist], {
    cwd: ROOT,
    env: ENV,
    detached: true,
    stdio: 'ignore',
  });
  const exited = new Promise((_, reject) =>
    server?.once('exit', (code) => reject(new Error(`wrangler dev exited with ${code}`))),
  );
  const ready = (async () => {
    for (;;) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/api/config`)).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  await Promise.race([ready, exited]);
}

/** Stops the whole process group (wrangler and its workerd) and waits until it is gone. */
async function stop(): Promise<void> {
  const child = server;
  server = null;
  if (!child?.pid || child.exitCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid, 'SIGKILL');
  await gone;
}

after(async () => {
  await stop();
  rmSync(persist, { recursive: true, force: true });
});

test('a login survives a restart of wrangler dev in the middle', { timeout: 120_000 }, async () => {
  wrangler(['d1', 'migrations', 'apply', 'DB', '--local']);
  wrangler(['d1', 'execute', 'DB', '--local', '--file', 'seed/demo-users.sql']);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  await start(port);

  // The PC makes a QR; the phone signs in and scans it.
  const qr = await (await fetch(`${base}/api/qrcodes`, { method: 'POST' })).json();
  const login = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'dong', password: '111' }),
  });
  const { token: phone } = await login.json();
  const auth = { Authorization: `Bearer ${phone}` };
  assert.equal(
    (await fetch(`${base}/api/qrcodes/${qr.qrcode_id}/scan`, { method: 'POST', headers: auth })).status,
    200,
  );

  // The server goes away with everything in memory, and comes back on the same storage.
  await stop();
  await start(port);

  // The PC's next poll continues where it was; the phone confirms; the PC gets its token.
  const poll = (after: number) =>
    fetch(`${base}/api/qrcodes/${qr.qrcode_id}/status?after=${after}&wait=30`, {
      headers: { 'X-Poll-Token': qr.poll_token },
    });
  const seen = await (await poll(0)).json();
  assert.equal(seen.status, 'scan-wait-confirm');
  assert.equal(seen.scanner.display_name, '东东');
  const waiting = poll(seen.version);
  assert.equal(
    (await fetch(`${base}/api/qrcodes/${qr.qrcode_id}/confirm`, { method: 'POST', headers: auth })).status,
    200,
  );
  const done = await (await waiting).json();
  assert.equal(done.status, 'scan-confirm');
  const me = await (await fetch(`${base}/api/me`, { headers: { Authorization: `Bearer ${done.token}` } })).json();
  assert.equal(me.username, 'dong');
});
