/**
 * Runs the operator scripts (`scripts/*.mjs`, `examples/*`) as a person runs them, for the
 * Node-side tests: a child process with its own environment and stdin, its exit code and
 * output; and a stand-in Cloudflare account (`fake-wrangler.ts`) in a folder of its own.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FakeAccount } from './fake-wrangler.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `command ...args` from the project's root, with `input` on its stdin; resolves when it exits. */
export function runCommand(
  command: string,
  args: string[] = [],
  { env = {}, input = '' }: { env?: Record<string, string>; input?: string } = {},
): Promise<Ran> {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  child.stdin.end(input);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `node <script> ...args` (a path from the project's root), as `runCommand` runs it. */
export const runScript = (script: string, args: string[] = [], options: Parameters<typeof runCommand>[2] = {}) =>
  runCommand(process.execPath, [path.join(ROOT, script), ...args], options);

export interface Fake {
  /** The environment that points the scripts at this account. */
  env: Record<string, string>;
  /** A copy of wrangler.toml in the account's folder, for scripts that write into it. */
  config: string;
  account: () => FakeAccount;
  remove: () => void;
}

/** A fresh, empty stand-in account, and a copy of wrangler.toml to provision. */
export function fakeCloudflare(toml?: (text: string) => string): Fake {
  const dir = mkdtempSync(path.join(tmpdir(), 'qrcode-login-fake-cf-'));
  const config = path.join(dir, 'wrangler.toml');
  copyFileSync(path.join(ROOT, 'wrangler.toml'), config);
  if (toml) writeFileSync(config, toml(readFileSync(config, 'utf8')));
  return {
    env: { FAKE_CLOUDFLARE: dir, QR_LOGIN_WRANGLER: path.join(ROOT, 'test/support/fake-wrangler.ts') },
    config,
    account: () => JSON.parse(readFileSync(path.join(dir, 'account.json'), 'utf8')),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
