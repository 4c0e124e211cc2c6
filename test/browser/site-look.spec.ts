/**
 * What every page shares, in Chromium: the site's own look (`SITE_ACCENT`, `SITE_LOGO`) on the
 * phone pages, on the PC page and in `<qr-login>` embedded under a strict CSP, with axe clean in
 * both looks and both languages; an icon at `/favicon.ico` (no page asks for something that is
 * not there); and one language switch that looks the same on the PC page and the phone pages.
 * Screenshots of the branded views go to docs/screenshots/. Run by `npm run test:browser`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { freePort } from '../support/wrangler-dev.ts';
import {
  DESKTOP,
  EN,
  type HostSite,
  newQr,
  noSeriousA11yProblems,
  open,
  phone,
  phoneUser,
  shot,
  signInOnPhone,
  startHostSite,
  status,
  suite,
  useBrowser,
  ZH,
} from './support.ts';

/** GitHub's purple: 3:1 and more against both looks' backgrounds, white text on it. */
const ACCENT = 'rgb(130, 80, 223)';
const SITE = 'Example Shop';
const siteOrigin = `http://127.0.0.1:${await freePort()}`;
useBrowser({ SITE_ACCENT: '#8250df', SITE_LOGO: '/favicon.svg', SITE_NAME: SITE, ALLOWED_ORIGINS: siteOrigin });

const LOOKS = [
  { locale: 'zh-CN', colorScheme: 'light', names: ZH, pictured: true },
  { locale: 'en-US', colorScheme: 'dark', names: EN, pictured: true },
  { locale: 'en-US', colorScheme: 'light', names: EN, pictured: false },
  { locale: 'zh-CN', colorScheme: 'dark', names: ZH, pictured: false },
] as const;
const tagOf = (look: (typeof LOOKS)[number]) => `${look.colorScheme}-${look.locale.slice(0, 2)}`;

/** The computed colours of an element. */
const colours = (page: Page, selector: string) =>
  page
    .locator(selector)
    .first()
    .evaluate((el) => {
      const s = getComputedStyle(el);
      return { background: s.backgroundColor, color: s.color, border: s.borderTopColor, outline: s.outlineColor };
    });

/** The page has taken the site's accent from its config (a constructed style sheet). */
const accentApplied = (page: Page) => page.waitForFunction(() => document.adoptedStyleSheets.length > 0);

describe("the site's accent and logo", () => {
  for (const look of LOOKS) {
    test(`phone pages, ${tagOf(look)}: the logo, the accent on controls and focus rings; axe finds nothing serious`, async () => {
      const mobile = await phone(look.locale, suite.app.base, { colorScheme: look.colorScheme });
      const { page } = mobile;
      const where = (view: string) => `${view}, branded (${tagOf(look)})`;
      await page.goto((await newQr()).scan_url);
      const logo = page.getByRole('img', { name: SITE, exact: true });
      await logo.waitFor();
      assert.ok(await logo.evaluate((img) => (img as HTMLImageElement).naturalWidth > 0), 'the logo loaded');
      await accentApplied(page);
      const signIn = page.getByRole('button', { name: look.names.signIn, exact: true });
      assert.deepEqual(
        await signIn.evaluate((el) => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]),
        [ACCENT, 'rgb(255, 255, 255)'],
      );
      await page.getByLabel(look.names.user, { exact: true }).focus();
      assert.equal((await colours(page, 'input:focus')).outline, ACCENT, 'the focus ring is the accent');
      assert.equal((await colours(page, '.lang-switch [aria-pressed="true"]')).background, ACCENT);
      await noSeriousA11yProblems(page, where('sign-in'));
      if (look.pictured) await shot(page, `phone-branded-sign-in-${tagOf(look)}`);

      await signInOnPhone(page, look.names, 'guang', '222');
      await page.getByRole('button', { name: look.names.confirm, exact: true }).waitFor();
      await noSeriousA11yProblems(page, where('confirm view'));
      if (look.pictured) await shot(page, `phone-branded-confirm-${tagOf(look)}`);
      await mobile.close();
    });
  }

  for (const look of LOOKS) {
    test(`the PC page, ${tagOf(look)}: the logo in the element, the accent on its controls; axe finds nothing serious`, async () => {
      const desk = await open([suite.app.base], {
        locale: look.locale,
        viewport: DESKTOP,
        colorScheme: look.colorScheme,
      });
      const { page } = desk;
      const created = page.waitForResponse((r) => r.url().endsWith('/api/qrcodes') && r.status() === 201);
      await page.goto(`${suite.app.base}/`);
      const qr = (await (await created).json()) as { qrcode_id: string };
      await page.getByRole('img', { name: SITE, exact: true }).waitFor();
      await accentApplied(page);
      assert.equal((await colours(page, '.lang-switch [aria-pressed="true"]')).background, ACCENT);
      await noSeriousA11yProblems(page, `PC waiting, branded (${tagOf(look)})`);

      const phoneSide = await phoneUser(suite.app.base, 'dong', '111');
      await phoneSide.scan(qr.qrcode_id);
      const scanned = look.locale === 'zh-CN' ? '东东已扫码' : '东东 scanned the code';
      await status(page, scanned).waitFor();
      assert.equal((await colours(page, 'qr-login .avatar')).background, ACCENT, "the scanner's avatar");
      await noSeriousA11yProblems(page, `PC scanned, branded (${tagOf(look)})`);
      if (look.pictured) await shot(page, `pc-branded-scanned-${tagOf(look)}`);

      await phoneSide.cancel(qr.qrcode_id);
      const refresh = page.getByRole('button', { name: look.locale === 'zh-CN' ? '刷新二维码' : 'Refresh QR code' });
      await refresh.waitFor();
      assert.equal(await refresh.evaluate((el) => getComputedStyle(el).backgroundColor), ACCENT);
      await noSeriousA11yProblems(page, `PC cancelled, branded (${tagOf(look)})`);
      await desk.close();
    });
  }
});

