/**
 * What the Chromium suites share: one browser, `wrangler dev` servers on copies of one seeded
 * storage, windows that check the page keeps its promises (nothing from another origin, no CSP
 * violation, no uncaught error), a PC and a phone window, the phone's side through the API,
 * screenshots, and an axe-core run.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import jsQR from 'jsqr';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { type DevServer, freePort, freshStorage, startDev } from '../support/wrangler-dev.ts';

export const SHOTS = path.resolve(import.meta.dirname, '../../docs/screenshots');
export const PHONE_UA =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36';
export const PC_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';
export const DESKTOP = { width: 1280, height: 800 };
const TIMEOUT = 15_000;
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export const ZH = { user: '用户名', pass: '密码', signIn: '登录', confirm: '确认登录', cancel: '取消' };
export const EN = { user: 'Username', pass: 'Password', signIn: 'Sign in', confirm: 'Confirm login', cancel: 'Cancel' };

/** The browser and the default server of a suite (set in its `before`). */
export const suite = { browser: undefined as unknown as Browser, app: undefined as unknown as DevServer };
/** Migrated and seeded once per suite; every server gets a fresh copy of it as its own storage. */
let seeded: { dir: string; remove: () => void } | null = null;
const copies: string[] = [];

/** Debian's Chromium, headless, with nothing of its own going to the network. */
function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Starts Chromium and the default server (with these variables, on `port` if given) before the
 * suite, stops them after.
 */
export function useBrowser(vars: Record<string, string> = {}, port?: number) {
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    seeded = freshStorage();
    [suite.browser, suite.app] = await Promise.all([launch(), server(vars, port)]);
  });
  after(async () => {
    await suite.browser?.close();
    await suite.app?.stop();
    seeded?.remove();
    for (const dir of copies) rmSync(dir, { recursive: true, force: true });
  });
}

/** `wrangler dev` with its own fresh storage (a copy of the seeded one) and these variables (on `port`). */
export async function server(vars: Record<string, string> = {}, port?: number): Promise<DevServer> {
  assert.ok(seeded, 'useBrowser() runs first');
  const dir = mkdtempSync(path.join(tmpdir(), 'qrcode-login-browser-'));
  cpSync(seeded.dir, dir, { recursive: true });
  copies.push(dir);
  return startDev(dir, vars, port);
}

export interface Window {
  ctx: BrowserContext;
  page: Page;
  /** Closes the window and asserts that the page kept its promises. */
  close: () => Promise<void>;
}

/**
 * A browser window that also watches the page keep its promises: no request outside `origins`
 * (nothing from a CDN), no Content-Security-Policy violation (so no inline script or style), no
 * uncaught error.
 */
export async function open(origins: string[], options: Parameters<Browser['newContext']>[0]): Promise<Window> {
  const ctx = await suite.browser.newContext(options);
  ctx.setDefaultTimeout(TIMEOUT);
  // Every violation of a Content-Security-Policy, also one that the console might not show.
  await ctx.addInitScript(() =>
    document.addEventListener('securitypolicyviolation', (e) =>
      console.error(`Refused by the Content Security Policy: ${e.violatedDirective} ${e.blockedURI}`),
    ),
  );
  const page = await ctx.newPage();
  const problems: string[] = [];
  const allowed = [...origins.map((o) => `${o}/`), 'data:'];
  page.on('request', (r) => {
    if (!allowed.some((prefix) => r.url().startsWith(prefix))) problems.push(`request to ${r.url()}`);
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  const close = async () => {
    await ctx.close();
    assert.deepEqual(problems, []);
  };
  return { ctx, page, close };
}

export async function pc(locale: string, base = suite.app.base) {
  const win = await open([base], { locale, viewport: DESKTOP });
  const created = win.page.waitForResponse((r) => r.url().endsWith('/api/qrcodes') && r.status() === 201);
  await win.page.goto(`${base}/`);
  const qr = (await (await created).json()) as NewQr;
  return { ...win, qr };
}

type PhoneOptions = Omit<NonNullable<Parameters<Browser['newContext']>[0]>, 'locale'>;

/** A 360 px phone window (a phone's User-Agent, touch); it may also load from `alsoFrom` origins. */
export function phone(locale: string, base = suite.app.base, options: PhoneOptions = {}, alsoFrom: string[] = []) {
  return open([base, ...alsoFrom], {
    locale,
    viewport: { width: 360, height: 740 },
    isMobile: true,
    hasTouch: true,
    userAgent: PHONE_UA,
    ...options,
  });
}

/** Signs `user` in through the API (as a browser with `userAgent`, if given) and answers the token. */
export async function apiLogin(base: string, user: { username: string; password: string }, userAgent?: string) {
  const res = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(userAgent ? { 'User-Agent': userAgent } : {}) },
    body: JSON.stringify(user),
  });
  assert.equal(res.status, 200, `login as ${user.username}`);
  return ((await res.json()) as { token: string }).token;
}

