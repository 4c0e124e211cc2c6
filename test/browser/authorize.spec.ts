/**
 * The OpenID Provider's authorize page in Chromium, between a stand-in site ("Example Grafana",
 * `stand-in-client.ts`: openid-client, code + PKCE + state + nonce) and a phone in another
 * window: the site sends its visitor to `/oauth/authorize`, the page shows the QR under the
 * site's name, the phone scans and confirms (number matching on), and the site says who signed
 * in. Also: "Continue as" (one click, by keyboard, no scan) and "Use another account", Cancel on
 * the page and on the phone (access_denied at the site), an expired QR replaced, a passkey from
 * the phone over hybrid, both languages (`ui_locales`, then the browser's) and dark mode, the
 * error page, and that no token of the user ever reaches the page's script. Screenshots go to
 * docs/screenshots/. Passkeys need a domain: the Worker is reached at `http://localhost:<port>`
 * (`PASSKEY_RP_ID=localhost`), the site at `127.0.0.1`. Over 400 lines: one suite for every way
 * into and out of the page, sharing one Worker, one stand-in site and their helpers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page, Response as PageAnswer } from 'playwright-core';
import { freePort } from '../support/wrangler-dev.ts';
import { type StandInClient, startStandInClient } from './stand-in-client.ts';
import {
  apiLogin,
  DESKTOP,
  EN,
  noSeriousA11yProblems,
  open,
  PHONE_UA,
  phone,
  phoneUser,
  scanScreen,
  shot,
  signInOnPhone,
  status,
  suite,
  useBrowser,
  type Window,
} from './support.ts';
import { authenticator } from './webauthn.ts';

const workerPort = await freePort();
const clientPort = await freePort();
/** The Worker as the browser reaches it (and its issuer). */
const BASE = `http://localhost:${workerPort}`;
const CLIENT = { id: 'grafana', name: 'Grafana', secret: 'a secret of grafana' };
const REDIRECT_URI = `http://127.0.0.1:${clientPort}/callback`;

useBrowser(
  {
    PUBLIC_ORIGIN: BASE,
    PASSKEY_RP_ID: 'localhost',
    MATCH_CODE: 'on',
    OIDC_CLIENTS: JSON.stringify([{ client_id: CLIENT.id, client_name: CLIENT.name, redirect_uris: [REDIRECT_URI] }]),
    OIDC_CLIENT_SECRETS: `${CLIENT.id}:${CLIENT.secret}`,
  },
  workerPort,
);

let site: StandInClient;
before(async () => {
  site = await startStandInClient({
    port: clientPort,
    issuer: BASE,
    reach: `http://127.0.0.1:${workerPort}`,
    clientId: CLIENT.id,
    secret: CLIENT.secret,
  });
});
after(() => site?.stop());

const WORDS = {
  en: {
    heading: 'Sign in to Grafana',
    qr: 'Login QR code',
    waiting: 'Waiting for a scan: scan this code with your phone to sign in.',
    scanned: '东东 scanned the code. Confirm on your phone.',
    match: 'Select this number on your phone:',
    returning: 'Signed in as 东东. Returning to Grafana…',
    cancelledOnPhone: 'Sign-in was cancelled on the phone. Returning to Grafana…',
    renewed: 'The QR code expired, so here is a new one. Waiting for a scan',
    cancel: 'Cancel',
    continueAs: 'Continue as 东东',
    other: 'Use another account',
    cantScan: "Can't scan? Use a code instead",
    passkey: 'Use a passkey from your phone',
  },
  zh: {
    heading: '登录 Grafana',
    qr: '登录二维码',
    waiting: '等待扫码：请使用手机扫描二维码登录。',
    scanned: '东东已扫码，请在手机上确认。',
    match: '请在手机上选择这个数字：',
    cancel: '取消',
    continueAs: '以东东身份继续',
  },
};
const T = WORDS.en;

