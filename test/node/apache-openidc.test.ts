/**
 * Apache httpd with mod_auth_openidc (Debian 12's package, 2.4.12), a relying party that nobody
 * here wrote, protects a page with the README's recipe as written there ("Apache httpd with
 * mod_auth_openidc": `OIDCProviderMetadataURL` our discovery,
 * `OIDCClientID`/`OIDCClientSecret`, `OIDCRedirectURI`, `OIDCCryptoPassphrase`,
 * `OIDCPKCEMethod S256`, `OIDCResponseType code`), against `npm start` with the client in
 * `OIDC_CLIENTS` (an RS256 client, the default: mod_auth_openidc 2.4 cannot verify EdDSA). The
 * test starts its own httpd (its own ServerRoot, config and port, `apache2 -X`; never the
 * system's service). Chromium asks for the protected page, lands on our authorize page, a phone
 * in another browser window scans and confirms, and the protected page shows the user from the
 * id_token's claims (a CGI script printing `OIDC_CLAIM_*`). The back-channel logout step of the
 * contract waits for `/oauth/end_session` and logout tokens, which are not in this branch.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { npmStart, type StartedServer } from '../support/npm-start.ts';
import { freePort } from '../support/wrangler-dev.ts';

const APACHE = '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';
/** The README's client (its recipe names it), with a secret of this test. */
const CLIENT = { id: 'wiki', name: 'Team Wiki', secret: 'an Apache site secret of 32 characters' };
const README = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
const PHONE_UA =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36';

const dir = mkdtempSync(path.join(tmpdir(), 'qrcode-login-apache-'));
const storage = mkdtempSync(path.join(tmpdir(), 'qrcode-login-apache-worker-'));
let worker: StartedServer;
let httpd: ChildProcess | null = null;
let browser: Browser;
let site = '';
/** What httpd printed (a configuration it refuses). */
let said = '';

/** The README's recipe for Apache, as it stands there. */
function readmeRecipe(): string {
  const start = README.indexOf('\n### Apache httpd with mod_auth_openidc\n');
  const end = README.indexOf('\n###', start + 1);
  const recipe = /```apache\n([\s\S]*?)```/.exec(README.slice(start, end))?.[1];
  if (start < 0 || !recipe) throw new Error('README has no Apache recipe');
  return recipe;
}

/** An httpd of this test (its ServerRoot, port, modules, the protected script) with the README's recipe. */
function httpdConf(port: number, issuer: string) {
  const base = `http://127.0.0.1:${port}`;
  const recipe = readmeRecipe()
    .replaceAll('https://login.example.com', issuer)
    .replaceAll('https://wiki.example.com', base)
    .replace(/^OIDCClientSecret .*$/m, `OIDCClientSecret "${CLIENT.secret}"`);
  return `ServerRoot "${dir}"
ServerName 127.0.0.1
Listen 127.0.0.1:${port}
PidFile "${dir}/httpd.pid"
DefaultRuntimeDir "${dir}"
ErrorLog "${dir}/error.log"
LogLevel warn auth_openidc:info
User www-data
Group www-data
LoadModule mpm_prefork_module ${MODULES}/mod_mpm_prefork.so
LoadModule authn_core_module ${MODULES}/mod_authn_core.so
LoadModule authz_core_module ${MODULES}/mod_authz_core.so
LoadModule authz_user_module ${MODULES}/mod_authz_user.so
LoadModule alias_module ${MODULES}/mod_alias.so
LoadModule cgi_module ${MODULES}/mod_cgi.so
LoadModule auth_openidc_module ${MODULES}/mod_auth_openidc.so
DocumentRoot "${dir}"
ScriptAlias /protected/whoami "${dir}/whoami.cgi"

${recipe}`;
}

/** The protected page: who the id_token says signed in. */
const WHOAMI = `#!/bin/sh
printf 'Content-Type: text/html; charset=utf-8\\n\\n'
printf '<!doctype html><html lang="en"><meta charset="utf-8"><title>Team Wiki</title>'
printf '<h1>Hello %s</h1><p id="user">%s</p><p id="sub">%s</p><p id="sid">%s</p>' \\
  "$OIDC_CLAIM_name" "$REMOTE_USER" "$OIDC_CLAIM_sub" "$OIDC_CLAIM_sid"
`;