/** A phone window already signed in as `user` (the sign-in form has its own tests). */
export async function signedInPhone(
  locale: string,
  user: { username: string; password: string },
  base = suite.app.base,
  options: PhoneOptions = {},
) {
  const win = await phone(locale, base, options);
  const token = await apiLogin(base, user, PHONE_UA);
  // Any page of the origin will do to reach its localStorage; this one runs no script.
  await win.page.goto(`${base}/api/config`);
  await win.page.evaluate((t) => localStorage.setItem('qrlogin.phone.token', t), token);
  return { ...win, token };
}

export interface NewQr {
  qrcode_id: string;
  poll_token: string;
  scan_url: string;
  expires_at: string;
}

/** A QR code asked for by a PC (a Windows Chrome), without a PC window. */
export async function newQr(base = suite.app.base): Promise<NewQr> {
  const res = await fetch(`${base}/api/qrcodes`, { method: 'POST', headers: { 'User-Agent': PC_UA } });
  assert.equal(res.status, 201);
  return (await res.json()) as NewQr;
}

/** The code to type for `qr`, asked for as the PC asks for it (with its poll token). */
export async function userCodeOf(qr: NewQr, base = suite.app.base) {
  const res = await fetch(`${base}/api/qrcodes/${qr.qrcode_id}/user-code`, {
    method: 'POST',
    headers: { 'X-Poll-Token': qr.poll_token },
  });
  assert.equal(res.status, 200);
  return (await res.json()) as { user_code: string; verification_url: string };
}

/** The phone's side through the API: a signed-in user who scans, confirms or cancels. */
export async function phoneUser(base: string, username: string, password: string) {
  const token = await apiLogin(base, { username, password });
  const step = async (id: string, what: 'scan' | 'confirm' | 'cancel', body?: unknown) => {
    const answer = await fetch(`${base}/api/qrcodes/${id}/${what}`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: answer.status, body: (await answer.json().catch(() => null)) as Record<string, unknown> | null };
  };
  return {
    token,
    scan: (id: string) => step(id, 'scan'),
    confirm: (id: string, body?: unknown) => step(id, 'confirm', body),
    cancel: (id: string) => step(id, 'cancel'),
  };
}

