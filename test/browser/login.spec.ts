/**
 * The two pages in real Chromium, as a person uses them: a PC window (1280×800) and a phone
 * window (360×740, a phone's User-Agent). Elements are found by role and accessible name, as the
 * contract names them. Screenshots of each state that matters go to docs/screenshots/.
 * Run by `npm run test:browser`.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import jsQR from 'jsqr';
import { type Browser, type BrowserContext, chromium, type Locator, type Page, type Route } from 'playwright-core';
import { type DevServer, freshStorage, startDev } from '../support/wrangler-dev.ts';

const SHOTS = path.resolve(import.meta.dirname, '../../docs/screenshots');
const PHONE_UA =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36';
const TIMEOUT = 15_000;

let browser: Browser;
/** Migrated and seeded once; every server gets a fresh copy of it as its own storage. */
const seeded = freshStorage();
const copies: string[] = [];
let app: DevServer;

/** `wrangler dev` with its own fresh storage (a copy of the seeded one) and these variables. */
async function server(vars: Record<string, string> = {}): Promise<DevServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'qrcode-login-browser-'));
  cpSync(seeded.dir, dir, { recursive: true });
  copies.push(dir);
  return startDev(dir, vars);
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  [browser, app] = await Promise.all([
    chromium.launch({
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
    }),
    server(),
  ]);
});