/** httpd answers (anything): it is listening. Bounded: 20 s. */
async function listening(url: string) {
  const until = Date.now() + 20_000;
  for (;;) {
    const ok = await fetch(url, { redirect: 'manual' }).then(
      () => true,
      () => false,
    );
    if (ok) return;
    if (httpd?.exitCode !== null || Date.now() > until) {
      const log = existsSync(path.join(dir, 'error.log')) ? readFileSync(path.join(dir, 'error.log'), 'utf8') : '';
      throw new Error(`httpd did not start:\n${said}\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  const port = await freePort();
  site = `http://127.0.0.1:${port}`;
  const clients = [
    { client_id: CLIENT.id, client_name: CLIENT.name, redirect_uris: [`${site}/protected/redirect_uri`] },
  ];
  [worker, browser] = await Promise.all([
    npmStart(storage, ['--demo', '--var', `OIDC_CLIENTS:${JSON.stringify(clients)}`], {
      env: { OIDC_CLIENT_SECRETS: `${CLIENT.id}:${CLIENT.secret}` },
    }),
    chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    }),
  ]);
  // httpd drops to www-data: its files must be readable, its script runnable.
  chmodSync(dir, 0o755);
  writeFileSync(path.join(dir, 'httpd.conf'), httpdConf(port, worker.base));
  writeFileSync(path.join(dir, 'whoami.cgi'), WHOAMI, { mode: 0o755 });
  httpd = spawn(APACHE, ['-X', '-d', dir, '-f', path.join(dir, 'httpd.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  httpd.stdout?.on('data', (chunk) => {
    said += chunk;
  });
  httpd.stderr?.on('data', (chunk) => {
    said += chunk;
  });
  await listening(`${site}/`);
}, 120_000);

afterAll(async () => {
  if (httpd && httpd.exitCode === null) {
    const gone = new Promise((resolve) => httpd?.once('exit', resolve));
    httpd.kill('SIGTERM');
    await gone;
  }
  await browser?.close();
  await worker?.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(storage, { recursive: true, force: true });
});

it('mod_auth_openidc protects a page: Chromium signs in by scan and the page shows the user', async () => {
  // The recipe says what mod_auth_openidc 2.4 needs and would not do by itself.
  for (const line of [/^OIDCPKCEMethod S256$/m, /^OIDCResponseType code$/m, /^OIDCProviderMetadataURL \S+$/m]) {
    expect(readmeRecipe()).toMatch(line);
  }
  const pc = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
  const page = await pc.newPage();
  const started = page.waitForResponse((r) => r.url() === `${worker.base}/api/authorize` && r.status() === 200);
  await page.goto(`${site}/protected/whoami`);
  // mod_auth_openidc sent the browser to our authorize page, under the client's name.
  expect(page.url().startsWith(`${worker.base}/oauth/authorize?`)).toBe(true);
  const query = new URL(page.url()).searchParams;
  expect(query.get('code_challenge_method')).toBe('S256');
  await page.getByRole('heading', { name: `Sign in to ${CLIENT.name}` }).waitFor();
  const { login } = (await (await started).json()) as { login: { scan_url: string } };

  // The phone, in a window of its own: signed in as dong, it opens the QR's link and confirms.
  const phoneContext = await browser.newContext({
    locale: 'en-US',
    viewport: { width: 360, height: 740 },
    isMobile: true,
    hasTouch: true,
    userAgent: PHONE_UA,
  });
  const phone = await phoneContext.newPage();
  const signedIn = await fetch(`${worker.base}/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'User-Agent': PHONE_UA },
    body: JSON.stringify({ username: 'dong', password: '111' }),
  });
  const { token } = (await signedIn.json()) as { token: string };
  await phone.goto(`${worker.base}/api/config`);
  await phone.evaluate((t) => localStorage.setItem('qrlogin.phone.token', t), token);
  await phone.goto(login.scan_url);
  await phone.getByRole('heading', { name: `Sign in to ${CLIENT.name} on a computer?` }).waitFor();
  await phone.getByRole('button', { name: 'Confirm login', exact: true }).click();

  // Back through mod_auth_openidc's redirect URI (it exchanges the code, checks the RS256
  // id_token) to the protected page, which shows who signed in.
  await page.getByRole('heading', { name: 'Hello 东东' }).waitFor({ timeout: 30_000 });
  expect(page.url()).toBe(`${site}/protected/whoami`);
  expect(await page.locator('#user').textContent()).toBe('dong');
  expect(await page.locator('#sub').textContent()).toBe('u_dong');
  expect(await page.locator('#sid').textContent()).toMatch(/\S/);

  // Its session lives: the page again, without going back to the provider.
  const again = await page.goto(`${site}/protected/whoami`);
  expect(again?.url()).toBe(`${site}/protected/whoami`);
  await page.getByRole('heading', { name: 'Hello 东东' }).waitFor();
  await phoneContext.close();
  await pc.close();
}, 120_000);
