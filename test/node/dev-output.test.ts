/**
 * `npm run dev` says what a developer needs and no network noise: offline (as this machine is)
 * wrangler's runtime used to print a `getaddrinfo ENOTFOUND workers.cloudflare.com` stack, twice,
 * for a `Request.cf` sample that the Worker ignores behind the local front anyway.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { startDev } from '../support/wrangler-dev.ts';

it('npm run dev starts without a Request.cf fetch, so without ENOTFOUND offline', async () => {
  const storage = mkdtempSync(path.join(tmpdir(), 'qrcode-login-dev-output-'));
  // As a developer's shell has it: vitest's NODE_ENV=test alone would stop Miniflare's fetch.
  const { CLOUDFLARE_CF_FETCH_ENABLED: _, NODE_ENV: __, ...env } = process.env;
  let output = '';
  const server = await startDev(storage, {}, undefined, {
    env: { ...env, CI: 'true' },
    onOutput: (text) => {
      output += text;
    },
  });
  try {
    expect(output).toContain('Ready on');
    expect(output).not.toContain('ENOTFOUND');
    expect(output).not.toContain('Unable to fetch the `Request.cf` object');
  } finally {
    await server.stop();
    rmSync(storage, { recursive: true, force: true });
  }
}, 120_000);
