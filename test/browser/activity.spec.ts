/**
 * What happened to an account, in Chromium (issue 28). The phone's "Recent activity" under the
 * linked devices of /link and /confirm says each event in words, newest first. /admin, for an
 * account of ADMIN_USERS: sign in, confirm with a passkey (Chromium's virtual authenticator,
 * through the DevTools protocol's `WebAuthn` domain; the admin has none yet, so the page makes
 * one first), find a user, sign a session out, disable and enable the account, and read the
 * audit log, whose events came through the real AUDIT queue of `wrangler dev` into D1. A
 * non-admin is told so; an action that fails says why. The admin's tests come first: guang's
 * devices are then the two it makes. Keyboard only where it counts; axe in
 * light and dark, in both languages; screenshots to docs/screenshots/.
 *
 * Passkeys need a domain: the pages are opened at `http://localhost:<port>`, with
 * `PASSKEY_RP_ID=localhost` (as passkeys.spec.ts does).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CDPSession, Page } from 'playwright-core';
import { freePort } from '../support/wrangler-dev.ts';
import {
  apiLogin,
  DESKTOP,
  EN,
  newQr,
  noSeriousA11yProblems,
  open,
  PC_UA,
  PHONE_UA,
  phone,
  shot,
  signInOnPhone,
  useBrowser,
} from './support.ts';

const port = await freePort();
const BASE = `http://localhost:${port}`;
useBrowser({ ADMIN_USERS: 'dong', PASSKEY_RP_ID: 'localhost', PUBLIC_ORIGIN: BASE }, port);

const DONG = { username: 'dong', password: '111' };
const GUANG = { username: 'guang', password: '222' };

const WORDS = {
  en: {
    activity: 'Recent activity',
    refused: 'Sign-in refused: wrong password',
    qr: 'A computer signed in by scanning a QR code',
    password: 'Signed in with a password',
    admin: 'Administration',
    confirmPasskey: 'Confirm with a passkey',
    find: 'Find a user',
    query: 'Username or user id',
    audit: 'Audit log',
  },
  zh: {
    activity: '最近的活动',
    refused: '登录被拒绝：密码错误',
    qr: '一台电脑扫描二维码登录',
    password: '使用密码登录',
    admin: '管理',
    confirmPasskey: '使用通行密钥确认',
    find: '查找用户',
    query: '用户名或用户 ID',
    audit: '审计日志',
  },
};

/** A platform authenticator in `page`'s tab (as passkeys.spec.ts makes one). */
async function authenticator(page: Page) {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    count: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials.length,
  };
}

/** A wrong password for `username`, from a script (the attempt the user will read about). */
async function wrongPassword(username: string) {
  const res = await fetch(`${BASE}/api/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'User-Agent': 'guesser/1.0' },
    body: JSON.stringify({ username, password: 'not-the-password' }),
  });
  assert.equal(res.status, 401);
}

/** A QR login of a PC approved by `token` through the API: the PC's token. */
async function pcSignedIn(token: string) {
  const qr = await newQr(BASE);
  const step = (s: string) =>
    fetch(`${BASE}/api/qrcodes/${qr.qrcode_id}/${s}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
    });
  assert.equal((await step('scan')).status, 200);
  assert.equal((await step('confirm')).status, 200);
  const res = await fetch(`${BASE}/api/qrcodes/${qr.qrcode_id}/status`, { headers: { 'X-Poll-Token': qr.poll_token } });
  return ((await res.json()) as { token: string }).token;
}

/** Reloads `page` in `lang` (the language switch's choice is kept in localStorage). */
async function inLanguage(page: Page, lang: 'en' | 'zh-CN') {
  await page.evaluate((l) => localStorage.setItem('qrlogin.lang', l), lang);
  await page.reload();
}

