/**
 * The two pages in real Chromium, as a person uses them: a PC window and a phone window.
 * Elements are found by role and accessible name, as the contract names them. Screenshots of
 * each state that matters go to docs/screenshots/. Run by `npm run test:browser`.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { type DevServer, freshStorage, startDev } from '../support/wrangler-dev.ts';

const SHOTS = path.resolve(import.meta.dirname, '../../docs/screenshots');
const PHONE_UA =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36';
const TIMEOUT = 15_000;

let browser: Browser;
const storage = freshStorage();
const servers: DevServer[] = [];
let app: DevServer;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
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
  app = await startDev(storage.dir);
  servers.push(app);
});

after(async () => {
  await browser?.close();
  for (const s of servers) await s.stop();
  storage.remove();
});

async function pc(locale: string, base = app.base): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext({ locale, viewport: { width: 1280, height: 800 } });
  ctx.setDefaultTimeout(TIMEOUT);
  const page = await ctx.newPage();
  await page.goto(`${base}/`);
  return { ctx, page };
}

async function phone(locale: string): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext({
    locale,
    viewport: { width: 360, height: 740 },
    isMobile: true,
    hasTouch: true,
    userAgent: PHONE_UA,
  });
  ctx.setDefaultTimeout(TIMEOUT);
  return { ctx, page: await ctx.newPage() };
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

/** The scan URL of the QR that the PC page shows, read from the API the page used. */
async function scanUrlOf(page: Page): Promise<string> {
  const response = await page.waitForResponse((r) => r.url().endsWith('/api/qrcodes') && r.status() === 201);
  return (await response.json()).scan_url;
}

async function signInOnPhone(
  page: Page,
  names: { user: RegExp; pass: RegExp; button: RegExp },
  user: string,
  pass: string,
) {
  await page.getByLabel(names.user).fill(user);
  await page.getByLabel(names.pass).fill(pass);
  await page.getByRole('button', { name: names.button }).click();
}

const ZH = { user: /^用户名$/, pass: /^密码$/, button: /^登录$/ };
const EN = { user: /^Username$/, pass: /^Password$/, button: /^Sign in$/ };

describe('scan-to-login in the browser', () => {
  test('the whole login in Chinese: the PC ends up signed in as 东东', async () => {
    const { ctx: pcCtx, page: pcPage } = await pc('zh-CN');
    const scanUrl = await scanUrlOf(pcPage);
    await pcPage.getByRole('img', { name: '登录二维码' }).waitFor();
    await pcPage.getByRole('status').filter({ hasText: '扫描' }).waitFor();
    await shot(pcPage, 'pc-waiting');

    const { ctx: phoneCtx, page: phonePage } = await phone('zh-CN');
    await phonePage.goto(scanUrl);
    await phonePage.getByRole('button', { name: '登录' }).waitFor();
    await shot(phonePage, 'phone-sign-in');
    await signInOnPhone(phonePage, ZH, 'dong', '111');

    await phonePage.getByRole('button', { name: '确认登录' }).waitFor();
    await phonePage.getByRole('button', { name: '取消' }).waitFor();
    await pcPage.getByRole('status').filter({ hasText: '东东 已扫码' }).waitFor();
    await shot(pcPage, 'pc-scanned');
    await shot(phonePage, 'phone-confirm');

    await phonePage.getByRole('button', { name: '确认登录' }).click();
    await phonePage.getByText('完成').waitFor();
    await shot(phonePage, 'phone-done');
    await pcPage.getByRole('status').filter({ hasText: '已登录：东东' }).waitFor();
    await shot(pcPage, 'pc-signed-in');
    assert.ok(await pcPage.evaluate(() => localStorage.getItem('qrlogin.pc.token')));
    await phonePage.getByRole('heading', { name: '已登录的设备' }).waitFor();
    await shot(phonePage, 'phone-devices');
    await pcCtx.close();
    await phoneCtx.close();
  });

  test('cancel in English: the PC says so and offers a new code', async () => {
    const { ctx: pcCtx, page: pcPage } = await pc('en-US');
    const scanUrl = await scanUrlOf(pcPage);
    await pcPage.getByRole('img', { name: 'Login QR code' }).waitFor();
    const { ctx: phoneCtx, page: phonePage } = await phone('en-US');
    await phonePage.goto(scanUrl);
    await signInOnPhone(phonePage, EN, 'guang', '222');
    await phonePage.getByRole('button', { name: 'Cancel' }).click();
    await phonePage.getByText('Sign-in cancelled').waitFor();
    await pcPage.getByRole('status').filter({ hasText: 'cancelled' }).waitFor();
    await pcPage.getByRole('button', { name: 'Refresh QR code' }).waitFor();
    await pcCtx.close();
    await phoneCtx.close();
  });

  test('a wrong password and the rate limit on the phone are said in words', async () => {
    const { ctx, page } = await phone('en-US');
    await page.goto(`${app.base}/link`);
    await signInOnPhone(page, EN, 'dong', 'wrong');
    await page.getByRole('alert').filter({ hasText: 'Wrong username or password' }).waitFor();
    // Ten failures for one username from one place: the eleventh is refused, and says for how long.
    for (let i = 0; i < 11; i++) {
      const answered = page.waitForResponse((r) => r.url().endsWith('/api/login'));
      await signInOnPhone(page, EN, 'nobody', `guess-${i}`);
      await answered;
    }
    await page
      .getByRole('alert')
      .filter({ hasText: /Too many attempts\. Try again in \d+ s\./ })
      .waitFor();
    await ctx.close();
  });

  test('log in with the typed code, then sign the PC out from the phone', async () => {
    const { ctx: pcCtx, page: pcPage } = await pc('en-US');
    const created = await pcPage.waitForResponse((r) => r.url().endsWith('/api/qrcodes') && r.status() === 201);
    const { user_code: userCode } = await created.json();
    await pcPage.getByText(userCode).waitFor();

    const { ctx: phoneCtx, page: phonePage } = await phone('en-US');
    await phonePage.goto(`${app.base}/link`);
    await signInOnPhone(phonePage, EN, 'dong', '111');
    await phonePage.getByLabel('Code').fill(userCode.toLowerCase().replace('-', ''));
    await shot(phonePage, 'phone-link');
    await phonePage.getByRole('button', { name: 'Continue' }).click();
    await phonePage.getByRole('button', { name: 'Confirm login' }).click();
    await pcPage.getByRole('status').filter({ hasText: 'Signed in as 东东' }).waitFor();

    // The phone signs the PC out; the PC loses its session on its next request.
    await phonePage.reload();
    const pcDevice = phonePage
      .getByRole('listitem')
      .filter({ hasText: 'QR code' })
      .filter({ hasText: 'Chrome' })
      .first();
    await pcDevice.getByRole('button', { name: /Sign out/ }).click();
    await phonePage.getByText('Device signed out').waitFor();
    await pcPage.reload();
    await pcPage.getByRole('img', { name: 'Login QR code' }).waitFor();
    assert.equal(await pcPage.evaluate(() => localStorage.getItem('qrlogin.pc.token')), null);
    await pcCtx.close();
    await phoneCtx.close();
  });
});

