/**
 * The systemd unit (`deploy/systemd/qrcode-login.service`). No systemd runs here, so: systemd's
 * own `systemd-analyze verify` checks it (every key known, ExecStart executable) where that
 * program is installed; the unit must name what `npm start` needs (its user, folder, secrets,
 * state, open-files limit, restart); and its ExecStart, run as written with its Environment and
 * an EnvironmentFile written as the README says (its folders moved into a temporary one, port 0),
 * serves with the key of that file behind the proxy it trusts, and stops cleanly on systemd's
 * KillSignal within TimeoutStopSec. Run by `npm run test:faults` (Node's test runner).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { findProgram } from '../support/nginx.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const UNIT = path.join(ROOT, 'deploy/systemd/qrcode-login.service');
const work = mkdtempSync(path.join(tmpdir(), 'qrcode-login-systemd-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** The unit's `[Section]` → key → every value given (in order). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header?.[1]) {
      current = new Map();
      sections.set(header[1], current);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(current && eq > 0, `not a unit line: ${line}`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

const unitText = readFileSync(UNIT, 'utf8');
const unit = parseUnit(unitText);
const service = unit.get('Service') ?? new Map<string, string[]>();
const one = (key: string) => {
  const values = service.get(key);
  assert.ok(values?.length, `[Service] has no ${key}=`);
  return values.at(-1) ?? '';
};

/** The unit with its project folder moved to this checkout, as `systemd-analyze verify` needs it. */
const here = (text: string) => text.replaceAll('/opt/qrcode-login', ROOT);

/** An EnvironmentFile line as systemd reads the README's: `KEY='value'` literal, or `KEY=value`. */
function readEnvironmentFile(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m?.[1]) continue;
    const value = (m[2] ?? '').trim();
    env[m[1]] = /^'.*'$/.test(value) ? value.slice(1, -1) : value;
  }
  return env;
}

