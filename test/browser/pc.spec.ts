/**
 * The PC side in Chromium: the page `/`, a thin host of `<qr-login>`, and the same element embedded
 * in another site's page. Elements are found by role and accessible name, which reach into the
 * element's shadow root. The phone's side goes through the API. Screenshots of the PC states,
 * light and dark, go to docs/screenshots/. Run by `npm run test:browser`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import type { Page, Route } from 'playwright-core';
import { freePort } from '../support/wrangler-dev.ts';
import {
  DESKTOP,
  fitsWidth,
  type HostSite,
  type NewQr,
  noSeriousA11yProblems,
  oneLine,
  open,
  PHONE_UA,
  phoneUser,
  scanScreen,
  shot,
  startHostSite,
  status,
  strictPolicy,
  suite,
  useBrowser,
  type Window,
  watchedStreams,
} from './support.ts';

interface Seen {
  type: string;
  bubbles: boolean;
  composed: boolean;
  detail: {
    status?: string;
    version?: number;
    scanner?: { display_name: string };
    token?: string;
    user?: Record<string, string>;
    refresh_token?: string;
    expires_in?: number;
    token_type?: string;
  };
}

const EN = {
  alt: 'Login QR code',
  title: 'Sign in with your phone',
  waiting: 'Waiting for a scan: scan this code with your phone to sign in.',
  scanned: (name: string) => `${name} scanned the code. Confirm on your phone.`,
  signedIn: (name: string) => `Signed in as ${name}.`,
  signedInTitle: 'Signed in',
  cancelled: 'Sign-in was cancelled on the phone.',
  expired: 'The QR code has expired.',
  refresh: 'Refresh QR code',
  cantScan: "Can't scan? Use a code instead",
  other: 'Use another account',
  retryNow: 'Retry now',
  retrying: (n: number) => `Connection problem. Retrying in ${n} s…`,
  signOut: 'Sign out',
  signedOut: 'You were signed out.',
  onPhone: 'This page is open on a phone, which cannot scan its own screen.',
  originRefused: (origin: string, server: string) =>
    `This page's origin, ${origin}, is not in ALLOWED_ORIGINS of its server, ${server}, so no QR code can be shown here. Add ${origin} to ALLOWED_ORIGINS there.`,
};
const ZH: typeof EN = {
  alt: '登录二维码',
  title: '使用手机扫码登录',
  waiting: '等待扫码：请使用手机扫描二维码登录。',
  scanned: (name) => `${name}已扫码，请在手机上确认。`,
  signedIn: (name) => `已登录：${name}。`,
  signedInTitle: '已登录',
  cancelled: '已在手机上取消登录。',
  expired: '二维码已过期。',
  refresh: '刷新二维码',
  cantScan: '无法扫码？改用验证码',
  other: '切换账号',
  retryNow: '立即重试',
  retrying: (n) => `网络异常，${n} 秒后重试…`,
  signOut: '退出',
  signedOut: '你已退出登录。',
  onPhone: '此页面正在手机上打开，手机无法扫描自己屏幕上的二维码。',
  originRefused: (origin, server) =>
    `此页面的来源 ${origin} 不在其服务器 ${server} 的 ALLOWED_ORIGINS 中，因此这里无法显示二维码。请在服务器的 ALLOWED_ORIGINS 中加入 ${origin}。`,
};

/** Another site's origin, allowed to call the API (its server starts with the embedding tests). */
const siteOrigin = `http://127.0.0.1:${await freePort()}`;
/** A third origin, serving the same pages, that nobody added to ALLOWED_ORIGINS. */
const strangerOrigin = `http://127.0.0.1:${await freePort()}`;
useBrowser({ ALLOWED_ORIGINS: siteOrigin });

/** Records every `qr-login:*` event that reaches the document, from the page's first moment. */
const RECORD_EVENTS = () => {
  const seen: unknown[] = [];
  (globalThis as unknown as { seen: unknown[] }).seen = seen;
  for (const type of ['qr-login:status', 'qr-login:login', 'qr-login:logout']) {
    document.addEventListener(type, (e) => {
      const { bubbles, composed, detail } = e as CustomEvent;
      seen.push({ type, bubbles, composed, detail });
    });
  }
};
const seenEvents = (page: Page) => page.evaluate(() => (globalThis as unknown as { seen: Seen[] }).seen);