/** axe in light and dark; a screenshot of each look named in `shots`. */
async function bothLooks(page: Page, where: string, shots: { light?: string; dark?: string } = {}) {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await noSeriousA11yProblems(page, `${where} (${scheme})`);
    const name = shots[scheme];
    if (name) await shot(page, name);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

describe('/admin', () => {
  test('an admin confirms with a passkey, finds a user, signs a session out, disables and enables, reads the log', async () => {
    // Guang is signed in on two devices: a phone and a PC it approved.
    const guangPhone = await apiLogin(BASE, GUANG, PHONE_UA);
    const guangPc = await pcSignedIn(guangPhone);
    const win = await open([BASE], { locale: 'en-US', viewport: DESKTOP, userAgent: PC_UA });
    const key = await authenticator(win.page);
    const page = win.page;
    try {
      await page.goto(`${BASE}/admin`);
      await signInOnPhone(page, EN, DONG.username, DONG.password);
      // The passkey step: dong has none yet, so the page makes one, then confirms with it.
      await page.getByRole('button', { name: WORDS.en.confirmPasskey, exact: true }).click();
      await page.getByText('You have no passkey yet').waitFor();
      await bothLooks(page, '/admin asking for a passkey');
      await page.getByRole('button', { name: 'Create a passkey', exact: true }).click();
      await page.getByRole('button', { name: WORDS.en.confirmPasskey, exact: true }).waitFor({ state: 'detached' });
      assert.equal(await key.count(), 1);

      // Find guang with the keyboard only.
      await page.getByLabel(WORDS.en.query, { exact: true }).focus();
      await page.keyboard.type('GU');
      await page.keyboard.press('Enter');
      const open = page.getByRole('button', { name: 'Open guang', exact: true });
      await open.waitFor();
      await open.focus();
      await page.keyboard.press('Enter');
      const card = page.getByRole('region', { name: /^guang/ });
      await card.getByRole('heading', { name: /^guang/ }).waitFor();
      assert.equal(await card.getByRole('button', { name: /^Sign out: / }).count(), 2);

      // A session that ended meanwhile: the page says why, and reads the list again.
      const pcSid = JSON.parse(Buffer.from(guangPc.split('.')[1]!, 'base64url').toString()).sid as string;
      const gone = await fetch(`${BASE}/api/sessions/${pcSid}`, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${guangPc}` },
      });
      assert.equal(gone.status, 204);
      await card.getByRole('button', { name: 'Sign out: Chrome on Windows' }).click();
      await card.getByRole('button', { name: 'Yes, sign out', exact: true }).click();
      await page.getByRole('alert').filter({ hasText: 'does not exist any more' }).waitFor();
      await card.getByRole('button', { name: 'Sign out: Chrome on Windows' }).waitFor({ state: 'detached' });

      // Sign the phone out, asked first.
      await card.getByRole('button', { name: 'Sign out: Chrome on Android' }).click();
      await card.getByRole('button', { name: 'Yes, sign out', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'Chrome on Android was signed out.' }).waitFor();
      assert.equal((await fetch(`${BASE}/api/me`, { headers: { Authorization: `Bearer ${guangPhone}` } })).status, 401);

      // Disable: guang signs in on a new device, which ends at once.
      const again = await apiLogin(BASE, GUANG, PHONE_UA);
      await card.getByRole('button', { name: 'Disable account', exact: true }).click();
      await card.getByRole('button', { name: 'Yes, disable', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'guang is disabled' }).waitFor();
      assert.equal((await fetch(`${BASE}/api/me`, { headers: { Authorization: `Bearer ${again}` } })).status, 401);
      const refused = await fetch(`${BASE}/api/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(GUANG),
      });
      assert.equal(refused.status, 401);
      await card.getByRole('button', { name: 'Enable account', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'guang can sign in again.' }).waitFor();
      await apiLogin(BASE, GUANG, PHONE_UA);

      // The audit log: guang's events come through the real queue, whose consumer gets a batch
      // within its max_batch_timeout (5 s), and nothing tells the page when: show the log again,
      // a second apart, until the disable is there.
      const log = page.getByRole('region', { name: WORDS.en.audit });
      await log.getByLabel('Username', { exact: true }).fill('guang');
      const disabledLine = log
        .getByRole('listitem')
        .filter({ hasText: 'The account was disabled by an administrator' });
      for (let tries = 0; tries < 30 && (await disabledLine.count()) === 0; tries++) {
        await log.getByRole('button', { name: 'Show', exact: true }).click();
        await page
          .getByRole('status')
          .filter({ hasText: /events? shown/ })
          .waitFor();
        if ((await disabledLine.count()) === 0) await page.waitForTimeout(1000);
      }
      await disabledLine.waitFor();
      assert.match((await disabledLine.textContent()) ?? '', /guang · by dong/);
      await log.getByLabel('What', { exact: true }).selectOption('sign_out');
      await log.getByRole('button', { name: 'Show', exact: true }).click();
      await log.getByRole('listitem').filter({ hasText: 'was signed out by an administrator' }).first().waitFor();

      await bothLooks(page, '/admin (en)', { dark: 'admin-dark-en' });
      await inLanguage(page, 'zh-CN');
      await page.getByRole('heading', { name: WORDS.zh.admin, exact: true }).waitFor();
      await page.getByRole('region', { name: WORDS.zh.find }).waitFor();
      await page.getByRole('region', { name: WORDS.zh.audit }).waitFor();
      await bothLooks(page, '/admin (zh-CN)', { light: 'admin-light-zh' });
    } finally {
      await win.close();
    }
  });
  test('a non-admin is told so in words, and may switch account', async () => {
    const win = await open([BASE], { locale: 'en-US', viewport: DESKTOP, userAgent: PC_UA });
    try {
      await win.page.goto(`${BASE}/admin`);
      await signInOnPhone(win.page, EN, GUANG.username, GUANG.password);
      await win.page.getByText('This account is not an administrator here.').waitFor();
      await win.page.getByRole('button', { name: 'Switch account', exact: true }).waitFor();
      await noSeriousA11yProblems(win.page, '/admin for a non-admin');
    } finally {
      await win.close();
    }
  });
});