describe('expiry', () => {
  test('an expired code: the PC offers a refresh, the phone says it expired', async () => {
    const short = await startDev(storage.dir, { QR_TTL_SECONDS: '4' });
    servers.push(short);
    const { ctx: pcCtx, page: pcPage } = await pc('zh-CN', short.base);
    const scanUrl = await scanUrlOf(pcPage);
    await pcPage.getByRole('status').filter({ hasText: '二维码已过期' }).waitFor();
    await shot(pcPage, 'pc-expired');

    const { ctx: phoneCtx, page: phonePage } = await phone('zh-CN');
    await phonePage.goto(scanUrl.replace(/^http:\/\/[^/]+/, short.base));
    await signInOnPhone(phonePage, ZH, 'dong', '111');
    await phonePage.getByRole('heading', { name: '二维码已过期' }).waitFor();
    await shot(phonePage, 'phone-expired');

    await pcPage.getByRole('button', { name: '刷新二维码' }).click();
    await pcPage.getByRole('status').filter({ hasText: '扫描' }).waitFor();
    await pcCtx.close();
    await phoneCtx.close();
  });
});

describe('number matching', () => {
  test('the phone picks the two digits the PC shows', async () => {
    const matching = await startDev(storage.dir, { MATCH_CODE: 'on' });
    servers.push(matching);
    const { ctx: pcCtx, page: pcPage } = await pc('en-US', matching.base);
    const scanUrl = await scanUrlOf(pcPage);
    const { ctx: phoneCtx, page: phonePage } = await phone('en-US');
    await phonePage.goto(scanUrl.replace(/^http:\/\/[^/]+/, matching.base));
    await signInOnPhone(phonePage, EN, 'guang', '222');
    await pcPage.getByRole('status').filter({ hasText: '光光 scanned' }).waitFor();
    const code = (await pcPage.locator('.match strong').textContent())?.trim() ?? '';
    assert.match(code, /^\d\d$/);
    await shot(pcPage, 'pc-match');
    await shot(phonePage, 'phone-match');
    await phonePage.getByRole('button', { name: code, exact: true }).click();
    await pcPage.getByRole('status').filter({ hasText: 'Signed in as 光光' }).waitFor();
    await pcCtx.close();
    await phoneCtx.close();
  });
});