/** The QR codes a page asked for, in order. */
function recordQrs(page: Page): NewQr[] {
  const qrs: NewQr[] = [];
  page.on('response', async (r) => {
    if (r.url().endsWith('/api/qrcodes') && r.status() === 201) qrs.push((await r.json()) as NewQr);
  });
  return qrs;
}

/** The PC page in a desktop window. `routes` are set before the page loads. */
async function pcPage(
  options: { locale?: string; dark?: boolean; routes?: (page: Page) => Promise<void> } = {},
): Promise<Window & { qrs: NewQr[] }> {
  const win = await open([suite.app.base], {
    locale: options.locale ?? 'en-US',
    viewport: DESKTOP,
    colorScheme: options.dark ? 'dark' : 'light',
  });
  await win.ctx.addInitScript(RECORD_EVENTS);
  const qrs = recordQrs(win.page);
  await options.routes?.(win.page);
  await win.page.goto(`${suite.app.base}/`);
  return { ...win, qrs };
}

/** The newest QR code the page shows, once it shows one. */
async function currentQr(page: Page, qrs: NewQr[], names: typeof EN, count = 1): Promise<NewQr> {
  await status(page, names.waiting).waitFor();
  await page.getByRole('img', { name: names.alt }).waitFor();
  assert.ok(qrs.length >= count, `the page asked for ${count} QR code(s)`);
  return qrs[qrs.length - 1]!;
}

/** Where the keyboard focus is: the element, and inside its shadow root. */
const focusInside = (page: Page) =>
  page.evaluate(() => {
    const host = document.activeElement;
    const inner = host?.shadowRoot?.activeElement;
    return {
      host: host?.tagName.toLowerCase(),
      inner: inner?.getAttribute('aria-label') ?? inner?.getAttribute('role') ?? null,
    };
  });

/** Answers the first status poll of the page with 410 (the session is gone), then lets them through. */
const firstPollGone = async (page: Page) => {
  let polls = 0;
  await page.route('**/api/qrcodes/*/status*', (route) =>
    polls++ === 0
      ? route.fulfill({
          status: 410,
          contentType: 'application/json',
          body: JSON.stringify({ error: 'qrcode_expired', message: 'gone' }),
        })
      : route.fallback(),
  );
};

