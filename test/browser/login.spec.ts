/**
 * The two pages in real Chromium, as a person uses them: a PC window (1280×800) and a phone
 * window (360×740, a phone's User-Agent). Elements are found by role and accessible name, as the
 * contract names them. Screenshots of each state that matters go to docs/screenshots/.
 * Run by `npm run test:browser`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import type { Route } from 'playwright-core';
import type { DevServer } from '../support/wrangler-dev.ts';
import {
  apiLogin,
  DESKTOP,
  EN,
  equalButtons,
  fitsWidth,
  type NewQr,
  newQr,
  noSeriousA11yProblems,
  open,
  PHONE_UA,
  pc,
  pcStatus,
  phone,
  type Site,
  scanScreen,
  server,
  shot,
  signedInPhone,
  signInOnPhone,
  startSite,
  status,
  suite,
  useBrowser,
  ZH,
} from './support.ts';

useBrowser();

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

    const mobile = await phone('zh-CN');
    await mobile.page.goto(scanned);
    await mobile.page.getByText('演示账号').waitFor();
    await fitsWidth(mobile.page);
    await shot(mobile.page, 'phone-sign-in-light-zh');
    await signInOnPhone(mobile.page, ZH, 'dong', '111');

    // The phone shows what asks to sign in; Confirm and Cancel weigh the same.
    const confirm = mobile.page.getByRole('button', { name: ZH.confirm, exact: true });
    const cancel = mobile.page.getByRole('button', { name: ZH.cancel, exact: true });
    await confirm.waitFor();
    await mobile.page.getByText('Linux 上的 Chrome').waitFor();
    await mobile.page.getByText('127.0.0.1').first().waitFor();
    await mobile.page.getByText(/\d+ 秒前/).waitFor();
    await mobile.page.getByText('确认后，这台电脑将登录你的账号').waitFor();
    await mobile.page.getByRole('heading', { name: '在电脑上登录 QR Login？' }).waitFor();
    await mobile.page.getByText('扫描二维码', { exact: true }).waitFor();
    await mobile.page.getByText(/^\d:\d\d 后过期$/).waitFor();
    await equalButtons([confirm, cancel]);
    await fitsWidth(mobile.page);
    // The linked devices wait behind a disclosure: the request is the screen.
    await mobile.page.getByText('已登录的设备', { exact: true }).waitFor();
    assert.equal(await mobile.page.getByRole('list').count(), 0);

    // The PC says who scanned, and shows them.
    await status(desk.page, '东东已扫码').waitFor();
    await desk.page.locator('.avatar').filter({ hasText: '东' }).waitFor();

    await confirm.click();
    await mobile.page.getByRole('heading', { name: '完成，电脑已登录。' }).waitFor();
    await status(desk.page, '已登录：东东').waitFor();
    await desk.page.getByText('@dong').waitFor();
    assert.ok(await desk.page.evaluate(() => localStorage.getItem('qrlogin.pc.token')));

    // A stored token that is still good: the PC shows the user, not a QR code.
    await desk.page.reload();
    await status(desk.page, '已登录：东东').waitFor();
    assert.equal(await desk.page.getByRole('img', { name: '登录二维码' }).count(), 0);

    // The phone knows what it did: reloaded, or opened again in a new tab, the code says
    // "signed in", although the server has forgotten the session (it would answer 410).
    await mobile.page.reload();
    await mobile.page.getByRole('heading', { name: '完成，电脑已登录。' }).waitFor();
    const again = await mobile.ctx.newPage();
    await again.goto(scanned);
    await again.getByRole('heading', { name: '完成，电脑已登录。' }).waitFor();
    assert.equal(await again.getByText('二维码已过期').count(), 0);
    await again.close();

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
    await page.goto(`${suite.app.base}/confirm?id=${'ab'.repeat(32)}`);
    await signInOnPhone(page, EN, 'dong', 'wrong');
    await page.getByRole('alert').filter({ hasText: 'Wrong username or password.' }).waitFor();
    // The sign-in form is still there to try again, with the demo accounts named.
    await page.getByText('Demo accounts: dong / 111, guang / 222').waitFor();
    await signInOnPhone(page, EN, 'dong', '111');
    await page.getByRole('heading', { name: 'This is not a valid QR code.' }).waitFor();

    await page.goto(`${suite.app.base}/confirm?id=nonsense`);
    await page.getByRole('heading', { name: 'This is not a valid QR code.' }).waitFor();

    // The phone's token is revoked behind its back: the next code asks for a sign-in again.
    const revoked = await page.evaluate(async () => {
      const token = localStorage.getItem('qrlogin.phone.token');
      return (await fetch('/api/logout', { method: 'POST', headers: { Authorization: `Bearer ${token}` } })).status;
    });
    assert.equal(revoked, 204);
    const qr = (await (await fetch(`${suite.app.base}/api/qrcodes`, { method: 'POST' })).json()) as {
      scan_url: string;
    };
    await page.goto(qr.scan_url);
    await page.getByRole('button', { name: EN.signIn, exact: true }).waitFor();
    await signInOnPhone(page, EN, 'guang', '222');
    await page.getByRole('button', { name: EN.confirm, exact: true }).waitFor();

    // Ten failures for one username from one place: the eleventh is refused, and says for how long.
    await page.evaluate(() => localStorage.clear());
    await page.goto(`${suite.app.base}/link`);
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
    await desk.page.getByText(`No camera? Open ${suite.app.base}/link on your phone`).waitFor();

    const mobile = await phone('en-US');
    await mobile.page.goto(`${suite.app.base}/link`);
    await signInOnPhone(mobile.page, EN, 'dong', '111');
    // A wrong code first, then the right one in lower case without its dash.
    const code = mobile.page.getByLabel('Code', { exact: true });
    await code.fill('BBBB-BBBB');
    await mobile.page.getByRole('button', { name: 'Continue', exact: true }).click();
    await mobile.page.getByRole('alert').filter({ hasText: 'That code is unknown or has expired.' }).waitFor();
    await code.fill(userCode.toLowerCase().replace('-', ''));
    await fitsWidth(mobile.page);
    await mobile.page.getByRole('button', { name: 'Continue', exact: true }).click();
    await mobile.page.waitForURL(/\/confirm\?id=[0-9a-f]{64}$/);
    // The confirm view knows the code was typed, not scanned.
    await mobile.page.getByText('code typed', { exact: true }).waitFor();

    // The linked devices, opened before the confirm, show the PC as soon as it is signed in.
    const deletes: string[] = [];
    mobile.page.on('request', (r) => r.method() === 'DELETE' && deletes.push(r.url()));
    await mobile.page.getByText('Linked devices', { exact: true }).click();
    const rows = mobile.page.locator('details').getByRole('listitem');
    await rows.filter({ hasText: 'this device' }).waitFor();
    assert.equal(await rows.filter({ hasText: 'Chrome on Linux' }).count(), 0);
    await mobile.page.getByRole('button', { name: EN.confirm, exact: true }).click();
    await mobile.page.getByRole('heading', { name: 'Done. The computer is now signed in.' }).waitFor();
    await status(desk.page, 'Signed in as 东东').waitFor();
    const pcRow = rows.filter({ hasText: 'Chrome on Linux' });
    await pcRow.waitFor();

    // One row per device: a second sign-in from this phone is grouped with the first.
    const secondToken = await apiLogin(suite.app.base, { username: 'dong', password: '111' }, PHONE_UA);
    await mobile.page.goto(`${suite.app.base}/link`);
    await mobile.page.getByText('Linked devices', { exact: true }).click();
    await pcRow.waitFor();
    assert.equal(await rows.filter({ hasText: 'Chrome on Android' }).count(), 1);
    await rows
      .filter({ hasText: 'this device' })
      .getByText(/last used just now/)
      .waitFor();

    // Signing a device out asks first; "Keep" keeps it.
    await pcRow.getByRole('button', { name: 'Sign out: Chrome on Linux', exact: true }).click();
    await pcRow.getByText('Sign out Chrome on Linux? It will have to sign in again.').waitFor();
    await fitsWidth(mobile.page);
    await pcRow.getByRole('button', { name: 'Keep', exact: true }).click();
    await pcRow.getByRole('button', { name: 'Sign out: Chrome on Linux', exact: true }).waitFor();
    assert.deepEqual(deletes, []);
    await pcRow.getByRole('button', { name: 'Sign out: Chrome on Linux', exact: true }).click();
    await pcRow.getByRole('button', { name: 'Yes, sign out', exact: true }).click();
    await mobile.page.getByText('Chrome on Linux was signed out.').waitFor();
    assert.equal(await pcRow.count(), 0);

    // The PC learns it on its next request, when its tab comes back into focus.
    await desk.page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await status(desk.page, 'You were signed out.').waitFor();
    await desk.page.getByRole('img', { name: 'Login QR code' }).waitFor();
    assert.equal(await desk.page.evaluate(() => localStorage.getItem('qrlogin.pc.token')), null);

    // The phone signs itself out too (both its sign-ins): back to the sign-in form. Its own
    // session is revoked last, once the other is answered, or its token could not sign that out.
    const { sid: ownSid } = decodeJwt(
      (await mobile.page.evaluate(() => localStorage.getItem('qrlogin.phone.token'))) ?? '',
    );
    const order: string[] = [];
    const isOwn = (url: string) => url.endsWith(`/api/sessions/${ownSid}`);
    mobile.page.on('request', (r) => r.method() === 'DELETE' && order.push(isOwn(r.url()) ? 'own sent' : 'other sent'));
    mobile.page.on(
      'response',
      (r) => r.request().method() === 'DELETE' && order.push(isOwn(r.url()) ? 'own answered' : 'other answered'),
    );
    await rows
      .filter({ hasText: 'this device' })
      .getByRole('button', { name: 'Sign out: Chrome on Android (this device)', exact: true })
      .click();
    await mobile.page.getByRole('button', { name: 'Yes, sign out', exact: true }).click();
    await mobile.page.getByRole('button', { name: EN.signIn, exact: true }).waitFor();
    assert.equal(await mobile.page.evaluate(() => localStorage.getItem('qrlogin.phone.token')), null);
    // (Earlier tests' sign-ins from this phone are in its group too: one "other" or more.)
    assert.ok(order.includes('other answered'), order.join(', '));
    assert.deepEqual(order.slice(order.lastIndexOf('other answered') + 1), ['own sent', 'own answered']);
    const second = await fetch(`${suite.app.base}/api/me`, { headers: { Authorization: `Bearer ${secondToken}` } });
    assert.equal(second.status, 401, "the phone's other sign-in went with it");
    await desk.close();
    await mobile.close();
  });

  test('the PC page fits a 360 px phone screen too', async () => {
    const small = await open([suite.app.base], {
      locale: 'en-US',
      viewport: { width: 360, height: 740 },
      isMobile: true,
    });
    await small.page.goto(`${suite.app.base}/`);
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
    const win = await open([suite.app.base], { locale: 'en-US', viewport: DESKTOP });
    let polls = 0;
    await win.page.route('**/api/qrcodes/*/status*', (route) => answer(polls++, route));
    await win.page.goto(`${suite.app.base}/`);
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

      const mobile = await phone('zh-CN', short.base);
      await mobile.page.goto(desk.qr.scan_url.replace(/^http:\/\/[^/]+/, short.base));
      await signInOnPhone(mobile.page, ZH, 'dong', '111');
      await mobile.page.getByRole('heading', { name: '二维码已过期' }).waitFor();
      await fitsWidth(mobile.page);
      await shot(mobile.page, 'phone-expired-before-scan-light-zh');

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
    await shot(desk.page, 'pc-match-light-en');
    await shot(mobile.page, 'phone-match-light-en');
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

describe('the phone stays truthful', () => {
  const dong = { username: 'dong', password: '111' };

  test('the confirm view counts down, and the moment the code expires it says so and disables Confirm', async () => {
    const short = await server({ QR_TTL_SECONDS: '8' });
    try {
      const mobile = await signedInPhone('en-US', dong, short.base);
      const { page } = mobile;
      const steps: string[] = [];
      page.on('request', (r) => r.method() === 'POST' && steps.push(new URL(r.url()).pathname.split('/').pop() ?? ''));
      const qr = await newQr(short.base);
      await page.goto(qr.scan_url.replace(/^http:\/\/[^/]+/, short.base));
      const confirm = page.getByRole('button', { name: EN.confirm, exact: true });
      await confirm.waitFor();
      // Both the time left and the code's age move on their own.
      const timer = page.getByText(/^Expires in 0:0\d$/);
      const made = page.locator('dd').filter({ hasText: /^\d+ s ago$/ });
      const [left, age] = [await timer.textContent(), await made.textContent()];
      await page
        .getByText(/^Expires in 0:0\d$/)
        .filter({ hasNotText: left ?? '' })
        .waitFor();
      await page
        .locator('dd')
        .filter({ hasText: /^\d+ s ago$/ })
        .filter({ hasNotText: age ?? '' })
        .waitFor();

      // Expired while open: said in words, Confirm disabled before anyone taps it.
      await page.getByRole('alert').getByRole('heading', { name: 'QR code expired' }).waitFor();
      assert.equal(await confirm.isDisabled(), true);
      assert.equal(await page.getByRole('button', { name: EN.cancel, exact: true }).isDisabled(), true);
      assert.deepEqual(steps, ['scan']);
      await fitsWidth(page);
      await mobile.close();
    } finally {
      await short.stop();
    }
  });

  test('a lost connection is said as one, counts down to the next try, and "Retry now" tries at once', async () => {
    const mobile = await signedInPhone('en-US', dong);
    const { page, ctx } = mobile;
    // Time stands still in the page: only "Retry now" can start a try.
    await page.clock.install();
    await page.clock.pauseAt(Date.now() + 1000);
    let down = true;
    let scans = 0;
    await page.route('**/api/qrcodes/*/scan', (route) => {
      scans++;
      return down ? route.abort('internetdisconnected') : route.fallback();
    });
    const qr = await newQr();
    await page.goto(qr.scan_url);
    const notice = page.getByRole('alert').filter({ hasText: 'Connection lost.' });
    await notice.waitFor();
    await page.getByText('Retrying in 1 s…').waitFor();
    await page.clock.runFor(1000);
    await page.getByText('Retrying in 2 s…').waitFor();
    await page.clock.runFor(1000);
    await page.getByText('Retrying in 1 s…').waitFor();
    assert.equal(scans, 2);
    assert.equal(await page.getByText(/Something went wrong/).count(), 0);
    await fitsWidth(page);
    down = false;
    await page.getByRole('button', { name: 'Retry now', exact: true }).click();
    await page.getByRole('button', { name: EN.confirm, exact: true }).waitFor();
    assert.equal(scans, 3);
    assert.equal(await notice.count(), 0);

    // Offline at the moment of the confirm: the same notice in the view. The browser coming back
    // online tries at once (the page's clock stands still: nothing else could start the try).
    await ctx.setOffline(true);
    await page.getByRole('button', { name: EN.confirm, exact: true }).click();
    await notice.waitFor();
    assert.equal(await page.getByRole('button', { name: EN.confirm, exact: true }).isDisabled(), true);
    await ctx.setOffline(false);
    await page.getByRole('heading', { name: 'Done. The computer is now signed in.' }).waitFor();
    const collected = await pcStatus(qr, 1);
    assert.equal(collected.body.status, 'scan-confirm');
    await mobile.close();
  });

  test("the Worker's own 503 is not a lost connection: the page says the service has to fix it", async () => {
    const mobile = await signedInPhone('en-US', dong);
    const { page } = mobile;
    // The Worker answers 503 (a backing service is down), then a gateway answers 503 with a page
    // of its own (not the Worker's JSON), then all is well.
    let answer: 'worker' | 'gateway' | 'ok' = 'worker';
    await page.route('**/api/qrcodes/*/scan', (route) =>
      answer === 'worker'
        ? route.fulfill({
            status: 503,
            contentType: 'application/json',
            headers: { 'Retry-After': '5' },
            body: JSON.stringify({
              error: 'service_unavailable',
              message: 'The service is temporarily unavailable; try again shortly.',
            }),
          })
        : answer === 'gateway'
          ? route.fulfill({ status: 503, contentType: 'text/html', body: '<h1>Service Unavailable</h1>' })
          : route.fallback(),
    );
    await page.goto((await newQr()).scan_url);
    const notice = page.getByRole('alert');
    await notice.getByRole('heading', { name: 'The sign-in service is not working right now.' }).waitFor();
    await notice.getByText("Your phone's connection is fine").waitFor();
    assert.equal(await page.getByText(/Connection lost/).count(), 0);
    await noSeriousA11yProblems(page, "the Worker's 503 (en)");

    answer = 'gateway';
    await page.getByRole('button', { name: 'Retry now', exact: true }).click();
    await notice.getByRole('heading', { name: 'Connection lost.' }).waitFor();
    assert.equal(await page.getByText(/sign-in service is not working/).count(), 0);

    answer = 'ok';
    await page.getByRole('button', { name: 'Retry now', exact: true }).click();
    await page.getByRole('button', { name: EN.confirm, exact: true }).waitFor();
    assert.equal(await notice.count(), 0);
    await mobile.close();
  });

  test('the confirm view names the site, says how the code came, and warns when the computer is elsewhere', async () => {
    const mobile = await signedInPhone('zh-CN', dong, suite.app.base, { colorScheme: 'dark' });
    const { page } = mobile;
    // The scan answer as a server says it when the computer's country differs from the phone's.
    await page.route('**/api/qrcodes/*/scan', async (route) => {
      const res = await route.fetch();
      const body = { ...(await res.json()), site_name: '示例网站', location_differs: true };
      await route.fulfill({ response: res, json: body });
    });
    const qr = await newQr();
    await page.goto(qr.scan_url);
    await page.getByRole('heading', { name: '在电脑上登录示例网站？' }).waitFor();
    await page.getByText('扫描二维码', { exact: true }).waitFor();
    const warning = page.getByText('这台电脑与你的手机不在同一国家或网络', { exact: false });
    await warning.waitFor();
    // The warning comes before the two choices.
    const [warnBox, confirmBox] = await Promise.all([
      warning.boundingBox(),
      page.getByRole('button', { name: ZH.confirm, exact: true }).boundingBox(),
    ]);
    assert.ok(warnBox && confirmBox && warnBox.y < confirmBox.y);
    await equalButtons([
      page.getByRole('button', { name: ZH.confirm, exact: true }),
      page.getByRole('button', { name: ZH.cancel, exact: true }),
    ]);
    await fitsWidth(page);
    await shot(page, 'phone-location-warning-dark-zh');
    await noSeriousA11yProblems(page, 'the location warning, zh-CN dark');
    await mobile.close();
  });

  test('Chinese text has no stray spaces between Chinese words, only beside Latin ones', async () => {
    const mobile = await signedInPhone('zh-CN', dong);
    const res = await fetch(`${suite.app.base}/api/qrcodes`, {
      method: 'POST',
      headers: { 'User-Agent': 'curl/8.5.0' },
    });
    const qr = (await res.json()) as NewQr;
    await mobile.page.goto(qr.scan_url);
    await mobile.page.getByText('未知系统上的 curl', { exact: true }).waitFor();
    await mobile.close();
  });

  test('/link warns, above the field, never to type a code someone else sent', async () => {
    const mobile = await signedInPhone('zh-CN', dong);
    await mobile.page.goto(`${suite.app.base}/link`);
    const warning = mobile.page.getByText('切勿输入别人发给你的代码');
    await warning.waitFor();
    const [warnBox, fieldBox] = await Promise.all([
      warning.boundingBox(),
      mobile.page.getByLabel('代码', { exact: true }).boundingBox(),
    ]);
    assert.ok(warnBox && fieldBox && warnBox.y < fieldBox.y);
    await mobile.close();
  });

  test('the language switch: every phone page has one, and the choice is remembered', async () => {
    const mobile = await phone('zh-CN');
    const { page } = mobile;
    await page.goto(`${suite.app.base}/link`);
    await page.getByLabel(ZH.user, { exact: true }).waitFor();
    const languages = page.getByRole('navigation', { name: '语言' });
    assert.equal(await languages.getByRole('button', { name: '中文' }).getAttribute('aria-pressed'), 'true');
    await languages.getByRole('button', { name: 'English' }).click();
    await page.getByLabel(EN.user, { exact: true }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    assert.equal(await page.evaluate(() => localStorage.getItem('qrlogin.lang')), 'en');
    // Remembered on the other page too, although the browser still asks for Chinese.
    await page.goto(`${suite.app.base}/confirm?id=${'ab'.repeat(32)}`);
    await page.getByRole('navigation', { name: 'Language' }).getByRole('button', { name: '中文' }).waitFor();
    await page.getByLabel(EN.user, { exact: true }).waitFor();
    await mobile.close();
  });

  test('without JavaScript the page says it needs it', async () => {
    const mobile = await phone('en-US', suite.app.base, { javaScriptEnabled: false });
    await mobile.page.goto(`${suite.app.base}/confirm?id=${'ab'.repeat(32)}`);
    // (Playwright's text search skips <noscript>, so the box is read as a person would see it.)
    const notice = mobile.page.locator('main .noscript');
    assert.equal(await notice.isVisible(), true);
    const words = (await notice.textContent()) ?? '';
    assert.match(words, /This page needs JavaScript/);
    assert.match(words, /此页面需要 JavaScript/);
    await mobile.close();
  });
});

describe('accessibility (axe-core): every phone view, both languages, light and dark', () => {
  for (const locale of ['zh-CN', 'en-US'] as const) {
    for (const colorScheme of ['light', 'dark'] as const) {
      test(`${locale}, ${colorScheme}`, async () => {
        const names = locale === 'zh-CN' ? ZH : EN;
        const mobile = await phone(locale, suite.app.base, { colorScheme });
        const { page } = mobile;
        const where = (view: string) => `${view} (${locale}, ${colorScheme})`;
        // The README shows two of the four looks: light in Chinese, dark in English.
        const pictured = (locale === 'zh-CN') === (colorScheme === 'light');
        const picture = (view: string) =>
          pictured ? shot(page, `phone-${view}-${colorScheme}-${locale.slice(0, 2)}`) : undefined;
        await page.clock.install();

        const qr = await newQr();
        await page.goto(qr.scan_url);
        await page.getByLabel(names.user, { exact: true }).waitFor();
        await noSeriousA11yProblems(page, where('sign-in'));

        await signInOnPhone(page, names, 'guang', '222');
        const confirm = page.getByRole('button', { name: names.confirm, exact: true });
        await confirm.waitFor();
        await noSeriousA11yProblems(page, where('confirm view'));
        await picture('confirm');
        // The linked devices' disclosure (the recent activity's comes after it).
        await page.locator('summary').first().click();
        const signOut = page.locator('details').getByRole('button').first();
        await signOut.click();
        await page.locator('details .ask').waitFor();
        await noSeriousA11yProblems(page, where('linked devices, asking before a sign-out'));
        await picture('devices');

        const next = await newQr();
        await page.goto(next.scan_url);
        await confirm.click();
        await page.locator('.final.good').waitFor();
        await noSeriousA11yProblems(page, where('signed in'));
        await picture('done');

        await page.route('**/api/qrcodes/*/scan', (route) => route.abort('internetdisconnected'));
        await page.goto((await newQr()).scan_url);
        await page.locator('.connection').waitFor();
        await noSeriousA11yProblems(page, where('connection lost'));
        await picture('offline');
        await page.unroute('**/api/qrcodes/*/scan');

        await page.goto(`${suite.app.base}/confirm?id=nonsense`);
        await page.locator('.final.bad').waitFor();
        await noSeriousA11yProblems(page, where('unknown code'));

        await page.goto(`${suite.app.base}/link`);
        await page.locator('#code').waitFor();
        await noSeriousA11yProblems(page, where('/link'));
        await picture('link');

        // Last, as it moves the page's clock on: the code expires while the view is open.
        await page.goto((await newQr()).scan_url);
        await confirm.waitFor();
        await page.clock.fastForward('02:05');
        await page.locator('.expired').waitFor();
        await noSeriousA11yProblems(page, where('expired while open'));
        await picture('expired');
        await mobile.close();
      });
    }
  }
});

describe("a site's own users (IDENTITY=jwt)", () => {
  let site: Site;
  let worker: DevServer;
  before(async () => {
    site = await startSite();
    worker = await server({
      IDENTITY: 'jwt',
      IDENTITY_JWKS_URL: `${site.base}/.well-known/jwks.json`,
      IDENTITY_ISSUER: site.issuer,
      IDENTITY_AUDIENCE: site.audience,
      IDENTITY_LOGIN_URL: `${site.base}/login?from=qr`,
      SITE_NAME: 'Example Shop',
    });
    site.allow(worker.base);
  });
  after(async () => {
    await worker?.stop();
    await site?.stop();
  });

  test("the phone signs in with the site, comes back with #token, and the PC gets the site's user", async () => {
    const mobile = await phone('zh-CN', worker.base, {}, [site.base]);
    const { page } = mobile;
    const qr = await newQr(worker.base);
    const scanUrl = qr.scan_url.replace(/^http:\/\/[^/]+/, worker.base);
    await page.goto(scanUrl);

    // Not signed in: the site's login, not a password form, and no demo accounts.
    const link = page.getByRole('link', { name: '使用 Example Shop 账号登录', exact: true });
    await link.waitFor();
    const href = new URL((await link.getAttribute('href')) ?? '');
    assert.equal(`${href.origin}${href.pathname}`, `${site.base}/login`);
    assert.equal(href.searchParams.get('from'), 'qr');
    assert.equal(href.searchParams.get('return_to'), scanUrl);
    assert.equal(await page.getByLabel(ZH.user).count(), 0);
    assert.equal(await page.getByText('演示账号').count(), 0);
    await fitsWidth(page);
    await shot(page, 'phone-site-sign-in-light-zh');
    await noSeriousA11yProblems(page, 'the site sign-in link (zh-CN)');

    // The site signs its user in and sends the browser back with #token=…, which the page takes
    // off the address bar and keeps for this tab only.
    await link.click();
    await page.getByRole('button', { name: 'Sign in as Alice' }).click();
    const confirm = page.getByRole('button', { name: ZH.confirm, exact: true });
    await confirm.waitFor();
    assert.equal(page.url(), scanUrl);
    assert.equal(await page.evaluate(() => location.hash), '');
    assert.ok(await page.evaluate(() => sessionStorage.getItem('qrlogin.phone.site-token')));
    assert.equal(await page.evaluate(() => localStorage.getItem('qrlogin.phone.token')), null);
    await page.getByRole('heading', { name: '在电脑上登录 Example Shop？' }).waitFor();
    await page.getByText('当前账号：Alice').waitFor();

    await confirm.click();
    await page.getByRole('heading', { name: '完成，电脑已登录。' }).waitFor();
    const { body } = await pcStatus(qr, 1, worker.base);
    assert.equal(body.status, 'scan-confirm');
    const claims = decodeJwt(String(body.token));
    assert.equal(claims.sub, 'site-user-42');

    // The next code in this tab needs no sign-in; the PC just signed in is a linked device.
    const next = await newQr(worker.base);
    await page.goto(next.scan_url.replace(/^http:\/\/[^/]+/, worker.base));
    await confirm.waitFor();
    await page.getByText('已登录的设备', { exact: true }).click();
    await page.locator('details').getByRole('listitem').filter({ hasText: 'Windows 上的 Chrome' }).waitFor();
    await mobile.close();
  });

  test('a token the Worker refuses is taken off the address bar too, and the site login is offered again', async () => {
    const mobile = await phone('en-US', worker.base, {}, [site.base]);
    const { page } = mobile;
    const qr = await newQr(worker.base);
    const scanUrl = qr.scan_url.replace(/^http:\/\/[^/]+/, worker.base);
    await page.goto(`${scanUrl}#token=not-a-real-token`);
    await page.getByRole('alert').filter({ hasText: 'Signing in with Example Shop did not work' }).waitFor();
    await page.getByRole('link', { name: 'Sign in with Example Shop', exact: true }).waitFor();
    assert.equal(page.url(), scanUrl);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('qrlogin.phone.site-token')), null);
    await noSeriousA11yProblems(page, 'the site sign-in link after a refused token (en)');
    await mobile.close();
  });

  test('a refused site token says who can fix it: the site (its audience is wrong), or the user (it expired)', async () => {
    const mobile = await phone('en-US', worker.base, {}, [site.base]);
    const { page } = mobile;
    const scanUrl = (await newQr(worker.base)).scan_url.replace(/^http:\/\/[^/]+/, worker.base);
    /** The reason of the next `/api/me` answer, a 401. */
    const nextRefusal = async () => {
      const res = await page.waitForResponse((r) => r.url().endsWith('/api/me'));
      assert.equal(res.status(), 401);
      return ((await res.json()) as { reason?: string }).reason;
    };

    // The site's login mints tokens for another audience than IDENTITY_AUDIENCE: signing in
    // again cannot help, and the page says it is the site's to fix.
    let refusal = nextRefusal();
    await page.goto(`${scanUrl}#token=${await site.mint({ aud: 'another-app' })}`);
    assert.equal(await refusal, 'site_token_refused');
    const misfit = page.getByRole('alert').filter({
      hasText:
        "This login service does not accept Example Shop's sign-in. It is a setting that Example Shop has to fix, not your phone or your password",
    });
    await misfit.waitFor();
    assert.equal(await page.getByText(/did not work or has expired/).count(), 0);
    await shot(page, 'phone-site-token-refused-light-en');
    await noSeriousA11yProblems(page, 'a site token of another audience (en)');

    // Expired: the user's to fix, by signing in with the site again.
    const now = Math.floor(Date.now() / 1000);
    // (Another code: the same address with another fragment would not load the page again.)
    const other = (await newQr(worker.base)).scan_url.replace(/^http:\/\/[^/]+/, worker.base);
    refusal = nextRefusal();
    await page.goto(`${other}#token=${await site.mint({ iat: now - 1200, exp: now - 600 })}`);
    assert.equal(await refusal, 'site_token_expired');
    await page
      .getByRole('alert')
      .filter({ hasText: 'Your sign-in with Example Shop has expired. Sign in again to continue.' })
      .waitFor();
    await page.getByRole('link', { name: 'Sign in with Example Shop', exact: true }).waitFor();
    await mobile.close();
  });

  test("the site's JWKS answers 404: the phone says the site must fix it, not the phone's connection", async () => {
    const broken = await server({
      IDENTITY: 'jwt',
      IDENTITY_JWKS_URL: `${site.base}/no-such-file/jwks.json`,
      IDENTITY_ISSUER: site.issuer,
      IDENTITY_AUDIENCE: site.audience,
      IDENTITY_LOGIN_URL: `${site.base}/login`,
      SITE_NAME: 'Example Shop',
    });
    try {
      const mobile = await phone('en-US', broken.base, {}, [site.base]);
      const { page } = mobile;
      const unavailable = page.waitForResponse((r) => r.url().endsWith('/api/me') && r.status() === 503);
      const scanUrl = (await newQr(broken.base)).scan_url.replace(/^http:\/\/[^/]+/, broken.base);
      await page.goto(`${scanUrl}#token=${await site.mint()}`);
      assert.deepEqual(await (await unavailable).json(), {
        error: 'service_unavailable',
        message: 'The site’s sign-in keys cannot be fetched right now; try again shortly.',
        reason: 'site_keys_unavailable',
      });
      const notice = page.getByRole('alert');
      await notice.getByRole('heading', { name: 'Sign-ins with Example Shop cannot be checked right now.' }).waitFor();
      await notice
        .getByText(
          "Your phone's connection is fine: this login service cannot fetch Example Shop's sign-in keys. Example Shop has to fix this; this page keeps trying.",
        )
        .waitFor();
      await page.getByText(/^Retrying in \d+ s…$/).waitFor();
      assert.equal(await page.getByText(/Connection lost|Check your phone/).count(), 0);
      await fitsWidth(page);
      await shot(page, 'phone-site-keys-unavailable-light-en');
      await noSeriousA11yProblems(page, "the site's keys cannot be fetched (en)");
      await mobile.close();
    } finally {
      await broken.stop();
    }
  });
});