/** Every JSON answer of `/api/` that the page received, as text, from the moment it is called. */
function apiAnswers(page: Page) {
  const answers: { url: string; body: string }[] = [];
  page.on('response', async (r: PageAnswer) => {
    if (!r.url().startsWith(`${BASE}/api/`) || !/json/.test(r.headers()['content-type'] ?? '')) return;
    const body = await r.text().catch(() => '');
    answers.push({ url: r.url(), body });
  });
  return answers;
}

/** A PC window for both origins (the site's and the Worker's). */
function desk(options: { locale?: string; dark?: boolean } = {}) {
  return open([BASE, site.base], {
    locale: options.locale ?? 'en-US',
    viewport: DESKTOP,
    colorScheme: options.dark ? 'dark' : 'light',
  });
}

/** The site's sign-in, from its own button: the browser is at the authorize page once it shows its QR. */
async function toAuthorizePage(page: Page, query = '', words: typeof T | typeof WORDS.zh = T) {
  await page.goto(`${site.base}/`);
  await page.getByRole('heading', { name: 'Example Grafana' }).waitFor();
  await page.goto(`${site.base}/login${query}`);
  assert.ok(page.url().startsWith(`${BASE}/oauth/authorize?`), page.url());
  await page.getByRole('heading', { name: words.heading, exact: true }).waitFor();
}

/** The QR the page shows, read from the screen as a phone's camera reads it. */
async function scanUrlOnScreen(page: Page, words: { qr: string; waiting: string } = T) {
  await status(page, words.waiting).waitFor();
  return scanScreen(page, page.getByRole('img', { name: words.qr }));
}

/** The two digits the page shows once the phone scanned. */
async function matchOnScreen(page: Page, words: { match: string } = T) {
  await page.getByText(words.match).waitFor();
  const code = (await page.locator('.match strong').textContent())?.trim() ?? '';
  assert.match(code, /^\d\d$/);
  return code;
}

/** The phone's side through the API: `user` scans the code of `scanUrl` and confirms with the PC's digits. */
async function approveThroughApi(page: Page, scanUrl: string, user: [string, string] = ['dong', '111']) {
  const id = new URL(scanUrl).searchParams.get('id') ?? '';
  const phoneApi = await phoneUser(suite.app.base, ...user);
  assert.equal((await phoneApi.scan(id)).status, 200);
  const match_code = await matchOnScreen(page);
  assert.equal((await phoneApi.confirm(id, { match_code })).status, 200);
  return { id, phoneApi };
}

/**
 * Stops the browser's first way back to the site (a 204 answer: the browser stays on the page),
 * so that the page's last words can be read; `goOn()` then goes there as the page meant to.
 */
async function holdTheWayBack(page: Page) {
  let heldUrl = '';
  await page.route(`${site.base}/callback*`, async (route) => {
    if (heldUrl) return route.fallback();
    heldUrl = route.request().url();
    await route.fulfill({ status: 204 });
  });
  return {
    goOn: async () => {
      assert.ok(heldUrl, 'the page went back to the site');
      await page.goto(heldUrl);
    },
  };
}

/** The site's page after the sign-in: who it says signed in, and the claims of its id_token. */
async function signedInAtSite(page: Page, name: string) {
  await page.getByRole('heading', { name: `Signed in as ${name}` }).waitFor();
  assert.ok(page.url().startsWith(site.redirectUri), page.url());
  return JSON.parse((await page.locator('#claims').textContent()) ?? '{}') as Record<string, unknown>;
}

/**
 * No token of the user reached the page's script: no answer it received carries a token (a
 * status answer carries `redirect_to` instead), nothing it may read keeps one (storage,
 * IndexedDB, a cookie: the single sign-on cookie is HttpOnly).
 */