describe('the PC page / hosts <qr-login>', () => {
  test('a whole login: who scanned, then signed in with the token kept, the user shown, and out again', async () => {
    const desk = await pcPage();
    const { page } = desk;
    const qr = await currentQr(page, desk.qrs, EN);
    await page.getByRole('heading', { name: EN.title }).waitFor();
    await page.getByText(/Expires in \d:\d\d/).waitFor();

    const phone = await phoneUser(suite.app.base, 'dong', '111');
    assert.equal((await phone.scan(qr.qrcode_id)).status, 200);
    await status(page, EN.scanned('东东')).waitFor();
    await page.getByRole('button', { name: EN.other, exact: true }).waitFor();
    // Once scanned, no code to type is offered.
    assert.equal(await page.getByRole('link', { name: EN.cantScan }).count(), 0);

    assert.equal((await phone.confirm(qr.qrcode_id)).status, 200);
    await status(page, EN.signedIn('东东')).waitFor();
    await page.getByRole('heading', { name: EN.signedInTitle, exact: true }).waitFor();
    await page.getByText('@dong').waitFor();
    assert.equal(await page.getByRole('heading', { name: EN.title }).count(), 0);
    assert.equal(await page.getByRole('img', { name: EN.alt }).count(), 0);
    const token = await page.evaluate(() => localStorage.getItem('qrlogin.pc.token'));
    assert.ok(token);
    // The page binds its login to its own DPoP key: the token it keeps is worth nothing copied out.
    const me = await fetch(`${suite.app.base}/api/me`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(me.status, 401);
    assert.match(me.headers.get('WWW-Authenticate') ?? '', /^DPoP error="invalid_token"/);

    // The element said each change once, and handed the token over once, bubbling and composed.
    const seen = await seenEvents(page);
    const statuses = seen.filter((e) => e.type === 'qr-login:status');
    assert.deepEqual(
      statuses.map((e) => [e.detail.status, e.detail.version]),
      [
        ['noscan', 0],
        ['scan-wait-confirm', 1],
        ['scan-confirm', 2],
      ],
    );
    assert.equal(statuses[1]!.detail.scanner?.display_name, '东东');
    const logins = seen.filter((e) => e.type === 'qr-login:login');
    assert.equal(logins.length, 1);
    assert.equal(logins[0]!.detail.token, token);
    assert.equal(logins[0]!.detail.token_type, 'DPoP');
    assert.equal(logins[0]!.detail.user?.display_name, '东东');
    assert.ok(seen.every((e) => e.bubbles && e.composed));

    // Signed in, a reload shows the user again (from /api/me), not a QR code.
    await page.reload();
    await status(page, EN.signedIn('东东')).waitFor();
    assert.equal(await page.getByRole('img', { name: EN.alt }).count(), 0);

    // Sign out: a new code, and the keyboard focus on it rather than lost.
    await page.getByRole('button', { name: EN.signOut, exact: true }).focus();
    await page.keyboard.press('Enter');
    await currentQr(page, desk.qrs, EN);
    assert.equal(await page.evaluate(() => localStorage.getItem('qrlogin.pc.token')), null);
    assert.equal((await focusInside(page)).host, 'qr-login');
    await desk.close();
  });

  test('a login bound to the page’s DPoP key: a copied poll token or refresh token collects nothing, a reload keeps the key', async () => {
    const desk = await pcPage();
    const { page } = desk;
    const qr = await currentQr(page, desk.qrs, EN);
    const phone = await phoneUser(suite.app.base, 'dong', '111');
    assert.equal((await phone.scan(qr.qrcode_id)).status, 200);
    await status(page, EN.scanned('东东')).waitFor();
    // From another context, the poll token alone: 401 with a DPoP challenge, nothing handed out.
    const poll = () =>
      fetch(`${suite.app.base}/api/qrcodes/${qr.qrcode_id}/status`, { headers: { 'X-Poll-Token': qr.poll_token } });
    const early = await poll();
    assert.equal(early.status, 401);
    assert.match(early.headers.get('WWW-Authenticate') ?? '', /^DPoP /);
    assert.equal((await phone.confirm(qr.qrcode_id)).status, 200);
    // Confirmed: still refused (401), or already collected by the page (410); never the token.
    const copied = await poll();
    assert.ok([401, 410].includes(copied.status), `status ${copied.status}`);
    assert.equal(((await copied.json()) as { token?: string }).token, undefined);
    // The page, which holds the key, signs in.
    await status(page, EN.signedIn('东东')).waitFor();

    // Its refresh token, copied from its storage and replayed from here, is refused and stays good.
    const refresh = await page.evaluate(
      () =>
        new Promise<string>((resolve, reject) => {
          const req = indexedDB.open('qrlogin');
          req.onsuccess = () => {
            const get = req.result.transaction('renewals').objectStore('renewals').get('qrlogin.pc.token');
            get.onsuccess = () => resolve((get.result as { refresh: string }).refresh);
            get.onerror = () => reject(get.error);
          };
          req.onerror = () => reject(req.error);
        }),
    );
    const stolen = await fetch(`${suite.app.base}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh }),
    });
    assert.equal(stolen.status, 400);
    assert.equal(((await stolen.json()) as { error: string }).error, 'invalid_grant');

    // A reload proves the same key from IndexedDB: /api/me answers, and the page renews with its refresh token.
    await page.reload();
    await status(page, EN.signedIn('东东')).waitFor();
    const renewed = await page.evaluate(async () => {
      // The page's own module, as the page loads it (a path the browser resolves, not the test's TypeScript).
      const kit = '/kit/dpop.js';
      const { dpopProof } = (await import(kit)) as {
        dpopProof: (method: string, url: URL) => Promise<string | null>;
      };
      const url = new URL('/oauth/token', location.href);
      const req = indexedDB.open('qrlogin');
      const refreshToken = await new Promise<string>((resolve) => {
        req.onsuccess = () => {
          const get = req.result.transaction('renewals').objectStore('renewals').get('qrlogin.pc.token');
          get.onsuccess = () => resolve((get.result as { refresh: string }).refresh);
        };
      });
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', DPoP: (await dpopProof('POST', url)) ?? '' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
      });
      return { status: res.status, type: ((await res.json()) as { token_type: string }).token_type };
    });
    assert.deepEqual(renewed, { status: 200, type: 'DPoP' });
    await desk.close();
  });

  test('a device signed out from the phone shows a new code and says so when its tab comes back', async () => {
    const desk = await pcPage();
    const { page } = desk;
    const qr = await currentQr(page, desk.qrs, EN);
    const phone = await phoneUser(suite.app.base, 'guang', '222');
    await phone.scan(qr.qrcode_id);
    await phone.confirm(qr.qrcode_id);
    await status(page, EN.signedIn('光光')).waitFor();

    // The phone signs this PC out from its linked devices.
    const token = (await page.evaluate(() => localStorage.getItem('qrlogin.pc.token')))!;
    const { sid } = decodeJwt(token) as { sid: string };
    const revoked = await fetch(`${suite.app.base}/api/sessions/${sid}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${phone.token}` },
    });
    assert.equal(revoked.status, 204);

    await page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await status(page, `${EN.signedOut} ${EN.waiting}`).waitFor();
    await page.getByRole('img', { name: EN.alt }).waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem('qrlogin.pc.token')), null);
    await desk.close();
  });

  test('a stored token is checked with /api/me, and a lost connection there counts down with Retry now too', async () => {
    // A PC token, collected the way the element collects it.
    const qr = (await (await fetch(`${suite.app.base}/api/qrcodes`, { method: 'POST' })).json()) as NewQr;
    const phone = await phoneUser(suite.app.base, 'guang', '222');
    await phone.scan(qr.qrcode_id);
    await phone.confirm(qr.qrcode_id);
    const answer = await fetch(`${suite.app.base}/api/qrcodes/${qr.qrcode_id}/status`, {
      headers: { 'X-Poll-Token': qr.poll_token },
    });
    const { token } = (await answer.json()) as { token: string };

    let down = true;
    const desk = await pcPage({
      routes: async (page) => {
        await page.addInitScript((t) => localStorage.setItem('qrlogin.pc.token', t), token);
        await page.route('**/api/me', (route) => (down ? route.abort('connectionrefused') : route.fallback()));
      },
    });
    const { page } = desk;
    await status(page, EN.retrying(1)).waitFor();
    assert.equal(await page.getByRole('img', { name: EN.alt }).count(), 0, 'no new code for a signed-in PC');
    down = false;
    await page.getByRole('button', { name: EN.retryNow, exact: true }).click();
    await status(page, EN.signedIn('光光')).waitFor();
    await page.getByRole('heading', { name: EN.signedInTitle, exact: true }).waitFor();
    assert.equal(await page.getByRole('button', { name: EN.retryNow }).count(), 0);
    assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'H1', 'the focus went to the heading');
    await desk.close();
  });

  test('the language switch changes every word at once and is remembered', async () => {
    const desk = await pcPage({ locale: 'en-US' });
    const { page } = desk;
    await currentQr(page, desk.qrs, EN);
    const chinese = page.getByRole('button', { name: '中文', exact: true });
    assert.equal(await chinese.getAttribute('aria-pressed'), 'false');
    await chinese.click();
    await status(page, ZH.waiting).waitFor();
    await page.getByRole('img', { name: ZH.alt }).waitFor();
    await page.getByRole('heading', { name: ZH.title }).waitFor();
    await page.getByRole('link', { name: ZH.cantScan }).waitFor();
    assert.equal(await chinese.getAttribute('aria-pressed'), 'true');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
    assert.ok((await page.title()).startsWith(ZH.title));

    await page.reload();
    await status(page, ZH.waiting).waitFor();
    await page.getByRole('button', { name: 'English', exact: true }).click();
    await status(page, EN.waiting).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    await desk.close();
  });

  test('Refresh and "Use another account" put the keyboard focus on the new code', async () => {
    const desk = await pcPage({ routes: firstPollGone });
    const { page } = desk;
    await status(page, EN.expired).waitFor();
    const refresh = page.getByRole('button', { name: EN.refresh, exact: true });
    assert.ok(await oneLine(refresh), 'Refresh QR code stays on one line');
    await refresh.focus();
    await page.keyboard.press('Enter');
    const second = await currentQr(page, desk.qrs, EN, 2);
    assert.deepEqual(await focusInside(page), { host: 'qr-login', inner: EN.alt });

    const phone = await phoneUser(suite.app.base, 'dong', '111');
    await phone.scan(second.qrcode_id);
    await status(page, EN.scanned('东东')).waitFor();
    await page.getByRole('button', { name: EN.other, exact: true }).focus();
    await page.keyboard.press('Enter');
    const third = await currentQr(page, desk.qrs, EN, 3);
    assert.notEqual(third.qrcode_id, second.qrcode_id);
    assert.deepEqual(await focusInside(page), { host: 'qr-login', inner: EN.alt });
    await desk.close();
  });

  test('a lost connection counts down, never waits more than 5 s, offers Retry now, and sees the server back at once', async () => {
    let down = true;
    const desk = await pcPage({
      routes: async (page) => {
        // The page's clock only moves when the test says so: every countdown step is seen.
        const now = Date.now();
        await page.clock.install({ time: now });
        await page.clock.pauseAt(now + 1000);
        await page.route('**/api/qrcodes/*/status*', (route: Route) =>
          down ? route.abort('connectionrefused') : route.fallback(),
        );
      },
    });
    const { page, clock } = { page: desk.page, clock: desk.page.clock };
    await status(page, EN.retrying(1)).waitFor();
    const retryNow = page.getByRole('button', { name: EN.retryNow, exact: true });
    await retryNow.waitFor();
    // The code stays up, scannable, while the PC cannot reach the server.
    await page.getByRole('img', { name: EN.alt }).waitFor();
    await clock.runFor(1000);
    await status(page, EN.retrying(2)).waitFor();
    await clock.runFor(1000);
    await status(page, EN.retrying(1)).waitFor();
    await clock.runFor(1000);
    await status(page, EN.retrying(4)).waitFor();
    await clock.runFor(4000);
    await status(page, EN.retrying(5)).waitFor();
    await clock.runFor(5000);
    await status(page, EN.retrying(5)).waitFor();
    await shot(page, 'pc-offline-light-en');

    // The server is back: "Retry now" finds it without waiting for the countdown.
    down = false;
    await retryNow.click();
    await status(page, EN.waiting).waitFor();
    assert.equal(await retryNow.count(), 0);
    assert.equal((await focusInside(page)).host, 'qr-login', 'the focus did not fall back to the page');

    // Lost again after a scan; the browser says it is back online: the page tries at once.
    down = true;
    const phone = await phoneUser(suite.app.base, 'guang', '222');
    await phone.scan(desk.qrs[0]!.qrcode_id);
    await status(page, EN.retrying(1)).waitFor();
    down = false;
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    await status(page, EN.scanned('光光')).waitFor();
    await phone.confirm(desk.qrs[0]!.qrcode_id);
    await status(page, EN.signedIn('光光')).waitFor();
    await desk.close();
  });

  test('on a phone the page says this phone cannot scan its own screen and offers the code instead', async () => {
    const small = await open([suite.app.base], {
      locale: 'en-US',
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      userAgent: PHONE_UA,
    });
    const { page } = small;
    await page.goto(`${suite.app.base}/`);
    await page.getByText(EN.onPhone).waitFor();
    await page.getByRole('link', { name: EN.cantScan }).click();
    await page.getByText(/No camera\? Open .*\/link on your phone and type this code:/).waitFor();
    await page.getByText(/^[B-Z]{4}-[B-Z]{4}$/).waitFor();
    await fitsWidth(page);
    await shot(page, 'pc-on-phone-light-en');
    await small.close();
  });

  test('at 200 % zoom the whole code is in view and Refresh QR code stays on one line', async () => {
    for (const locale of ['en-US', 'zh-CN']) {
      const names = locale === 'en-US' ? EN : ZH;
      // 1280×800 at 200 %: a 640×400 CSS-pixel window drawn with two device pixels per pixel.
      const zoomed = await open([suite.app.base], {
        locale,
        viewport: { width: 640, height: 400 },
        deviceScaleFactor: 2,
      });
      const { page } = zoomed;
      await firstPollGone(page);
      await page.goto(`${suite.app.base}/`);
      await status(page, names.expired).waitFor();
      const box = (await page.getByRole('img', { name: names.alt }).boundingBox())!;
      assert.ok(box.y >= 0 && box.y + box.height <= 400, `the code (${box.y}–${box.y + box.height}) fits 400 px`);
      assert.ok(box.x >= 0 && box.x + box.width <= 640);
      assert.ok(box.width >= 180, `the code is still ${box.width} px`);
      const refresh = page.getByRole('button', { name: names.refresh, exact: true });
      assert.ok(await oneLine(refresh));
      await refresh.click();
      await status(page, names.waiting).waitFor();
      const again = (await page.getByRole('img', { name: names.alt }).boundingBox())!;
      assert.ok(again.y + again.height <= 400);
      await zoomed.close();
    }
  });
});

describe('every PC state, in both languages, light and dark: axe finds nothing serious', () => {
  // Screenshots of two of the four looks are enough to show both languages and both colour schemes.
  const looks = [
    { locale: 'zh-CN', dark: false, names: ZH, tag: 'light-zh', shots: true },
    { locale: 'en-US', dark: true, names: EN, tag: 'dark-en', shots: true },
    { locale: 'en-US', dark: false, names: EN, tag: 'light-en', shots: false },
    { locale: 'zh-CN', dark: true, names: ZH, tag: 'dark-zh', shots: false },
  ];
  for (const { locale, dark, names, tag, shots } of looks) {
    const look = async (page: Page, state: string) => {
      await noSeriousA11yProblems(page, `${tag} ${state}`);
      if (shots) await shot(page, `pc-${state}-${tag}`);
    };
    test(`${tag}: waiting, the code to type, scanned, cancelled, signed in, expired`, async () => {
      const desk = await pcPage({ locale, dark });
      const { page } = desk;
      const first = await currentQr(page, desk.qrs, names);
      await look(page, 'waiting');
      await page.getByRole('link', { name: names.cantScan }).click();
      await page.getByText(/^[B-Z]{4}-[B-Z]{4}$/).waitFor();
      await look(page, 'code');

      const phone = await phoneUser(suite.app.base, 'dong', '111');
      await phone.scan(first.qrcode_id);
      await status(page, names.scanned('东东')).waitFor();
      await look(page, 'scanned');
      await phone.cancel(first.qrcode_id);
      await status(page, names.cancelled).waitFor();
      await look(page, 'cancelled');

      await page.getByRole('button', { name: names.refresh, exact: true }).click();
      const second = await currentQr(page, desk.qrs, names, 2);
      await phone.scan(second.qrcode_id);
      await phone.confirm(second.qrcode_id);
      await status(page, names.signedIn('东东')).waitFor();
      await look(page, 'signed-in');
      await desk.close();

      const gone = await pcPage({ locale, dark, routes: firstPollGone });
      await status(gone.page, names.expired).waitFor();
      await look(gone.page, 'expired');
      await gone.close();
    });
  }
});

/**
 * Another site on its own origin (in `ALLOWED_ORIGINS`): its page loads the widget from the
 * Worker's origin (a module script and its imports, fetched with CORS) and calls the API there.
 * At `/proxied` the page instead names its own origin as `server`, and its server passes `/api/*`
 * on to the Worker.
 */
describe('<qr-login> embedded in another site', () => {
  let site: HostSite;
  let stranger: HostSite;

  before(async () => {
    [site, stranger] = await Promise.all([
      startHostSite(siteOrigin, suite.app.base),
      startHostSite(strangerOrigin, suite.app.base),
    ]);
  });
  after(() => Promise.all([site?.stop(), stranger?.stop()]));

  /** A window for the site's pages, English, recording the element's events and codes. */
  async function siteWindow() {
    const win = await open([siteOrigin, suite.app.base], { locale: 'en-US', viewport: DESKTOP });
    await win.ctx.addInitScript(RECORD_EVENTS);
    return { ...win, qrs: recordQrs(win.page) };
  }

  test('the site gets the events, its accent and font show, roles and names are reachable, nothing is stored', async () => {
    const win = await siteWindow();
    const { page, qrs } = win;
    const created = page.waitForRequest(`${suite.app.base}/api/qrcodes`);
    await page.goto(`${siteOrigin}/`);
    const qr = await currentQr(page, qrs, EN);
    assert.equal((await created).method(), 'POST', 'the element called the Worker across origins');
    await page.getByRole('link', { name: EN.cantScan }).waitFor();
    assert.ok(
      (await page.getByRole('status').evaluate((el) => getComputedStyle(el).fontFamily)).startsWith('Georgia'),
      'the host page chose the font',
    );
    await noSeriousA11yProblems(page, 'embedded, waiting');
    await shot(page, 'widget-embedded-light-en');

    // The `lang` attribute is observed: every word changes at once.
    await page.evaluate(() => document.querySelector('qr-login')!.setAttribute('lang', 'zh-CN'));
    await status(page, ZH.waiting).waitFor();
    await page.getByRole('img', { name: ZH.alt }).waitFor();
    await page.evaluate(() => document.querySelector('qr-login')!.setAttribute('lang', 'en'));
    await status(page, EN.waiting).waitFor();

    const phone = await phoneUser(suite.app.base, 'dong', '111');
    await phone.scan(qr.qrcode_id);
    await status(page, EN.scanned('东东')).waitFor();
    const accent = await page
      .locator('qr-login .avatar')
      .first()
      .evaluate((el) => getComputedStyle(el).backgroundColor);
    assert.equal(accent, 'rgb(102, 57, 186)', 'the host page chose the accent');
    await noSeriousA11yProblems(page, 'embedded, scanned');
    await shot(page, 'widget-embedded-scanned-light-en');

    await phone.confirm(qr.qrcode_id);
    await status(page, EN.signedIn('东东')).waitFor();
    const seen = await seenEvents(page);
    assert.deepEqual(
      seen.filter((e) => e.type === 'qr-login:status').map((e) => e.detail.status),
      ['noscan', 'scan-wait-confirm', 'scan-confirm'],
    );
    const logins = seen.filter((e) => e.type === 'qr-login:login');
    assert.equal(logins.length, 1);
    assert.ok(logins[0]!.bubbles && logins[0]!.composed);
    const me = await fetch(`${suite.app.base}/api/me`, {
      headers: { Authorization: `Bearer ${logins[0]!.detail.token}` },
    });
    assert.equal(((await me.json()) as { username: string }).username, 'dong');
    // The element keeps no token: the site's storage is empty.
    assert.deepEqual(await page.evaluate(() => [localStorage.length, sessionStorage.length]), [0, 0]);
    await win.close();
  });

  test('signed out from the phone, it fires qr-login:logout with the reason within a second and says so', async () => {
    const win = await siteWindow();
    const { page, qrs } = win;
    const watch = watchedStreams(page);
    await page.goto(`${siteOrigin}/`);
    const qr = await currentQr(page, qrs, EN);
    const phone = await phoneUser(suite.app.base, 'dong', '111');
    await phone.scan(qr.qrcode_id);
    await phone.confirm(qr.qrcode_id);
    await status(page, EN.signedIn('东东')).waitFor();
    await watch.open();
    const login = (await seenEvents(page)).find((e) => e.type === 'qr-login:login')!;
    const { sid } = decodeJwt(login.detail.token as string) as { sid: string };

    const revoked = await fetch(`${suite.app.base}/api/sessions/${sid}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${phone.token}` },
    });
    assert.equal(revoked.status, 204);
    const since = Date.now();
    await page.waitForFunction(
      () => (globalThis as unknown as { seen: { type: string }[] }).seen.some((e) => e.type === 'qr-login:logout'),
      undefined,
      { timeout: 1_000 },
    );
    assert.ok(Date.now() - since < 1_000);
    const logouts = (await seenEvents(page)).filter((e) => e.type === 'qr-login:logout');
    assert.equal(logouts.length, 1);
    assert.deepEqual(logouts[0], {
      type: 'qr-login:logout',
      bubbles: true,
      composed: true,
      detail: { reason: 'signed_out' },
    });
    // It says so in words, above a new code.
    await status(page, `${EN.signedOut} ${EN.waiting}`).waitFor();
    await currentQr(page, qrs, EN, 2);
    await noSeriousA11yProblems(page, 'embedded, signed out from the phone');
    await win.close();
  });

  test("through the site's own origin (the server attribute), dark, in Chinese: axe finds nothing serious", async () => {
    const win = await open([siteOrigin, suite.app.base], {
      locale: 'zh-CN',
      viewport: DESKTOP,
      colorScheme: 'dark',
    });
    const created = win.page.waitForRequest(`${siteOrigin}/api/qrcodes`);
    await win.page.goto(`${siteOrigin}/proxied`);
    await created;
    await status(win.page, ZH.waiting).waitFor();
    await noSeriousA11yProblems(win.page, 'embedded, dark, zh');
    await shot(win.page, 'widget-embedded-dark-zh');
    await win.close();
  });

  test('under an ordinary strict CSP the code shows, scans and signs in, with no violation', async () => {
    const win = await siteWindow();
    const { page, qrs } = win;
    const answer = await page.goto(`${siteOrigin}/strict`);
    assert.equal(answer?.headers()['content-security-policy'], strictPolicy(suite.app.base));
    const qr = await currentQr(page, qrs, EN);
    // A camera reads the code from the screen.
    const image = page.getByRole('img', { name: EN.alt });
    assert.equal(await scanScreen(page, image), qr.scan_url);
    assert.ok(
      (await page.getByRole('status').evaluate((el) => getComputedStyle(el).fontFamily)).startsWith('Georgia'),
      "the host page's own style sheet still styles the element",
    );
    await noSeriousA11yProblems(page, 'embedded under a strict CSP');
    await shot(page, 'widget-strict-csp-light-en');

    const phone = await phoneUser(suite.app.base, 'guang', '222');
    await phone.scan(qr.qrcode_id);
    await status(page, EN.scanned('光光')).waitFor();
    await phone.confirm(qr.qrcode_id);
    await status(page, EN.signedIn('光光')).waitFor();
    assert.equal((await seenEvents(page)).filter((e) => e.type === 'qr-login:login').length, 1);
    // Closing asserts that nothing broke the page's policy.
    await win.close();
  });

  test('a page whose origin is not in ALLOWED_ORIGINS is told so, in words, and nothing is retried', async () => {
    const win = await open([strangerOrigin, suite.app.base], { locale: 'en-US', viewport: DESKTOP });
    const { page } = win;
    // The page's clock moves only when the test says so: a retry would have to wait for it.
    await page.clock.install();
    const asked: string[] = [];
    page.on('request', (r) => r.url().startsWith(suite.app.base) && asked.push(new URL(r.url()).pathname));
    await page.goto(`${strangerOrigin}/`);
    const refused = status(page, EN.originRefused(strangerOrigin, suite.app.base));
    await refused.waitFor();
    assert.equal(await page.getByRole('button', { name: EN.retryNow }).count(), 0);
    assert.equal(await page.getByRole('button', { name: EN.refresh }).count(), 0);
    assert.equal(await page.getByRole('img', { name: EN.alt }).count(), 0);
    const before = asked.length;
    await page.clock.runFor(120_000);
    await refused.waitFor();
    assert.deepEqual(asked.slice(before), [], 'no request after the refusal was said');
    assert.equal(asked.filter((path) => path === '/api/qrcodes').length, 1, 'one try, not a loop');

    // Said in both languages and both looks, where axe finds nothing serious.
    for (const { lang, dark, names } of [
      { lang: 'en', dark: false, names: EN },
      { lang: 'zh-CN', dark: false, names: ZH },
      { lang: 'en', dark: true, names: EN },
      { lang: 'zh-CN', dark: true, names: ZH },
    ]) {
      await page.emulateMedia({ colorScheme: dark ? 'dark' : 'light' });
      await page.evaluate((l) => document.querySelector('qr-login')!.setAttribute('lang', l), lang);
      await status(page, names.originRefused(strangerOrigin, suite.app.base)).waitFor();
      const tag = `${dark ? 'dark' : 'light'}-${lang.slice(0, 2)}`;
      await noSeriousA11yProblems(page, `origin refused, ${tag}`);
      if (tag === 'light-en' || tag === 'dark-zh') await shot(page, `widget-origin-refused-${tag}`);
    }
    await win.close();
  });

  test('the login event hands over refresh_token and expires_in when the server gives them', async () => {
    const win = await siteWindow();
    const { page, qrs } = win;
    let delivered: Record<string, unknown> | null = null;
    // The status answer that carries the token, as a Worker that issues refresh tokens says it.
    await page.route(`${suite.app.base}/api/qrcodes/*/status*`, async (route) => {
      const res = await route.fetch();
      const body = (await res.json()) as Record<string, unknown>;
      if (body.token) {
        body.refresh_token ??= 'a-refresh-token';
        body.expires_in ??= 900;
        delivered = body;
      }
      await route.fulfill({ response: res, json: body });
    });
    await page.goto(`${siteOrigin}/`);
    const qr = await currentQr(page, qrs, EN);
    const phone = await phoneUser(suite.app.base, 'dong', '111');
    await phone.scan(qr.qrcode_id);
    await phone.confirm(qr.qrcode_id);
    await status(page, EN.signedIn('东东')).waitFor();
    const [login] = (await seenEvents(page)).filter((e) => e.type === 'qr-login:login');
    assert.ok(delivered);
    const sent = delivered as Record<string, unknown>;
    assert.deepEqual(login?.detail, {
      token: sent.token,
      user: sent.user,
      refresh_token: sent.refresh_token,
      expires_in: sent.expires_in,
    });
    await win.close();
  });
});
