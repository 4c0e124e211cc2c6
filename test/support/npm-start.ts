/**
 * Starts and stops `npm start` (`scripts/start.mjs`) for the Node-side suites, on a bundle made
 * once per test process and storage of its own.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { DevServer } from './wrangler-dev.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const START = path.join(ROOT, 'scripts/start.mjs');
const ENV = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' };

let bundleFile: string | null = null;

/** The production bundle, made once (inside the project: workerd names modules by their path). */
function bundle(): string {
  if (bundleFile) return bundleFile;
  // start.mjs removes `start-bundle-<pid>` folders whose process is gone.
  const outdir = path.join(ROOT, `.wrangler/tmp/start-bundle-${process.pid}`);
  mkdirSync(outdir, { recursive: true });
  const run = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', outdir],
    {
      cwd: ROOT,
      env: { ...ENV, WRANGLER_LOG: 'error' },
      encoding: 'utf8',
    },
  );
  if (run.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${run.stderr}`);
  process.once('exit', () => rmSync(outdir, { recursive: true, force: true }));
  bundleFile = path.join(outdir, 'index.js');
  return bundleFile;
}

export interface StartedServer extends DevServer {
  /** What `npm start` printed so far. */
  output: () => string;
}

/**
 * `npm start -- --ip <ip> --port 0 --persist-to <storage> ...args`, resolved once it says "Ready"
 * (on the port the system gave it: a port probed free beforehand could be taken by another test
 * process before npm start listens on it).
 */
export async function npmStart(
  storage: string,
  args: string[] = [],
  { ip = '127.0.0.1', env = {} }: { ip?: string; env?: Record<string, string> } = {},
): Promise<StartedServer> {
  const child: ChildProcess = spawn(
    process.execPath,
    [START, '--ip', ip, '--port', '0', '--persist-to', storage, '--bundle', bundle(), ...args],
    { cwd: ROOT, env: { ...ENV, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const stop = async () => {
    if (!child.pid || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    process.kill(-child.pid, 'SIGKILL');
    await gone;
  };
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (!output.includes('Ready on')) return;
      child.stdout?.off('data', check);
      resolve();
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
  });
  const port = Number(/Ready on http:\/\/[^\s/]+:(\d+)/.exec(output)?.[1]);
  return { base: `http://127.0.0.1:${port}`, port, stop, output: () => output };
}

/**
 * `npm start` run to see whether it refuses: its exit code and output. Should it start instead,
 * it is stopped at once and the code is null.
 */
export function npmStartOutcome(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [START, ...args], {
    cwd: ROOT,
    env: { ...ENV, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const collect = (chunk: Buffer) => {
      output += chunk;
      if (output.includes('Ready on') && child.pid) process.kill(-child.pid, 'SIGKILL');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('exit', (code) => resolve({ code, output }));
  });
}