describe('Recent activity on the phone', () => {
  test('lists what happened in words, newest first, in both languages, keyboard and all', async () => {
    const token = await apiLogin(BASE, GUANG, PHONE_UA);
    await pcSignedIn(token);
    await wrongPassword('guang');
    const win = await phone('en-US', BASE);
    try {
      await win.page.goto(`${BASE}/api/config`);
      await win.page.evaluate((t) => localStorage.setItem('qrlogin.phone.token', t), token);
      for (const lang of ['zh-CN', 'en'] as const) {
        const words = lang === 'en' ? WORDS.en : WORDS.zh;
        await win.page.goto(`${BASE}/link`);
        await inLanguage(win.page, lang);
        const region = win.page.getByRole('region', { name: words.activity });
        // Closed at first; the keyboard opens it (Tab to its summary, Enter).
        await region.locator('summary').focus();
        await win.page.keyboard.press('Enter');
        const items = region.getByRole('listitem');
        await items.first().waitFor();
        const texts = await items.locator('strong').allTextContents();
        assert.deepEqual(texts.slice(0, 3), [words.refused, words.qr, words.password]);
        const first = await items.first().textContent();
        assert.match(first ?? '', /127\.0\.0\.1|::1/);
        assert.match((await items.nth(1).textContent()) ?? '', /Chrome .*Windows|Windows.*Chrome/);
        await bothLooks(
          win.page,
          `/link recent activity (${lang})`,
          lang === 'en' ? { dark: 'activity-dark-en' } : { light: 'activity-light-zh' },
        );
      }
    } finally {
      await win.close();
    }
  });

  test('is on /confirm too, under the request to approve', async () => {
    const win = await phone('en-US', BASE);
    try {
      const token = await apiLogin(BASE, GUANG, PHONE_UA);
      await win.page.goto(`${BASE}/api/config`);
      await win.page.evaluate((t) => localStorage.setItem('qrlogin.phone.token', t), token);
      const qr = await newQr(BASE);
      await win.page.goto(`${BASE}/confirm?id=${qr.qrcode_id}`);
      await win.page.getByRole('button', { name: EN.confirm, exact: true }).waitFor();
      const region = win.page.getByRole('region', { name: WORDS.en.activity });
      await region.getByText(WORDS.en.activity, { exact: true }).click();
      await region.getByRole('listitem').first().waitFor();
      await noSeriousA11yProblems(win.page, '/confirm with the recent activity open');
    } finally {
      await win.close();
    }
  });
});
