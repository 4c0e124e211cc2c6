/**
 * `npm run dev` says what a developer needs and no network noise: offline (as this machine is)
 * wrangler's runtime used to print a `getaddrinfo ENOTFOUND workers.cloudflare.com` stack, twice,
 * for a `Request.cf` sample that the Worker ignores behind the local front anyway.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from '../support/operator-scripts.ts';
import { freePort } from '../support/wrangler-dev.ts';

it('npm run dev starts without a Request.cf fetch, so without ENOTFOUND offline', async () => {
  const storage = mkdtempSync(path.join(tmpdir(), 'qrcode-login-dev-output-'));
  // As a developer's shell has it: vitest's NODE_ENV=test alone would stop Miniflare's fetch.
  const { CLOUDFLARE_CF_FETCH_ENABLED: _, NODE_ENV: __, ...env } = process.env;
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, 'scripts/dev.mjs'),
      '--port',
      String(await freePort()),
      '--ip',
      '127.0.0.1',
      '--persist-to',
      storage,
      '--inspector-port',
      String(await freePort()),
    ],
    { cwd: ROOT, env: { ...env, CI: 'true' }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const collect = (chunk: Buffer) => {
      output += chunk;
      if (output.includes('npm run dev: open')) resolve();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('exit', (code) => reject(new Error(`npm run dev exited with ${code}:\n${output}`)));
  });
  try {
    await ready;
    expect(output).toContain('Ready on');
    expect(output).not.toContain('ENOTFOUND');
    expect(output).not.toContain('Unable to fetch the `Request.cf` object');
  } finally {
    const gone = new Promise((resolve) => child.once('exit', resolve));
    if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
    await gone;
    rmSync(storage, { recursive: true, force: true });
  }
}, 120_000);