describe('deploy/systemd/qrcode-login.service', { concurrency: false }, () => {
  test('systemd-analyze verify accepts it: every key known, ExecStart executable (or, without systemd-analyze, its keys are systemd’s)', () => {
    const analyze = findProgram('systemd-analyze');
    if (analyze) {
      const copy = path.join(work, 'qrcode-login.service');
      writeFileSync(copy, here(unitText));
      const run = spawnSync(analyze, ['verify', copy], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      // An unknown or misspelt key is only a warning to systemd: here it fails.
      assert.equal(run.stderr.trim(), '', run.stderr);
    } else {
      const known = new Set(
        'Type User Group WorkingDirectory EnvironmentFile Environment StateDirectory StateDirectoryMode LogsDirectory ExecStart KillSignal TimeoutStopSec TimeoutStartSec Restart RestartSec LimitNOFILE NoNewPrivileges PrivateTmp PrivateDevices ProtectSystem ProtectHome ReadWritePaths ProtectKernelTunables ProtectKernelModules ProtectControlGroups RestrictSUIDSGID LockPersonality CapabilityBoundingSet AmbientCapabilities'.split(
          ' ',
        ),
      );
      for (const key of service.keys()) assert.ok(known.has(key), `unknown key ${key}=`);
      assert.ok(existsSync(here(one('ExecStart')).split(' ')[0] ?? ''), 'ExecStart is not executable');
    }
  });

  test('it names what npm start needs: its user, folder, secrets, state, open-files limit and restart', () => {
    assert.match(one('User'), /^\w[\w-]*$/);
    assert.equal(one('WorkingDirectory'), '/opt/qrcode-login');
    assert.equal(one('EnvironmentFile'), '/etc/qrcode-login/env');
    assert.equal(one('StateDirectory'), 'qrcode-login');
    assert.equal(one('Restart'), 'on-failure');
    assert.ok(Number(one('LimitNOFILE')) >= 65_536, 'LimitNOFILE must allow 10,000 waiting PCs and more');
    assert.equal(one('KillSignal'), 'SIGTERM');
    assert.equal(unit.get('Install')?.get('WantedBy')?.[0], 'multi-user.target');
    const exec = one('ExecStart');
    assert.match(exec, /^\/opt\/qrcode-login\/node_modules\/\.bin\/node scripts\/start\.mjs /);
    assert.match(exec, / --ip 127\.0\.0\.1 /);
    assert.match(exec, / --trust-proxy 127\.0\.0\.1 /);
    assert.match(exec, / --persist-to \/var\/lib\/qrcode-login\/state /);
    assert.match(exec, / --var PUBLIC_ORIGIN:https:\/\/\S+/);
    assert.doesNotMatch(exec, /--demo/);
    // The project's .wrangler/ is written at each start (the bundle): writable under ProtectSystem.
    assert.equal(one('ProtectSystem'), 'strict');
    assert.ok(service.get('ReadWritePaths')?.includes('/opt/qrcode-login/.wrangler'));
  });

  test('its ExecStart, run as written with its Environment and EnvironmentFile, serves with that file’s secrets and stops on SIGTERM', {
    timeout: 120_000,
  }, async () => {
    const state = path.join(work, 'var-lib');
    const logs = path.join(work, 'var-log');
    mkdirSync(state);
    mkdirSync(logs);
    // The EnvironmentFile as the README writes it: the key from `npm run keygen`, in single quotes.
    const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
    const key = JSON.stringify({ ...jwk, kid: 'from-the-environment-file', alg: 'EdDSA', use: 'sig' });
    const envFile = path.join(work, 'env');
    // And another secret beside it, which the Worker must see too.
    const backend = 'site-backend:a secret of the site backend';
    writeFileSync(envFile, `SIGNING_KEY='${key}'\nINTROSPECTION_CLIENTS='${backend}'\n`, { mode: 0o600 });
    const moved = (text: string) =>
      here(text).replaceAll('/var/lib/qrcode-login', state).replaceAll('/var/log/qrcode-login', logs);
    const environment = Object.fromEntries(
      (service.get('Environment') ?? []).flatMap((line) =>
        moved(line)
          .split(' ')
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      ),
    );
    const [program = '', ...args] = moved(one('ExecStart')).replace(' --port 8787 ', ' --port 0 ').split(' ');
    // systemd starts it with its own environment, not the caller's: PATH and the unit's lines only.
    const child = spawn(program, args, {
      cwd: moved(one('WorkingDirectory')),
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', ...environment, ...readEnvironmentFile(envFile) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await Promise.race([
        new Promise<void>((resolve) => {
          const check = () => output.includes('Ready on') && resolve();
          child.stdout.on('data', check);
        }),
        exited.then((code) => assert.fail(`ExecStart exited with ${code}:\n${output}`)),
      ]);
      assert.match(output, /client address from X-Real-IP of 127\.0\.0\.1/);
      assert.match(output, /no demo accounts/);
      const port = Number(/Ready on http:\/\/[^\s/]+:(\d+)/.exec(output)?.[1]);
      const jwks = (await (await fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`)).json()) as {
        keys: { kid: string }[];
      };
      assert.deepEqual(
        jwks.keys.map((k) => k.kid),
        ['from-the-environment-file'],
      );
      const config = (await (await fetch(`http://127.0.0.1:${port}/api/config`)).json()) as { development: boolean };
      assert.equal(config.development, false);
      const introspect = (credentials: string) =>
        fetch(`http://127.0.0.1:${port}/oauth/introspect`, {
          method: 'POST',
          headers: {
            Authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
            'Content-Type': 'application/x-www-form-urlencoded',
          },
          body: 'token=not-a-token',
        });
      const known = await introspect(backend);
      assert.equal(known.status, 200);
      assert.deepEqual(await known.json(), { active: false });
      assert.equal((await introspect('site-backend:another secret')).status, 401);
      assert.ok(existsSync(path.join(state, 'state/v3/d1')), 'the state is in StateDirectory');
    } finally {
      if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGTERM');
    }
    const stopSeconds = Number(one('TimeoutStopSec'));
    const code = await Promise.race([
      exited,
      new Promise((resolve) => setTimeout(resolve, stopSeconds * 1000, 'late')),
    ]);
    if (code === 'late' && child.pid) process.kill(-child.pid, 'SIGKILL');
    assert.equal(code, 0, `not stopped by SIGTERM within TimeoutStopSec:\n${output}`);
    assert.ok(!existsSync(path.join(ROOT, `.wrangler/tmp/start-bundle-${child.pid}`)), 'its bundle is removed');
  });
});
