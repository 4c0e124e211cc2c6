/**
 * Starts and stops `wrangler dev` for the Node-side suites (browser, faults) as `npm run dev`
 * runs it, behind the local front (`scripts/dev.mjs`): a free port, its own storage with the
 * migrations and demo accounts, and a clean stop of the whole process group.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const WRANGLER = path.join(ROOT, 'node_modules/.bin/wrangler');
const DEV = path.join(ROOT, 'scripts/dev.mjs');
const ENV = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' };

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** A fresh storage folder with the D1 migrations and the demo accounts applied. */
export function freshStorage(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'qrcode-login-test-'));
  for (const args of [
    ['d1', 'migrations', 'apply', 'DB', '--local'],
    ['d1', 'execute', 'DB', '--local', '--file', 'seed/demo-users.sql'],
  ]) {
    const run = spawnSync(WRANGLER, [...args, '--persist-to', dir], { cwd: ROOT, env: ENV, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`wrangler ${args.join(' ')} failed:\n${run.stderr}`);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface DevServer {
  base: string;
  port: number;
  stop: () => Promise<void>;
}

/**
 * `npm run dev`'s server on `storage`, resolved once the API answers through the front. With
 * `options`, it runs in the environment `env` instead of this process's, and `onOutput` reads
 * what it prints.
 */
export async function startDev(
  storage: string,
  vars: Record<string, string> = {},
  port?: number,
  options: { env?: NodeJS.ProcessEnv; onOutput?: (text: string) => void } = {},
): Promise<DevServer> {
  const p = port ?? (await freePort());
  const varArgs = Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]);
  const child: ChildProcess = spawn(
    process.execPath,
    [
      DEV,
      '--port',
      String(p),
      '--ip',
      '127.0.0.1',
      '--persist-to',
      storage,
      '--inspector-port',
      String(await freePort()),
      ...varArgs,
    ],
    {
      cwd: ROOT,
      env: options.env ?? ENV,
      detached: true,
      stdio: ['ignore', options.onOutput ? 'pipe' : 'ignore', options.onOutput ? 'pipe' : 'ignore'],
    },
  );
  child.stdout?.on('data', (chunk) => options.onOutput?.(String(chunk)));
  child.stderr?.on('data', (chunk) => options.onOutput?.(String(chunk)));
  const stop = async () => {
    if (!child.pid || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    process.kill(-child.pid, 'SIGKILL');
    await gone;
  };
  const base = `http://127.0.0.1:${p}`;
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`wrangler dev exited with ${code}`))),
  );
  const ready = (async () => {
    for (;;) {
      try {
        if ((await fetch(`${base}/api/config`)).ok) return;
        // 503: the front is up, wrangler dev behind it not yet
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  try {
    await Promise.race([ready, exited]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { base, port: p, stop };
}