after(async () => {
  await browser?.close();
  await app?.stop();
  seeded.remove();
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

/**
 * A browser window that also watches the page keep its promises: nothing from another origin,
 * no Content-Security-Policy violation (so no inline script or style), no uncaught error.
 */
async function open(
  base: string,
  options: Parameters<Browser['newContext']>[0],
): Promise<{ ctx: BrowserContext; page: Page; close: () => Promise<void> }> {
  const ctx = await browser.newContext(options);
  ctx.setDefaultTimeout(TIMEOUT);
  const page = await ctx.newPage();
  const problems: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(`${base}/`) && !r.url().startsWith('data:')) problems.push(`request to ${r.url()}`);
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

async function pc(locale: string, base = app.base) {
  const win = await open(base, { locale, viewport: { width: 1280, height: 800 } });
  const created = win.page.waitForResponse((r) => r.url().endsWith('/api/qrcodes') && r.status() === 201);
  await win.page.goto(`${base}/`);
  const qr = (await (await created).json()) as { scan_url: string; user_code: string };
  return { ...win, qr };
}

function phone(locale: string, base = app.base) {
  return open(base, {
    locale,
    viewport: { width: 360, height: 740 },
    isMobile: true,
    hasTouch: true,
    userAgent: PHONE_UA,
  });
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

/** Reads the QR code the way a phone camera would: from the pixels on the screen. */
async function scanScreen(page: Page, img: Locator): Promise<string> {
  const png = (await img.screenshot()).toString('base64');
  const { width, height, data } = await page.evaluate(async (b64) => {
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
  const found = jsQR(Uint8ClampedArray.from(data), width, height);
  assert.ok(found, 'the QR code on the screen can be read');
  return found.data;
}

async function signInOnPhone(page: Page, names: typeof ZH, user: string, pass: string) {
  await page.getByLabel(names.user, { exact: true }).fill(user);
  await page.getByLabel(names.pass, { exact: true }).fill(pass);
  await page.getByRole('button', { name: names.signIn, exact: true }).click();
}

const ZH = { user: '用户名', pass: '密码', signIn: '登录', confirm: '确认登录', cancel: '取消' };
const EN = { user: 'Username', pass: 'Password', signIn: 'Sign in', confirm: 'Confirm login', cancel: 'Cancel' };

/** The page fits the phone's width: nothing scrolls sideways. */
async function fitsWidth(page: Page) {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  assert.ok(scroll <= client, `the page is ${scroll} px wide in a ${client} px window`);
}

/** Buttons that must weigh the same: same size, same look, and none of them focused. */
async function equalButtons(buttons: Locator[]) {
  const looks = await Promise.all(
    buttons.map((b) =>
      b.evaluate((el) => {
        const r = el.getBoundingClientRect();
        const s = getComputedStyle(el);
        return {
          w: Math.round(r.width),
          h: Math.round(r.height),
          look: [s.backgroundColor, s.color, s.fontSize, s.fontWeight, s.borderColor].join(),
          focused: document.activeElement === el,
        };
      }),
    ),
  );
  for (const look of looks) assert.deepEqual(look, { ...looks[0], focused: false });
}

const status = (page: Page, text: string | RegExp) => page.getByRole('status').filter({ hasText: text });

describe('scan-to-login in the browser', () => {
  test('the whole login in Chinese: the PC ends up signed in as 东东', async () => {
    const desk = await pc('zh-CN');
    const qrImg = desk.page.getByRole('img', { name: '登录二维码' });
    await status(desk.page, '等待扫码').waitFor();
    await desk.page.getByText(/\d:\d\d 后过期/).waitFor();
    // The code to type comes on demand, from the "can't scan?" link.
    await desk.page.getByRole('link', { name: '无法扫码？改用验证码' }).click();
    await desk.page.getByText(/^[B-Z]{4}-[B-Z]{4}$/).waitFor();
    const box = await qrImg.boundingBox();
    assert.ok(box && box.width >= 280 && box.height >= 280, 'the QR code is large');
    // The phone's camera reads the code from the screen.
    const scanned = await scanScreen(desk.page, qrImg);
    assert.equal(scanned, desk.qr.scan_url);
    assert.equal(await desk.page.evaluate(() => document.documentElement.lang), 'zh-CN');
    await shot(desk.page, 'pc-waiting');

    const mobile = await phone('zh-CN');
    await mobile.page.goto(scanned);
    await mobile.page.getByText('演示账号').waitFor();
    await fitsWidth(mobile.page);
    await shot(mobile.page, 'phone-sign-in');
    await signInOnPhone(mobile.page, ZH, 'dong', '111');

    // The phone shows what asks to sign in; Confirm and Cancel weigh the same.
    const confirm = mobile.page.getByRole('button', { name: ZH.confirm, exact: true });
    const cancel = mobile.page.getByRole('button', { name: ZH.cancel, exact: true });
    await confirm.waitFor();
    await mobile.page.getByText('Linux 上的 Chrome').waitFor();
    await mobile.page.getByText('127.0.0.1').first().waitFor();
    await mobile.page.getByText(/\d+ 秒前/).waitFor();
    await mobile.page.getByText('确认后，这台电脑将登录你的账号').waitFor();
    await equalButtons([confirm, cancel]);
    await fitsWidth(mobile.page);
    await mobile.page.getByRole('heading', { name: '已登录的设备' }).waitFor();
    await shot(mobile.page, 'phone-confirm');

    // The PC says who scanned, and shows them.
    await status(desk.page, '东东 已扫码').waitFor();
    await desk.page.locator('.avatar').filter({ hasText: '东' }).waitFor();
    await shot(desk.page, 'pc-scanned');

    await confirm.click();
    await mobile.page.getByRole('heading', { name: '完成，电脑已登录。' }).waitFor();
    await shot(mobile.page, 'phone-done');
    await status(desk.page, '已登录：东东').waitFor();
    await desk.page.getByText('@dong').waitFor();
    await shot(desk.page, 'pc-signed-in');
    assert.ok(await desk.page.evaluate(() => localStorage.getItem('qrlogin.pc.token')));

    // A stored token that is still good: the PC shows the user, not a QR code.
    await desk.page.reload();
    await status(desk.page, '已登录：东东').waitFor();
    assert.equal(await desk.page.getByRole('img', { name: '登录二维码' }).count(), 0);

    // The same code again on the phone: it was used, and says so in words.
    await mobile.page.goto(scanned);
    await mobile.page.getByRole('heading', { name: /二维码已过期|已被使用/ }).waitFor();

    // Sign-out on the PC: a new QR code.
    await desk.page.getByRole('button', { name: '退出', exact: true }).click();
    await desk.page.getByRole('img', { name: '登录二维码' }).waitFor();
    await status(desk.page, '等待扫码').waitFor();
    assert.equal(await desk.page.evaluate(() => localStorage.getItem('qrlogin.pc.token')), null);
    await desk.close();
    await mobile.close();
  });

  test('cancel in English: the PC says so and offers a new code; a second scanner is turned away', async () => {
    const desk = await pc('en-US');
    await desk.page.getByRole('img', { name: 'Login QR code' }).waitFor();
    await status(desk.page, 'Waiting for a scan').waitFor();
    assert.equal(await desk.page.evaluate(() => document.documentElement.lang), 'en');
    const mobile = await phone('en-US');
    await mobile.page.goto(desk.qr.scan_url);
    await signInOnPhone(mobile.page, EN, 'guang', '222');
    await mobile.page.getByRole('button', { name: EN.confirm, exact: true }).waitFor();
    await status(desk.page, '光光 scanned the code. Confirm on your phone.').waitFor();

    // Someone else opens the same code: it is taken.
    const other = await phone('en-US');
    await other.page.goto(desk.qr.scan_url);
    await signInOnPhone(other.page, EN, 'dong', '111');
    await other.page.getByRole('heading', { name: /already used or scanned by someone else/ }).waitFor();
    await other.close();

    await mobile.page.getByRole('button', { name: EN.cancel, exact: true }).click();
    await mobile.page.getByRole('heading', { name: /Sign-in cancelled/ }).waitFor();
    await status(desk.page, 'Sign-in was cancelled on the phone.').waitFor();
    await desk.page.getByRole('button', { name: 'Refresh QR code', exact: true }).click();
    await status(desk.page, 'Waiting for a scan').waitFor();
    await desk.close();
    await mobile.close();
  });

  test('the phone says in words: a wrong password, too many attempts, an unknown code', async () => {
    const mobile = await phone('en-US');
    const { page } = mobile;
    await page.goto(`${app.base}/confirm?id=${'ab'.repeat(32)}`);
    await signInOnPhone(page, EN, 'dong', 'wrong');
    await page.getByRole('alert').filter({ hasText: 'Wrong username or password.' }).waitFor();
    // The sign-in form is still there to try again, with the demo accounts named.
    await page.getByText('Demo accounts: dong / 111, guang / 222').waitFor();
    await signInOnPhone(page, EN, 'dong', '111');
    await page.getByRole('heading', { name: 'This is not a valid QR code.' }).waitFor();

    await page.goto(`${app.base}/confirm?id=nonsense`);
    await page.getByRole('heading', { name: 'This is not a valid QR code.' }).waitFor();

    // The phone's token is revoked behind its back: the next code asks for a sign-in again.
    const revoked = await page.evaluate(async () => {
      const token = localStorage.getItem('qrlogin.phone.token');
      return (await fetch('/api/logout', { method: 'POST', headers: { Authorization: `Bearer ${token}` } })).status;
    });
    assert.equal(revoked, 204);
    const qr = (await (await fetch(`${app.base}/api/qrcodes`, { method: 'POST' })).json()) as { scan_url: string };
    await page.goto(qr.scan_url);
    await page.getByRole('button', { name: EN.signIn, exact: true }).waitFor();
    await signInOnPhone(page, EN, 'guang', '222');
    await page.getByRole('button', { name: EN.confirm, exact: true }).waitFor();

    // Ten failures for one username from one place: the eleventh is refused, and says for how long.
    await page.evaluate(() => localStorage.clear());
    await page.goto(`${app.base}/link`);
    for (let i = 0; i < 11; i++) {
      const answered = page.waitForResponse((r) => r.url().endsWith('/api/login'));
      await signInOnPhone(page, EN, 'nobody', `guess-${i}`);
      await answered;
    }
    await page
      .getByRole('alert')
      .filter({ hasText: /Too many attempts\. Try again in \d+ s\./ })
      .waitFor();
    await mobile.close();
  });

  test('log in with the typed code, then sign the PC out from the phone', async () => {
    const desk = await pc('en-US');
    await desk.page.getByRole('link', { name: "Can't scan? Use a code instead" }).click();
    const userCode = (await desk.page.getByText(/^[B-Z]{4}-[B-Z]{4}$/).textContent())!.trim();
    await desk.page.getByText(`No camera? Open ${app.base}/link on your phone`).waitFor();

    const mobile = await phone('en-US');
    await mobile.page.goto(`${app.base}/link`);
    await signInOnPhone(mobile.page, EN, 'dong', '111');
    // A wrong code first, then the right one in lower case without its dash.
    const code = mobile.page.getByLabel('Code', { exact: true });
    await code.fill('BBBB-BBBB');
    await mobile.page.getByRole('button', { name: 'Continue', exact: true }).click();
    await mobile.page.getByRole('alert').filter({ hasText: 'That code is unknown or has expired.' }).waitFor();
    await code.fill(userCode.toLowerCase().replace('-', ''));
    await fitsWidth(mobile.page);
    await shot(mobile.page, 'phone-link');
    await mobile.page.getByRole('button', { name: 'Continue', exact: true }).click();
    await mobile.page.waitForURL(/\/confirm\?id=[0-9a-f]{64}$/);
    await mobile.page.getByRole('button', { name: EN.confirm, exact: true }).click();
    await mobile.page.getByRole('heading', { name: 'Done. The computer is now signed in.' }).waitFor();
    await status(desk.page, 'Signed in as 东东').waitFor();

    // The phone lists the PC among the linked devices and signs it out.
    await mobile.page.goto(`${app.base}/link`);
    const devices = mobile.page.getByRole('region', { name: 'Linked devices' });
    const pcDevice = devices
      .getByRole('listitem')
      .filter({ hasText: 'QR code' })
      .filter({ hasText: 'Chrome on Linux' });
    await pcDevice.first().waitFor();
    await devices.getByRole('listitem').filter({ hasText: 'this device' }).waitFor();
    await fitsWidth(mobile.page);
    await shot(mobile.page, 'phone-devices');
    await pcDevice
      .first()
      .getByRole('button', { name: /^Sign out/ })
      .click();
    await mobile.page.getByText('Device signed out.').waitFor();

    // The PC learns it on its next request, when its tab comes back into focus.
    await desk.page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await status(desk.page, 'You were signed out.').waitFor();
    await desk.page.getByRole('img', { name: 'Login QR code' }).waitFor();
    assert.equal(await desk.page.evaluate(() => localStorage.getItem('qrlogin.pc.token')), null);

    // The phone signs itself out too: back to the sign-in form.
    await devices
      .getByRole('listitem')
      .filter({ hasText: 'this device' })
      .getByRole('button', { name: /^Sign out/ })
      .click();
    await mobile.page.getByRole('button', { name: EN.signIn, exact: true }).waitFor();
    assert.equal(await mobile.page.evaluate(() => localStorage.getItem('qrlogin.phone.token')), null);
    await desk.close();
    await mobile.close();
  });

  test('the PC page fits a 360 px phone screen too', async () => {
    const small = await open(app.base, { locale: 'en-US', viewport: { width: 360, height: 740 }, isMobile: true });
    await small.page.goto(`${app.base}/`);
    const img = small.page.getByRole('img', { name: 'Login QR code' });
    await img.waitFor();
    await fitsWidth(small.page);
    const box = await img.boundingBox();
    assert.ok(box && box.width >= 280, 'the QR code is still large');
    await small.close();
  });
});

describe('a bad connection', () => {
  /** A PC window whose status polls are answered by `answer` (by how many came before) before the page loads. */
  async function pcWithPolls(answer: (n: number, route: Route) => Promise<void>) {
    const win = await open(app.base, { locale: 'en-US', viewport: { width: 1280, height: 800 } });
    let polls = 0;
    await win.page.route('**/api/qrcodes/*/status*', (route) => answer(polls++, route));
    await win.page.goto(`${app.base}/`);
    return win;
  }

  test('the PC backs off and retries on a dropped connection and a 5xx, and never shows a raw error', async () => {
    const desk = await pcWithPolls((n, route) =>
      n === 0 ? route.abort('failed') : n === 1 ? route.fulfill({ status: 503, body: 'down' }) : route.fallback(),
    );
    await status(desk.page, 'Connection problem. Retrying in 1 s…').waitFor();
    await status(desk.page, 'Connection problem. Retrying in 2 s…').waitFor();
    await status(desk.page, 'Waiting for a scan').waitFor();
    await desk.page.getByRole('img', { name: 'Login QR code' }).waitFor();
    assert.equal(await desk.page.getByText(/\[object|Error:|TypeError|undefined/).count(), 0);
    await desk.close();
  });

  test('a 410 on status means the session is gone: expired, with a new code on offer', async () => {
    const desk = await pcWithPolls((_, route) =>
      route.fulfill({
        status: 410,
        contentType: 'application/json',
        body: JSON.stringify({ error: 'qrcode_expired', message: 'gone' }),
      }),
    );
    await status(desk.page, 'The QR code has expired.').waitFor();
    await desk.page.getByRole('button', { name: 'Refresh QR code', exact: true }).waitFor();
    await desk.close();
  });
});

describe('expiry', () => {
  test('an expired code: the PC offers a refresh, the phone says it expired', async () => {
    const short = await server({ QR_TTL_SECONDS: '4' });
    try {
      const desk = await pc('zh-CN', short.base);
      await status(desk.page, '二维码已过期').waitFor();
      await shot(desk.page, 'pc-expired');

      const mobile = await phone('zh-CN', short.base);
      await mobile.page.goto(desk.qr.scan_url.replace(/^http:\/\/[^/]+/, short.base));
      await signInOnPhone(mobile.page, ZH, 'dong', '111');
      await mobile.page.getByRole('heading', { name: '二维码已过期' }).waitFor();
      await fitsWidth(mobile.page);
      await shot(mobile.page, 'phone-expired');

      await desk.page.getByRole('button', { name: '刷新二维码', exact: true }).click();
      await status(desk.page, '等待扫码').waitFor();
      await desk.page.getByRole('img', { name: '登录二维码' }).waitFor();
      await desk.close();
      await mobile.close();
    } finally {
      await short.stop();
    }
  });
});

describe('number matching', () => {
  let matching: DevServer;
  before(async () => {
    matching = await server({ MATCH_CODE: 'on' });
  });
  after(() => matching?.stop());

  /** A PC and a phone, the phone signed in and looking at the three numbers; the two digits the PC shows. */
  async function scannedWithMatching(user: string, pass: string, name: string) {
    const desk = await pc('en-US', matching.base);
    const mobile = await phone('en-US', matching.base);
    await mobile.page.goto(desk.qr.scan_url.replace(/^http:\/\/[^/]+/, matching.base));
    await signInOnPhone(mobile.page, EN, user, pass);
    await status(desk.page, `${name} scanned`).waitFor();
    await desk.page.getByText('Select this number on your phone:').waitFor();
    const code = (await desk.page.locator('.match strong').textContent())?.trim() ?? '';
    assert.match(code, /^\d\d$/);
    const choices = mobile.page.getByRole('button', { name: /^\d\d$/ });
    await choices.first().waitFor();
    assert.equal(await choices.count(), 3);
    return { desk, mobile, code, choices };
  }

  test('the phone picks the two digits the PC shows', async () => {
    const { desk, mobile, code, choices } = await scannedWithMatching('guang', '222', '光光');
    assert.equal(await mobile.page.getByRole('button', { name: EN.confirm }).count(), 0);
    await equalButtons(await choices.all());
    await mobile.page.getByRole('button', { name: EN.cancel, exact: true }).waitFor();
    await fitsWidth(mobile.page);
    await shot(desk.page, 'pc-match');
    await shot(mobile.page, 'phone-match');
    await mobile.page.getByRole('button', { name: code, exact: true }).click();
    await mobile.page.getByRole('heading', { name: 'Done. The computer is now signed in.' }).waitFor();
    await status(desk.page, 'Signed in as 光光').waitFor();
    await desk.close();
    await mobile.close();
  });

  test('a wrong pick cancels the sign-in and says so', async () => {
    const { desk, mobile, code, choices } = await scannedWithMatching('dong', '111', '东东');
    const wrong = (await choices.allTextContents()).find((c) => c.trim() !== code)!;
    await mobile.page.getByRole('button', { name: wrong.trim(), exact: true }).click();
    await mobile.page.getByRole('heading', { name: /did not match/ }).waitFor();
    await status(desk.page, 'The numbers did not match, so the sign-in was cancelled.').waitFor();
    await desk.page.getByRole('button', { name: 'Refresh QR code', exact: true }).waitFor();
    await desk.close();
    await mobile.close();
  });
});