/** The PC's next status answer after `after`, as the PC long-polls it. */
export async function pcStatus(qr: NewQr, after: number, base = suite.app.base) {
  const res = await fetch(`${base}/api/qrcodes/${qr.qrcode_id}/status?after=${after}&wait=10`, {
    headers: { 'X-Poll-Token': qr.poll_token },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export const shot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

/**
 * Reads the QR code the way a phone camera would: from the pixels on the screen. (The picture
 * is decoded in a blank tab of its own, which no page's CSP restricts.)
 */
export async function scanScreen(page: Page, img: Locator): Promise<string> {
  const png = (await img.screenshot()).toString('base64');
  const decoder = await page.context().newPage();
  const { width, height, data } = await decoder.evaluate(async (b64) => {
    const picture = new Image();
    picture.src = `data:image/png;base64,${b64}`;
    await picture.decode();
    const canvas = document.createElement('canvas');
    canvas.width = picture.naturalWidth;
    canvas.height = picture.naturalHeight;
    const g = canvas.getContext('2d')!;
    g.drawImage(picture, 0, 0);
    const pixels = g.getImageData(0, 0, canvas.width, canvas.height);
    return { width: pixels.width, height: pixels.height, data: Array.from(pixels.data) };
  }, png);
  await decoder.close();
  const found = jsQR(Uint8ClampedArray.from(data), width, height);
  assert.ok(found, 'the QR code on the screen can be read');
  return found.data;
}

export async function signInOnPhone(page: Page, names: typeof ZH, user: string, pass: string) {
  await page.getByLabel(names.user, { exact: true }).fill(user);
  await page.getByLabel(names.pass, { exact: true }).fill(pass);
  await page.getByRole('button', { name: names.signIn, exact: true }).click();
}

/** The page fits the phone's width: nothing scrolls sideways. */
export async function fitsWidth(page: Page) {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  assert.ok(scroll <= client, `the page is ${scroll} px wide in a ${client} px window`);
}

/** True when the text of the element sits on a single line (it does not wrap). */
export function oneLine(locator: Locator) {
  return locator.evaluate((el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
    return tops.size === 1;
  });
}

/** Buttons that must weigh the same: same size, same look, each on one line, none of them focused. */
export async function equalButtons(buttons: Locator[]) {
  const looks = await Promise.all(
    buttons.map(async (b) => ({
      ...(await b.evaluate((el) => {
        const r = el.getBoundingClientRect();
        const s = getComputedStyle(el);
        return {
          w: Math.round(r.width),
          h: Math.round(r.height),
          look: [s.backgroundColor, s.color, s.fontSize, s.fontWeight, s.borderColor].join(),
          clipped: el.scrollWidth > el.clientWidth,
          focused: document.activeElement === el,
        };
      })),
      oneLine: await oneLine(b),
    })),
  );
  for (const look of looks) assert.deepEqual(look, { ...looks[0], oneLine: true, clipped: false, focused: false });
}

/**
 * The page's watches of its session (`GET /api/sessions/watch`): how many opened (their streams
 * answered 200), and a promise that `n` of them have.
 */
export function watchedStreams(page: Page) {
  let count = 0;
  let opened: (() => void) | null = null;
  page.on('response', (r) => {
    if (new URL(r.url()).pathname !== '/api/sessions/watch' || r.status() !== 200) return;
    count++;
    opened?.();
  });
  return {
    opens: () => count,
    open: (n = 1) =>
      new Promise<void>((resolve) => {
        if (count >= n) return resolve();
        opened = () => {
          if (count >= n) resolve();
        };
      }),
  };
}

export const status = (page: Page, text: string | RegExp) => page.getByRole('status').filter({ hasText: text });

/**
 * axe-core on the page as it is now (open shadow roots included): no serious or critical
 * violation. Evaluated through the DevTools protocol, so the page's CSP (no inline script) is
 * kept, not bypassed. `AXE_VERBOSE=1` also prints the minor ones.
 */
export async function noSeriousA11yProblems(page: Page, where: string) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    interface Violation {
      id: string;
      impact: string;
      help: string;
      nodes: { target: unknown; failureSummary: string }[];
    }
    interface Axe {
      run: (context: Document, options: object) => Promise<{ violations: Violation[] }>;
    }
    const { axe } = window as unknown as { axe: Axe };
    const results = await axe.run(document, { resultTypes: ['violations'] });
    return results.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => `${JSON.stringify(n.target)}: ${n.failureSummary}`),
    }));
  });
  const serious = found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(serious, [], `axe on ${where}: ${JSON.stringify(serious, null, 2)}`);
  if (process.env.AXE_VERBOSE) console.log(where, JSON.stringify(found));
}

export interface Site {
  base: string;
  issuer: string;
  audience: string;
  /** Lets `return_to` go back to the Worker at `origin` (the site checks where it sends tokens). */
  allow: (origin: string) => void;
  /** A token of the site's user signed with the site's key, with `claims` over its usual ones. */
  mint: (claims?: Record<string, unknown>) => Promise<string>;
  stop: () => Promise<void>;
}

/**
 * A tiny site with its own users and its own login (`IDENTITY=jwt`): it publishes its JWKS, signs
 * its user in at `/login` and sends the browser back to `return_to` with `#token=<its JWT>`.
 */
