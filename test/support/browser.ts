/**
 * Shared steps of the Chromium suites: one browser, `wrangler dev` servers on copies of one seeded
 * storage, windows that watch the page keep its promises, the phone's side through the API, and
 * an accessibility engine run (axe-core).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { type DevServer, freshStorage, startDev } from './wrangler-dev.ts';

export const SHOTS = path.resolve(import.meta.dirname, '../../docs/screenshots');
export const PHONE_UA =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36';
export const TIMEOUT = 15_000;

export function launch(): Promise<Browser> {
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

/** Servers for one suite: each gets a fresh copy of storage migrated and seeded once. */
export function servers() {
  const seeded = freshStorage();
  const copies: string[] = [];
  const running: DevServer[] = [];
  return {
    async start(vars: Record<string, string> = {}): Promise<DevServer> {
      const dir = mkdtempSync(path.join(tmpdir(), 'qrcode-login-browser-'));
      cpSync(seeded.dir, dir, { recursive: true });
      copies.push(dir);
      const dev = await startDev(dir, vars);
      running.push(dev);
      return dev;
    },
    async stopAll() {
      await Promise.all(running.map((dev) => dev.stop()));
      seeded.remove();
      for (const dir of copies) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Window {
  ctx: BrowserContext;
  page: Page;
  /** Closes the window and asserts that the page kept its promises. */
  close: () => Promise<void>;
}

/**
 * A browser window that also watches the page keep its promises: no request outside `origins`
 * (nothing from a CDN), no Content-Security-Policy violation, no uncaught error.
 */
export async function open(
  browser: Browser,
  origins: string[],
  options: Parameters<Browser['newContext']>[0],
): Promise<Window> {
  const ctx = await browser.newContext(options);
  ctx.setDefaultTimeout(TIMEOUT);
  const page = await ctx.newPage();
  const problems: string[] = [];
  page.on('request', (r) => {
    if (!origins.some((o) => r.url().startsWith(`${o}/`)) && !r.url().startsWith('data:')) {
      problems.push(`request to ${r.url()}`);
    }
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

export const shot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

/** The phone's side through the API: a signed-in user who scans, confirms or cancels. */
export async function phoneUser(base: string, username: string, password: string) {
  const res = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  assert.equal(res.status, 200, `login as ${username}`);
  const { token } = (await res.json()) as { token: string };
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

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core on the page as it is now (open shadow roots included) and asserts no serious or
 * critical violation. Evaluated through the debugging protocol, so the page's CSP stays on.
 */
export async function assertAccessible(page: Page, what: string) {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown, o: unknown) => Promise<AxeResults> } }).axe;
    interface AxeResults {
      violations: { id: string; impact: string; help: string; nodes: { target: unknown; failureSummary: string }[] }[];
    }
    const results = await axe.run(document, { resultTypes: ['violations'] });
    return results.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({
        id: v.id,
        help: v.help,
        nodes: v.nodes.map((n) => `${JSON.stringify(n.target)}: ${n.failureSummary}`),
      }));
  });
  assert.deepEqual(violations, [], `${what}: ${JSON.stringify(violations, null, 2)}`);
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