describe('<qr-login> with the logo, on a host page with a strict CSP', () => {
  let site: HostSite;
  before(async () => {
    site = await startHostSite(siteOrigin, suite.app.base);
  });
  after(() => site?.stop());

  /** The 32 px PNG inside /favicon.ico, as a data: URL: a raster logo. */
  function pngLogo() {
    const ico = readFileSync(path.resolve(import.meta.dirname, '../../public/favicon.ico'));
    const entries = Array.from({ length: ico.readUInt16LE(4) }, (_, i) => 6 + 16 * i);
    const entry = entries.find((at) => ico.readUInt8(at) === 32)!;
    const png = ico.subarray(ico.readUInt32LE(entry + 12), ico.readUInt32LE(entry + 12) + ico.readUInt32LE(entry + 8));
    return `data:image/png;base64,${png.toString('base64')}`;
  }

  test('an SVG logo from the Worker and a raster one as a data: URL are drawn with no violation', async () => {
    for (const raster of [false, true]) {
      const win = await open([siteOrigin, suite.app.base], { locale: 'en-US', viewport: DESKTOP });
      const { page } = win;
      if (raster) {
        await page.route(`${suite.app.base}/api/config`, async (route) => {
          const res = await route.fetch();
          await route.fulfill({ response: res, json: { ...(await res.json()), site_logo: pngLogo() } });
        });
      }
      await page.goto(`${siteOrigin}/strict`);
      await status(page, 'Waiting for a scan').waitFor();
      const logo = page.getByRole('img', { name: SITE, exact: true });
      await logo.waitFor();
      const drawn = await logo.evaluate((el) => {
        const box = el.getBoundingClientRect();
        if (!(el instanceof HTMLCanvasElement))
          return { tag: el.tagName, height: box.height, inked: el.childNodes.length > 0 };
        const pixel = el.getContext('2d')!.getImageData(el.width / 2, el.height / 2, 1, 1).data;
        return { tag: el.tagName, height: box.height, inked: pixel[3]! > 0 };
      });
      assert.deepEqual(drawn, { tag: raster ? 'CANVAS' : 'svg', height: 32, inked: true });
      await noSeriousA11yProblems(page, `embedded with a ${raster ? 'raster' : 'SVG'} logo under a strict CSP`);
      if (!raster) await shot(page, 'widget-branded-strict-csp-light-en');
      // Closing asserts that nothing broke the page's policy.
      await win.close();
    }
  });
});

describe('what every page shares', () => {
  const PAGES = ['/', '/link', `/confirm?id=${'ab'.repeat(32)}`];

  test('/favicon.ico is there, and no page asks for anything that is not', async () => {
    const win = await open([suite.app.base], { locale: 'en-US', viewport: DESKTOP });
    const { page } = win;
    const missing: string[] = [];
    page.on('response', (r) => r.status() >= 400 && missing.push(`${r.status()} ${r.url()}`));
    for (const where of PAGES) {
      await page.goto(`${suite.app.base}${where}`);
      await page.waitForLoadState('load');
      const icons = await page.evaluate(() =>
        [...document.querySelectorAll('link[rel="icon"]')].map((l) => (l as HTMLLinkElement).href),
      );
      assert.ok(icons.includes(`${suite.app.base}/favicon.ico`), `${where} names /favicon.ico`);
      for (const icon of icons) {
        const res = await page.request.get(icon);
        assert.equal(res.status(), 200, icon);
        assert.match(res.headers()['content-type'] ?? '', /^image\//, icon);
      }
    }
    assert.deepEqual(missing, []);
    await win.close();
  });

  /** How the language switch of the page at `where` looks: its place, and each button's box and style. */
  async function switchLook(page: Page, where: string) {
    await page.goto(`${suite.app.base}${where}`);
    const nav = page.getByRole('navigation', { name: /^(Language|语言)$/ });
    await nav.waitFor();
    await accentApplied(page);
    return nav.getByRole('button').evaluateAll((buttons) =>
      buttons.map((b) => {
        const r = b.getBoundingClientRect();
        const s = getComputedStyle(b);
        return {
          name: b.textContent,
          pressed: b.getAttribute('aria-pressed'),
          box: [r.x, r.y, r.width, r.height].map(Math.round),
          style: [
            s.backgroundColor,
            s.color,
            s.borderTopColor,
            s.borderTopWidth,
            s.borderRadius,
            s.fontFamily,
            s.fontSize,
            s.fontWeight,
            s.padding,
          ].join(' | '),
        };
      }),
    );
  }

  test('the language switch looks the same on the PC page and the phone pages, light and dark, wide and narrow', async () => {
    for (const viewport of [DESKTOP, { width: 360, height: 740 }]) {
      for (const colorScheme of ['light', 'dark'] as const) {
        const win = await open([suite.app.base], { locale: 'en-US', viewport, colorScheme });
        const looks = [];
        for (const where of PAGES) looks.push(await switchLook(win.page, where));
        assert.equal(looks[0]!.length, 2);
        for (const [i, look] of looks.entries()) {
          assert.deepEqual(look, looks[0], `${PAGES[i]} against / (${viewport.width} px, ${colorScheme})`);
        }
        await win.close();
      }
    }
  });
});