async function noTokenReachedThePage(page: Page, answers: { url: string; body: string }[]) {
  assert.ok(answers.some((a) => /\/api\/qrcodes\/[^/]+\/status/.test(a.url)));
  for (const { url, body } of answers) {
    const json = JSON.parse(body || 'null') as unknown;
    const keys = new Set<string>();
    const walk = (v: unknown) => {
      if (v && typeof v === 'object') {
        for (const [k, inner] of Object.entries(v)) {
          keys.add(k);
          walk(inner);
        }
      }
    };
    walk(json);
    for (const key of ['token', 'access_token', 'id_token', 'refresh_token'])
      assert.ok(!keys.has(key), `${url}: ${key}`);
    // The one signed thing the page carries is its request (`authorization`): nobody's, no `sub`.
    for (const jwt of body.match(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g) ?? []) {
      const claims = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
      assert.equal(claims.sub, undefined, `${url} carries a token of a user`);
    }
  }
  const kept = await page.evaluate(async () => {
    const all = (s: Storage) => Object.fromEntries(Object.keys(s).map((k) => [k, s.getItem(k)]));
    return {
      local: all(localStorage),
      session: all(sessionStorage),
      databases: (await indexedDB.databases()).map((d) => d.name),
      cookie: document.cookie,
    };
  });
  assert.deepEqual(kept.session, {});
  assert.deepEqual(kept.databases, []);
  assert.equal(kept.cookie, '');
  for (const [key, value] of Object.entries(kept.local)) {
    assert.equal(key, 'qrlogin.lang', `localStorage keeps ${key}`);
    assert.ok(value === 'en' || value === 'zh-CN');
  }
}