export async function startSite(user = { sub: 'site-user-42', preferred_username: 'alice', name: 'Alice' }) {
  const { SignJWT, exportJWK, generateKeyPair } = await import('jose');
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'site-key-1', alg: 'EdDSA', use: 'sig' };
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const issuer = base;
  const audience = 'qrcode-login-phone';
  const allowed: string[] = [];
  const mint = (claims: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      preferred_username: user.preferred_username,
      name: user.name,
      sub: user.sub,
      iss: issuer,
      aud: audience,
      iat: now,
      exp: now + 600,
      ...claims,
    })
      .setProtectedHeader({ alg: 'EdDSA', kid: jwk.kid, typ: 'JWT' })
      .sign(privateKey);
  };
  const http = await import('node:http');
  const html = (body: string) => `<!doctype html><meta charset="utf-8"><title>Example Shop</title>${body}`;
  const attr = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const srv = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', base);
    if (req.method === 'GET' && url.pathname === '/.well-known/jwks.json') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
      return;
    }
    if (url.pathname === '/login') {
      let returnTo = url.searchParams.get('return_to') ?? '';
      if (req.method === 'POST') {
        let body = '';
        for await (const chunk of req) body += chunk;
        returnTo = new URLSearchParams(body).get('return_to') ?? '';
      }
      // A site sends its tokens only back to the Worker it trusts.
      if (!allowed.some((origin) => returnTo.startsWith(`${origin}/`))) {
        res.writeHead(400, { 'Content-Type': 'text/plain' }).end('return_to is not allowed');
        return;
      }
      if (req.method === 'GET') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(
          html(`<h1>Example Shop</h1><form method="post" action="/login">
            <input type="hidden" name="return_to" value="${attr(returnTo)}">
            <button>Sign in as ${attr(user.name)}</button></form>`),
        );
        return;
      }
      const token = await mint();
      res.writeHead(303, { Location: `${returnTo}#token=${token}` }).end();
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => srv.listen(port, '127.0.0.1', resolve));
  return {
    base,
    issuer,
    audience,
    allow: (origin: string) => allowed.push(origin),
    mint,
    stop: () =>
      new Promise<void>((resolve) => {
        srv.close(() => resolve());
        srv.closeAllConnections();
      }),
  } satisfies Site;
}

/** The policy the README gives a host page of `<qr-login>`: its own origin and the Worker's, nothing else. */
export const strictPolicy = (worker: string) =>
  `default-src 'self'; script-src 'self' ${worker}; connect-src 'self' ${worker}`;

const SITE_CSS = `body { font-family: sans-serif; margin: 24px; }
qr-login { --qr-login-accent: #6639ba; --qr-login-font: Georgia, serif; max-width: 380px; }`;

/**
 * `strict`: the page says the README's policy, so its own styles come from a file too;
 * `passkey`: the element offers a passkey from the user's phone too.
 */
const hostPage = (worker: string, server: string | null, strict: boolean, passkey = false) => `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="color-scheme" content="light dark">
  <title>Example shop</title>
  ${strict ? '<link rel="stylesheet" href="/site.css">' : `<style>${SITE_CSS}</style>`}
  <script type="module" src="${worker}/widget.js"></script>
  <script type="module" src="${worker}/widget/define.js?loaded-twice"></script>
</head>
<body>
  <main>
    <h1>Example shop</h1>
    <p>Sign in to see your orders.</p>
    <qr-login${server ? ` server="${server}"` : ''}${passkey ? ' passkey' : ''}></qr-login>
  </main>
</body>
</html>`;

export interface HostSite {
  stop: () => Promise<void>;
}

/**
 * Another site at `origin` whose page embeds `<qr-login>` from the Worker at `worker`: `/` (no
 * policy of its own), `/strict` (the README's strict CSP), and `/proxied`, which names its own
 * origin as `server` and passes `/api/*` on to the Worker. `?passkey` gives the element its
 * `passkey` attribute.
 */
export async function startHostSite(origin: string, worker: string): Promise<HostSite> {
  const http = await import('node:http');
  const site = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname === '/site.css') {
      res.writeHead(200, { 'Content-Type': 'text/css' }).end(SITE_CSS);
      return;
    }
    if (url.pathname === '/strict') {
      res.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': strictPolicy(worker),
      });
      res.end(hostPage(worker, null, true, url.searchParams.has('passkey')));
      return;
    }
    if (url.pathname.startsWith('/api/')) {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers: Record<string, string> = {};
      for (const name of ['x-poll-token', 'authorization', 'content-type']) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      try {
        const answer = await fetch(`${worker}${url.pathname}${url.search}`, {
          method: req.method,
          headers,
          body: chunks.length ? Buffer.concat(chunks) : undefined,
        });
        res.writeHead(answer.status, { 'Content-Type': answer.headers.get('Content-Type') ?? 'application/json' });
        res.end(Buffer.from(await answer.arrayBuffer()));
      } catch {
        // The Worker stopped while a long-poll was held (the suite is ending).
        res.writeHead(502).end();
      }
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(hostPage(worker, url.pathname === '/proxied' ? origin : null, false, url.searchParams.has('passkey')));
  });
  await new Promise<void>((resolve) => site.listen(Number(new URL(origin).port), '127.0.0.1', resolve));
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        site.close(() => resolve());
        site.closeAllConnections();
      }),
  };
}
