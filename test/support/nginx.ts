/**
 * nginx from Debian for the Node-side suites: the project's own config
 * (`deploy/nginx/qrcode-login.conf`) with its ports, certificate and upstream moved into a
 * temporary folder, run as `nginx -p <dir> -c <dir>/nginx.conf -g 'daemon off;'` with its own
 * pid, logs and temporary paths (never the system's service), and a self-signed certificate
 * made by openssl.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, fetch } from 'undici';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const NGINX_TEMPLATE = path.join(ROOT, 'deploy/nginx/qrcode-login.conf');

/** `name` on PATH or in the system’s sbin folders (nginx lives in /usr/sbin), or null. */
export function findProgram(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    const file = path.join(dir || '.', name);
    if (existsSync(file)) return file;
  }
  return null;
}

/** nginx, or a failure that says how to install it. */
export function requireNginx(): string {
  const nginx = findProgram('nginx');
  if (!nginx) {
    throw new Error(
      'nginx is not installed: this test runs Debian’s nginx in front of `npm start`. Install it with `apt-get install -y nginx` (.ci/run does).',
    );
  }
  return nginx;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made by openssl in `dir`. */
export function selfSignedCert(dir: string): { cert: string; key: string; pem: string } {
  const openssl = findProgram('openssl');
  if (!openssl) throw new Error('openssl is not installed: `apt-get install -y openssl` (.ci/run does).');
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const run = spawnSync(
    openssl,
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(`openssl could not make a certificate:\n${run.stderr}`);
  return { cert, key, pem: readFileSync(cert, 'utf8') };
}

/**
 * The project's nginx config with `https` and `http` as its listening ports (on 127.0.0.1 only),
 * `upstream` as `npm start`'s port and the certificate's files. Each replacement must match: a
 * template that changes shape fails here rather than being tested half.
 */
export function renderSiteConfig(opts: { https: number; http: number; upstream: number; cert: string; key: string }) {
  let text = readFileSync(NGINX_TEMPLATE, 'utf8');
  const swaps: [RegExp, string][] = [
    [/^(\s*)listen 443 ssl http2;$/m, `$1listen 127.0.0.1:${opts.https} ssl http2;`],
    [/^\s*listen \[::\]:443 ssl http2;\n/m, ''],
    [/^(\s*)listen 80;$/m, `$1listen 127.0.0.1:${opts.http};`],
    [/^\s*listen \[::\]:80;\n/m, ''],
    [/^(\s*)server 127\.0\.0\.1:8787;$/m, `$1server 127.0.0.1:${opts.upstream};`],
    [/^(\s*)ssl_certificate\s+\S+;$/m, `$1ssl_certificate ${opts.cert};`],
    [/^(\s*)ssl_certificate_key\s+\S+;$/m, `$1ssl_certificate_key ${opts.key};`],
  ];
  for (const [pattern, replacement] of swaps) {
    if (!pattern.test(text)) throw new Error(`${NGINX_TEMPLATE} no longer has ${pattern}`);
    text = text.replace(pattern, replacement);
  }
  return text;
}

export interface RunningNginx {
  dir: string;
  /** `https://127.0.0.1:<port>` */
  origin: string;
  /** A dispatcher that trusts the test's certificate, its connections from `localAddress`. */
  client: (localAddress?: string) => Agent;
  errorLog: () => string;
  stop: () => Promise<void>;
}

/**
 * nginx on 127.0.0.1:`https` (and `http` for the redirect) in front of `npm start` on
 * `upstream`, resolved once it answers `/api/config` over https.
 */
export async function startNginx(opts: { https: number; http: number; upstream: number }): Promise<RunningNginx> {
  const nginx = requireNginx();
  const dir = mkdtempSync(path.join(tmpdir(), 'qrcode-login-nginx-'));
  // nginx's workers (nobody, when the master is root) make their temporary folders in here.
  chmodSync(dir, 0o755);
  const { cert, key, pem } = selfSignedCert(dir);
  writeFileSync(path.join(dir, 'site.conf'), renderSiteConfig({ ...opts, cert, key }));
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((kind) => `    ${kind}_temp_path ${path.join(dir, `${kind}_temp`)};`)
    .join('\n');
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `worker_processes 1;
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'error.log')} info;
events { worker_connections 1024; }
http {
    default_type application/octet-stream;
    access_log ${path.join(dir, 'access.log')};
${temp}
    include ${path.join(dir, 'site.conf')};
}
`,
  );
  const args = ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')];
  const checked = spawnSync(nginx, [...args, '-t'], { encoding: 'utf8' });
  if (checked.status !== 0) throw new Error(`nginx -t refused the config:\n${checked.stderr}`);
  const child: ChildProcess = spawn(nginx, [...args, '-g', 'daemon off;'], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const kill = () => {
    try {
      if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
    } catch {}
  };
  process.once('exit', kill);
  const agents: Agent[] = [];
  const client = (localAddress?: string) => {
    const agent = new Agent({ connect: { ca: pem }, ...(localAddress ? { localAddress } : {}) });
    agents.push(agent);
    return agent;
  };
  const errorLog = () => {
    try {
      return readFileSync(path.join(dir, 'error.log'), 'utf8') + stderr;
    } catch {
      return stderr;
    }
  };
  const origin = `https://127.0.0.1:${opts.https}`;
  const stop = async () => {
    await Promise.all(agents.map((a) => a.close()));
    if (child.pid && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      process.kill(-child.pid, 'SIGTERM');
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5000))]);
      kill();
    }
    process.off('exit', kill);
    rmSync(dir, { recursive: true, force: true });
  };
  const probe = client();
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      const log = errorLog();
      await stop();
      throw new Error(`nginx exited with ${child.exitCode}:\n${log}`);
    }
    try {
      const res = await fetch(`${origin}/api/config`, { dispatcher: probe, signal: AbortSignal.timeout(2000) });
      if (res.ok) break;
    } catch {}
    if (Date.now() > deadline) {
      const log = errorLog();
      await stop();
      throw new Error(`nginx did not answer over https within 15 s:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { dir, origin, client, errorLog, stop };
}