describe('a site signs its user in by scan', () => {
  test('the authorize page under the site’s name, the phone scans and confirms, the site says who', async () => {
    const pc = await desk();
    const answers = apiAnswers(pc.page);
    const { page } = pc;
    await toAuthorizePage(page);
    assert.equal(await page.title(), `${T.heading} · QR Login`);
    await page.getByRole('button', { name: T.cancel, exact: true }).waitFor();
    await page.getByRole('link', { name: T.cantScan }).waitFor();
    // A passkey from the phone where it can work: this page is under the RP ID.
    await page.getByRole('button', { name: T.passkey, exact: true }).waitFor();
    await noSeriousA11yProblems(page, 'the authorize page, waiting (en, light)');
    await shot(page, 'authorize-light-en');

    // The phone: its camera reads the code on the screen, its user signs in and sees who asks.
    const scanUrl = await scanUrlOnScreen(page);
    const mobile = await phone('en-US', BASE);
    await mobile.page.goto(scanUrl);
    await signInOnPhone(mobile.page, EN, 'dong', '111');
    await mobile.page.getByRole('heading', { name: 'Sign in to Grafana on a computer?' }).waitFor();
    await status(page, T.scanned).waitFor();
    const code = await matchOnScreen(page);
    await noSeriousA11yProblems(page, 'the authorize page, scanned (en, light)');
    await shot(page, 'authorize-scanned-light-en');

    const wayBack = await holdTheWayBack(page);
    await mobile.page.getByRole('button', { name: code, exact: true }).click();
    await status(page, T.returning).waitFor();
    await noTokenReachedThePage(page, answers);
    await wayBack.goOn();
    const claims = await signedInAtSite(page, '东东');
    assert.equal(claims.sub, 'u_dong');
    assert.equal(claims.preferred_username, 'dong');
    assert.equal(claims.aud, CLIENT.id);
    assert.equal(claims.iss, BASE);
    assert.equal(typeof claims.sid, 'string');
    await mobile.close();
    await pc.close();
  });

  test('“Continue as 东东”: the next sign-in of that browser is one key press, no scan; “Use another account” scans', async () => {
    const pc = await desk();
    const { page } = pc;
    await toAuthorizePage(page);
    await approveThroughApi(page, await scanUrlOnScreen(page));
    await signedInAtSite(page, '东东');

    // The site forgets its visitor; the provider's sign-in of this browser lives on.
    await page.goto(`${site.base}/logout`);
    const polls: string[] = [];
    page.on('request', (r) => {
      if (/\/api\/qrcodes\/[^/]+\/status/.test(r.url())) polls.push(r.url());
    });
    await toAuthorizePage(page);
    const go = page.getByRole('button', { name: T.continueAs, exact: true });
    await go.waitFor();
    await page.getByRole('button', { name: T.other, exact: true }).waitFor();
    await page.getByRole('button', { name: T.cancel, exact: true }).waitFor();
    assert.equal(await page.getByRole('img', { name: T.qr }).count(), 0);
    await noSeriousA11yProblems(page, '“Continue as” (en, light)');
    await shot(page, 'authorize-continue-light-en');
    // By keyboard: Tab reaches the button, Enter presses it.
    for (let i = 0; i < 10 && !(await go.evaluate((el) => el === document.activeElement)); i++) {
      await page.keyboard.press('Tab');
    }
    assert.ok(await go.evaluate((el) => el === document.activeElement), 'Tab reaches “Continue as”');
    await page.keyboard.press('Enter');
    await signedInAtSite(page, '东东');
    assert.deepEqual(polls, [], 'no QR was waited on');

    // Another account: a fresh scan, by another user.
    await page.goto(`${site.base}/logout`);
    await toAuthorizePage(page);
    await page.getByRole('button', { name: T.other, exact: true }).click();
    const scanUrl = await scanUrlOnScreen(page);
    await approveThroughApi(page, scanUrl, ['guang', '222']);
    const claims = await signedInAtSite(page, '光光');
    assert.equal(claims.sub, 'u_guang');
    await pc.close();
  });

  test('Cancel on the page, or on the phone, ends at the site with access_denied', async () => {
    const pc = await desk();
    const { page } = pc;
    await toAuthorizePage(page);
    await status(page, T.waiting).waitFor();
    await page.getByRole('button', { name: T.cancel, exact: true }).click();
    await page.getByRole('heading', { name: 'Not signed in' }).waitFor();
    assert.equal(await page.locator('#error').textContent(), 'access_denied');

    await toAuthorizePage(page);
    const id = new URL(await scanUrlOnScreen(page)).searchParams.get('id') ?? '';
    const phoneApi = await phoneUser(suite.app.base, 'dong', '111');
    assert.equal((await phoneApi.scan(id)).status, 200);
    await status(page, T.scanned).waitFor();
    const wayBack = await holdTheWayBack(page);
    assert.equal((await phoneApi.cancel(id)).status, 200);
    await status(page, T.cancelledOnPhone).waitFor();
    await wayBack.goOn();
    await page.getByRole('heading', { name: 'Not signed in' }).waitFor();
    assert.equal(await page.locator('#error').textContent(), 'access_denied');
    await pc.close();
  });

  test('an expired QR is replaced by a fresh one for the same request, which then signs in', async () => {
    const pc = await desk();
    const { page } = pc;
    // The first code's session is gone at its first status poll, as after its two minutes.
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
    const fresh = page.waitForResponse((r) => r.url() === `${BASE}/api/authorize/qrcode` && r.status() === 200);
    await toAuthorizePage(page);
    await fresh;
    await status(page, T.renewed).waitFor();
    const scanUrl = await scanUrlOnScreen(page, { qr: T.qr, waiting: T.renewed });
    await approveThroughApi(page, scanUrl);
    await signedInAtSite(page, '东东');
    await pc.close();
  });

  test('a passkey from the phone, over hybrid, signs the site’s user in without a scan', async () => {
    // The phone makes its passkey (signed in, from its linked devices under /link).
    const mobile = await phone('en-US', BASE);
    const key = await authenticator(mobile.page);
    const token = await apiLogin(suite.app.base, { username: 'dong', password: '111' }, PHONE_UA);
    await mobile.page.goto(`${BASE}/api/config`);
    await mobile.page.evaluate((t) => localStorage.setItem('qrlogin.phone.token', t), token);
    await mobile.page.goto(`${BASE}/link`);
    await mobile.page.getByText('Linked devices', { exact: true }).click();
    await mobile.page.getByRole('button', { name: 'Add a passkey', exact: true }).click();
    await mobile.page.getByText(/Passkey added/).waitFor();
    const [onPhone] = await key.credentials();
    assert.ok(onPhone);
    await mobile.close();

    const pc = await desk();
    const hybrid = await authenticator(pc.page, 'cable');
    await hybrid.add(onPhone);
    const answers = apiAnswers(pc.page);
    await toAuthorizePage(pc.page);
    await pc.page.getByRole('button', { name: T.passkey, exact: true }).click();
    const claims = await signedInAtSite(pc.page, '东东');
    assert.equal(claims.sub, 'u_dong');
    for (const { body } of answers) assert.doesNotMatch(body, /"(access_|id_|refresh_)?token"/);
    await pc.close();
  });
});

