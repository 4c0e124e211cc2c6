/**
 * `npm run doctor` names each configuration mistake's variable, where it was set and what would
 * be right, never a secret's value, and exits 1; `npm start` says the same before "Ready on".
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { npmStart } from '../support/npm-start.ts';
import { ROOT, runCommand } from '../support/operator-scripts.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the project's wrangler.toml with `vars` added to its [vars], and this `.dev.vars` beside it. */
function project(vars: Record<string, string>, devVars: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'qrcode-login-doctor-'));
  dirs.push(dir);
  const config = path.join(dir, 'wrangler.toml');
  copyFileSync(path.join(ROOT, 'wrangler.toml'), config);
  const extra = Object.entries(vars).map(([name, value]) => `${name} = ${JSON.stringify(value)}`);
  writeFileSync(config, readFileSync(config, 'utf8').replace('[vars]\n', `[vars]\n${extra.join('\n')}\n`));
  writeFileSync(path.join(dir, '.dev.vars'), devVars);
  return config;
}

const doctor = (args: string[], env: Record<string, string> = {}) =>
  runCommand('npm', ['run', '--silent', 'doctor', '--', ...args], { env });

describe('npm run doctor', () => {
  it('finds nothing wrong in the project as it is', async () => {
    const ran = await doctor([]);
    expect(ran.stdout + ran.stderr).toContain('nothing wrong in the configuration');
    expect(ran.code).toBe(0);
  });

  it('names each mistake: the variable, where it was set, what would be right; never a secret', async () => {
    const secret = 'a-webhook-secret-without-its-prefix';
    const config = project(
      { ALLOWED_ORIGINS: 'localhost:41100', SCAN_URL_TEMPLATE: 'https://app.example/qr' },
      `${readFileSync(path.join(ROOT, '.dev.vars'), 'utf8')}\nWEBHOOK_URL=https://hooks.example/in\nWEBHOOK_SECRET=${secret}\nALLOWED_ORIGIN=https://typo.example\n`,
    );
    const ran = await doctor(['--config', config]);
    expect(ran.code).toBe(1);
    const lines = ran.stdout.split('\n').filter((line) => line.startsWith('  - '));
    const line = (name: string) => lines.find((l) => l.startsWith(`  - ${name} `)) ?? '';
    expect(line('ALLOWED_ORIGINS entry')).toContain('such as "http://localhost:41100"');
    expect(line('ALLOWED_ORIGINS entry')).toMatch(/\[.*wrangler\.toml \[vars\]\]$/);
    expect(line('SCAN_URL_TEMPLATE')).toContain('{id}');
    expect(line('WEBHOOK_SECRET')).toContain('whsec_');
    expect(line('WEBHOOK_SECRET')).toMatch(/\[.*\.dev\.vars\]$/);
    expect(line('ALLOWED_ORIGIN')).toContain('did you mean ALLOWED_ORIGINS?');
    expect(lines).toHaveLength(4);
    expect(ran.stdout + ran.stderr).not.toContain(secret);
  });

  it('reads the environment and --var over the files', async () => {
    const ran = await doctor(['--var', 'QR_TTL_SECONDS:2m'], { SIGNING_KEY: 'not a key at all' });
    expect(ran.code).toBe(1);
    expect(ran.stdout).toMatch(/^ {2}- SIGNING_KEY is not JSON: .*npm run keygen.* \[the environment\]$/m);
    expect(ran.stdout).toMatch(/^ {2}- QR_TTL_SECONDS is "2m": .* \[--var\]$/m);
    expect(ran.stdout).not.toContain('not a key at all');
  });
});

it('npm start says the problems before "Ready on"', async () => {
  const storage = mkdtempSync(path.join(tmpdir(), 'qrcode-login-doctor-start-'));
  dirs.push(storage);
  const server = await npmStart(storage, ['--var', 'ALLOWED_ORIGINS:localhost:41100']);
  try {
    const output = server.output();
    const said = output.indexOf('ALLOWED_ORIGINS entry "localhost:41100" is not an origin');
    expect(said).toBeGreaterThanOrEqual(0);
    expect(said).toBeLessThan(output.indexOf('Ready on'));
  } finally {
    await server.stop();
  }
}, 120_000);
