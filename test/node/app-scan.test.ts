/**
 * A site's own app approves a QR login (`examples/app-scan`, `npm run app-scan`) with the
 * site's token, which `npm run site-token` makes for the configured `IDENTITY_JWT_SECRET` or
 * the site's private key behind `IDENTITY_JWKS_URL`; end to end against the production bundle
 * (`npm start`) with `IDENTITY=jwt`, the computer's side played by plain HTTP.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npmStart, type StartedServer } from '../support/npm-start.ts';
import { ROOT, runScript } from '../support/operator-scripts.ts';

const SLOW = 120_000;
const dir = mkdtempSync(path.join(tmpdir(), 'qrcode-login-app-scan-'));
const SITE = {
  IDENTITY: 'jwt',
  IDENTITY_ISSUER: 'https://shop.example',
  IDENTITY_AUDIENCE: 'qr-login',
  SITE_NAME: 'Example Shop',
};
const SECRET = 'a-site-secret-of-at-least-32-bytes!';
const varArgs = (vars: Record<string, string>) => Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]);

let secretServer: StartedServer;
let jwksServer: StartedServer;
let jwksHost: Server;
const keyFile = path.join(dir, 'site-key.json');

beforeAll(async () => {
  // The site's key pairs for the JWKS server: `npm run keygen` makes the private halves (a P-256
  // key, which signs, and an RSA one), `npm run site-token -- --key … --jwks` gives the public
  // JWKS the site serves.
  const key = await runScript('scripts/keygen.mjs', ['--alg', 'ES256', '--kid', 'shop-1']);
  writeFileSync(keyFile, key.stdout);
  const jwks = await runScript('scripts/site-token.mjs', ['--key', keyFile, '--jwks']);
  expect(jwks.code, jwks.stderr).toBe(0);
  jwksHost = createServer((_, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(jwks.stdout));
  await new Promise<void>((resolve) => jwksHost.listen(0, '127.0.0.1', resolve));
  const { port } = jwksHost.address() as { port: number };
  [secretServer, jwksServer] = await Promise.all([
    npmStart(path.join(dir, 'secret'), varArgs({ ...SITE, IDENTITY_JWT_SECRET: SECRET, MATCH_CODE: 'on' })),
    npmStart(path.join(dir, 'jwks'), varArgs({ ...SITE, IDENTITY_JWKS_URL: `http://127.0.0.1:${port}/jwks.json` })),
  ]);
}, SLOW);

afterAll(async () => {
  await Promise.all([secretServer?.stop(), jwksServer?.stop()]);
  await new Promise((resolve) => jwksHost?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** A site token for `sub`, as `npm run site-token` prints it for these settings. */
async function siteToken(args: string[], vars: Record<string, string>) {
  const ran = await runScript('scripts/site-token.mjs', [...args, ...varArgs({ ...SITE, ...vars })]);
  expect(ran.code, ran.stderr).toBe(0);
  return ran.stdout.trim();
}

/** The computer: a new QR, and its long-poll. */
async function newQr(base: string) {
  const res = await fetch(`${base}/api/qrcodes`, {
    method: 'POST',
    headers: { 'User-Agent': 'PC-Browser/1.0 (test)' },
  });
  expect(res.status).toBe(201);
  const qr = (await res.json()) as { qrcode_id: string; poll_token: string; scan_url: string };
  const status = async (after: number) => {
    const r = await fetch(`${base}/api/qrcodes/${qr.qrcode_id}/status?after=${after}&wait=0`, {
      headers: { 'X-Poll-Token': qr.poll_token },
    });
    return (await r.json()) as { status: string; match_code?: string; token?: string };
  };
  return { ...qr, status };
}

/** `npm run app-scan` as a person runs it: answers typed when its prompts appear. */
function appScan(args: string[], token: string) {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [path.join(ROOT, 'examples/app-scan/index.mjs'), ...args],
    { cwd: ROOT, env: { ...process.env, SITE_TOKEN: token }, stdio: 'pipe' },
  );
  let stdout = '';
  let stderr = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
    for (const w of waiters.filter((w) => stdout.includes(w.text))) w.resolve();
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  return {
    /** Resolves once the app printed `text`. */
    prompt: (text: string) =>
      new Promise<void>((resolve, reject) => {
        if (stdout.includes(text)) return resolve();
        waiters.push({ text, resolve });
        exited.then(() => reject(new Error(`app-scan exited without "${text}":\n${stdout}${stderr}`)));
      }),
    type: (line: string) => child.stdin.write(`${line}\n`),
    done: async () => ({ code: await exited, stdout, stderr }),
  };
}