describe('both languages, dark mode, and the error page', () => {
  test('the site’s ui_locales first, then the browser’s language; light and dark', async () => {
    // An English browser, a site that asks for Chinese, a dark screen.
    const pc = await desk({ dark: true });
    const { page } = pc;
    await toAuthorizePage(page, '?ui_locales=zh-CN', WORDS.zh);
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
    await page.getByRole('button', { name: WORDS.zh.cancel, exact: true }).waitFor();
    const scanUrl = await scanUrlOnScreen(page, WORDS.zh);
    await noSeriousA11yProblems(page, 'the authorize page, waiting (zh-CN, dark)');
    await shot(page, 'authorize-dark-zh');
    const id = new URL(scanUrl).searchParams.get('id') ?? '';
    const phoneApi = await phoneUser(suite.app.base, 'dong', '111');
    assert.equal((await phoneApi.scan(id)).status, 200);
    await status(page, WORDS.zh.scanned).waitFor();
    await matchOnScreen(page, WORDS.zh);
    await noSeriousA11yProblems(page, 'the authorize page, scanned (zh-CN, dark)');
    await shot(page, 'authorize-scanned-dark-zh');
    await pc.close();

    // A Chinese browser, a site that says nothing of languages.
    const zh = await desk({ locale: 'zh-CN' });
    await toAuthorizePage(zh.page, '', WORDS.zh);
    await status(zh.page, WORDS.zh.waiting).waitFor();
    await zh.close();
  });

  for (const [locale, scheme] of [
    ['en-US', 'light'],
    ['zh-CN', 'dark'],
  ] as const) {
    test(`an unknown client gets the error page in words, never a redirect (${locale}, ${scheme})`, async () => {
      const win: Window = await open([BASE], { locale, viewport: DESKTOP, colorScheme: scheme });
      const { page } = win;
      const query = new URLSearchParams({
        response_type: 'code',
        client_id: 'not-registered',
        redirect_uri: 'https://evil.example/cb',
        scope: 'openid',
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'S256',
      });
      const url = `${BASE}/oauth/authorize?${query}`;
      const answer = await page.goto(url);
      assert.equal(answer?.status(), 400);
      const [first, second] =
        locale === 'en-US'
          ? ['This sign-in link cannot be used', '无法使用此登录链接']
          : ['无法使用此登录链接', 'This sign-in link cannot be used'];
      await page.getByRole('heading', { level: 1, name: first }).waitFor();
      await page.getByRole('heading', { level: 2, name: second }).waitFor();
      await page.getByText('The site that sent you here is not registered with this sign-in service.').waitFor();
      await page.getByText('将您带到这里的网站没有在本登录服务中注册。').waitFor();
      // Nothing on it moves the browser on: no script, no refresh, no form; it stays where it is.
      assert.deepEqual(
        await page.evaluate(() => [
          document.scripts.length,
          document.querySelectorAll('meta[http-equiv], form').length,
        ]),
        [0, 0],
      );
      assert.equal(page.url(), url);
      await noSeriousA11yProblems(page, `the error page (${locale}, ${scheme})`);
      await shot(page, `authorize-error-${scheme}-${locale === 'en-US' ? 'en' : 'zh'}`);
      await win.close();
    });
  }
});