describe('npm run app-scan (IDENTITY_JWT_SECRET)', () => {
  it(
    'scans the QR, shows who is asking, and confirms with the number the computer shows',
    async () => {
      const qr = await newQr(secretServer.base);
      const token = await siteToken(['--sub', 'alice', '--name', 'Alice'], { IDENTITY_JWT_SECRET: SECRET });
      const app = appScan([qr.scan_url], token);
      await app.prompt('Confirm? [y/N]');
      // The computer already sees the scan, and the number to match.
      const scanned = await qr.status(0);
      expect(scanned).toMatchObject({ status: 'scan-wait-confirm', match_code: expect.stringMatching(/^\d{2}$/) });
      app.type('y');
      await app.prompt('Which number does the computer show?');
      app.type(scanned.match_code ?? '');
      const { code, stdout, stderr } = await app.done();
      expect(code, stderr).toBe(0);
      expect(stdout).toContain('Sign in to Example Shop on a computer?');
      expect(stdout).toContain('asking: PC-Browser/1.0 (test)');
      expect(stdout).toContain('Confirmed: the computer is signed in.');

      // The computer gets a token of its own for the site's user.
      const done = await qr.status(1);
      expect(done.status).toBe('scan-confirm');
      expect(decodeJwt(done.token ?? '')).toMatchObject({ sub: 'alice', name: 'Alice' });
      const me = await fetch(`${secretServer.base}/api/me`, { headers: { Authorization: `Bearer ${done.token}` } });
      expect(await me.json()).toEqual({ id: 'alice', username: 'alice', display_name: 'Alice' });
    },
    SLOW,
  );

  it(
    'cancels with --cancel, given the bare id and the server',
    async () => {
      const qr = await newQr(secretServer.base);
      const token = await siteToken(['--sub', 'alice'], { IDENTITY_JWT_SECRET: SECRET });
      const { code, stdout } = await appScan([qr.qrcode_id, '--server', secretServer.base, '--cancel'], token).done();
      expect(code).toBe(0);
      expect(stdout).toContain('Cancelled: the computer is not signed in.');
      expect((await qr.status(1)).status).toBe('scan-cancel');
    },
    SLOW,
  );

  it(
    'says why when the Worker refuses the token, or the QR does not name the server; nothing changes',
    async () => {
      const qr = await newQr(secretServer.base);
      const forged = await siteToken(['--sub', 'mallory'], { IDENTITY_JWT_SECRET: `${SECRET}-but-another-one` });
      const refused = await appScan([qr.scan_url, '--yes'], forged).done();
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^Not done: .+ \(401 unauthorized\)$/m);
      const appLink = await appScan([`https://shop.example/qr/${qr.qrcode_id}`, '--yes'], forged).done();
      expect(appLink.code).toBe(1);
      expect(appLink.stderr).toContain("give --server <the Worker's origin>");
      expect((await qr.status(0)).status).toBe('noscan');
    },
    SLOW,
  );
});

describe('npm run app-scan (IDENTITY_JWKS_URL)', () => {
  it(
    "confirms with a token signed by the site's private key, which the Worker checks against the JWKS",
    async () => {
      const qr = await newQr(jwksServer.base);
      const token = await siteToken(['--sub', 'bob', '--key', keyFile], {
        IDENTITY_JWKS_URL: 'http://127.0.0.1:1/unused',
      });
      expect(JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString())).toEqual({
        alg: 'ES256',
        typ: 'JWT',
        kid: 'shop-1',
      });
      const { code, stdout, stderr } = await appScan([qr.scan_url, '--yes'], token).done();
      expect(code, stderr).toBe(0);
      expect(stdout).toContain('Confirmed');
      const done = await qr.status(1);
      expect(decodeJwt(done.token ?? '')).toMatchObject({ sub: 'bob' });
    },
    SLOW,
  );
});

describe('npm run site-token', () => {
  it('prints the public JWKS of the keys, never a private part', async () => {
    const ran = await runScript('scripts/site-token.mjs', ['--key', keyFile, '--jwks']);
    const { keys } = JSON.parse(ran.stdout) as { keys: Record<string, string>[] };
    const [ec, rsa] = (JSON.parse(readFileSync(keyFile, 'utf8')) as { keys: Record<string, string>[] }).keys;
    expect(keys).toEqual([
      { kty: 'EC', crv: 'P-256', x: ec?.x, y: ec?.y, kid: 'shop-1', alg: 'ES256', use: 'sig' },
      { kty: 'RSA', n: rsa?.n, e: 'AQAB', kid: 'shop-1-rsa', alg: 'RS256', use: 'sig' },
    ]);
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(ran.stdout).not.toContain(`"${member}"`);
  });

  it(
    'says what is missing instead of printing a token the Worker would refuse',
    async () => {
      const cases: [Record<string, string>, string[], string][] = [
        [{}, [], 'neither IDENTITY_JWT_SECRET nor IDENTITY_JWKS_URL is set'],
        [{ IDENTITY_JWT_SECRET: 'short' }, [], 'IDENTITY_JWT_SECRET is 5 bytes; the Worker refuses fewer than 32'],
        [{ IDENTITY_JWKS_URL: 'https://shop.example/jwks.json' }, [], 'give it with --key FILE'],
        [{ IDENTITY_JWT_SECRET: SECRET, IDENTITY_ISSUER: '' }, [], 'IDENTITY_ISSUER is not set'],
      ];
      for (const [vars, args, message] of cases) {
        const ran = await runScript('scripts/site-token.mjs', [...args, ...varArgs({ ...SITE, ...vars })]);
        expect(ran.code).toBe(1);
        expect(ran.stdout).toBe('');
        expect(ran.stderr).toContain(message);
      }
    },
    SLOW,
  );
});
