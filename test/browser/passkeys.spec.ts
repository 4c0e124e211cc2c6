/**
 * Passkeys in Chromium (issue 19), with the browser's own virtual authenticator through the
 * DevTools protocol's `WebAuthn` domain: a platform authenticator on the phone (`internal`), a
 * phone reached over the hybrid transport on the PC (`cable`). Registration, the offer after a
 * password sign-in, the list, a sign-in with a passkey alone, the step-up that `CONFIRM_WITH` asks
 * for on the QR, the typed code and the device flow, a passkey made on the confirm view, the PC's
 * `<qr-login passkey>` on another site's page; and what goes wrong: a cancelled ceremony, a
 * replayed assertion, another user's passkey, a counter that went backwards. axe on every new view
 * in light and dark, in both languages; screenshots to docs/screenshots/.
 *
 * Passkeys need a domain (a browser refuses an IP address as RP ID): the pages are opened at
 * `http://localhost:<port>` (a secure context), with `PASSKEY_RP_ID=localhost`, and the site that
 * embeds the element is another origin under it, `http://localhost:<other port>`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SignJWT } from 'jose';
import type { Page } from 'playwright-core';
import { Agent, fetch as fetchFrom } from 'undici';
import { freePort } from '../support/wrangler-dev.ts';
import {
  apiLogin,
  DESKTOP,
  EN,
  equalButtons,
  type NewQr,
  noSeriousA11yProblems,
  open,
  PC_UA,
  PHONE_UA,
  pcStatus,
  phone,
  server,
  shot,
  signInOnPhone,
  startHostSite,
  status,
  suite,
  useBrowser,
  type Window,
  ZH,
} from './support.ts';
import { authenticator, idOf } from './webauthn.ts';

const workerPort = await freePort();
const hostPort = await freePort();
/** The Worker, as the browser reaches it, and a site of another origin under the same RP ID. */
const BASE = `http://localhost:${workerPort}`;
const HOST = `http://localhost:${hostPort}`;
/** The same site by its IP address: allowed to embed the QR, but no host for passkeys. */
const HOST_BY_IP = `http://127.0.0.1:${hostPort}`;
const OAUTH_CLIENT = 'tv-app';
useBrowser(
  {
    CONFIRM_WITH: 'passkey',
    PUBLIC_ORIGIN: BASE,
    PASSKEY_RP_ID: 'localhost',
    ALLOWED_ORIGINS: `${HOST},${HOST_BY_IP}`,
    OAUTH_CLIENTS: OAUTH_CLIENT,
  },
  workerPort,
);

const DONG = { username: 'dong', password: '111' };
const GUANG = { username: 'guang', password: '222' };

const WORDS = {
  en: {
    signInWithPasskey: 'Sign in with a passkey',
    addPasskey: 'Add a passkey',
    notNow: 'Not now',
    passkeys: 'Passkeys',
    devices: 'Linked devices',
    createPasskey: 'Create a passkey',
    confirm: EN.confirm,
    done: 'Done. The computer is now signed in.',
    always: 'This site asks for your passkey to approve sign-ins.',
    typed: 'You typed the code, so this site asks for your passkey.',
    location: 'The computer is in another place than your phone, so this site asks for your passkey.',
    noPasskey: 'You have no passkey yet: create one on this phone, then confirm with it.',
    created: 'Passkey created. Now confirm with it.',
    cancelled: 'The passkey was not used: the request was cancelled or timed out. You can try again.',
    refused: /That passkey was not accepted/,
    added: /Passkey added: Chrome on Android\./,
    usePasskey: 'Use a passkey from your phone',
    pcCancelled: 'The passkey was not used. Try again, or scan the QR code.',
  },
  zh: {
    signInWithPasskey: '使用通行密钥登录',
    addPasskey: '添加通行密钥',
    notNow: '以后再说',
    passkeys: '通行密钥',
    devices: '已登录的设备',
    createPasskey: '创建通行密钥',
    confirm: ZH.confirm,
    done: '完成，电脑已登录。',
    always: '此网站要求使用通行密钥确认登录。',
    typed: '你是输入验证码来到这里的，因此此网站要求使用通行密钥确认。',
    location: '电脑与你的手机不在同一地点，因此此网站要求使用通行密钥确认。',
    noPasskey: '你还没有通行密钥：请先在此手机上创建一个，然后用它确认。',
    created: '通行密钥已创建，现在请用它确认。',
    cancelled: '未使用通行密钥：请求已取消或超时。你可以重试。',
    refused: /该通行密钥未被接受/,
    added: /已添加通行密钥/,
    usePasskey: '使用手机上的通行密钥',
    pcCancelled: '未使用通行密钥。请重试，或扫描二维码。',
  },
};
const T = WORDS.en;

// ---------------------------------------------------------------- steps

/** A phone window at `base` with its own platform authenticator. */
async function passkeyPhone(locale = 'en-US', base = BASE, options: Parameters<typeof phone>[2] = {}) {
  const win = await phone(locale, base, options);
  return { ...win, key: await authenticator(win.page) };
}

/**
 * Signs the phone window at `base` in as `user` (through the API of the same server, `api`: the
 * sign-in form has its own test).
 */
async function signInThrough(win: Window, user: typeof DONG, base = BASE, api = suite.app.base) {
  const token = await apiLogin(api, user, PHONE_UA);
  await win.page.goto(`${base}/api/config`);
  await win.page.evaluate((t) => localStorage.setItem('qrlogin.phone.token', t), token);
  return token;
}

/** Adds a passkey of this phone from the list under /link (inside the linked devices' disclosure). */
async function addPasskeyHere(page: Page, base = BASE) {
  await page.goto(`${base}/link`);
  await page.getByText(T.devices, { exact: true }).click();
  await page.getByRole('button', { name: T.addPasskey, exact: true }).click();
  await page.getByText(T.added).waitFor();
}

/** `user`'s passkeys on the server, as `GET /api/passkeys` lists them. */
async function passkeysOf(token: string, base = suite.app.base) {
  const res = await fetch(`${base}/api/passkeys`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  return (await res.json()) as { id: string; name: string; created_at: string; last_used_at: string | null }[];
}

/** Removes every passkey of `user` (a fresh sign-in may), so that the user starts with none. */
async function forgetPasskeys(user: typeof DONG, base = suite.app.base) {
  const token = await apiLogin(base, user);
  for (const p of await passkeysOf(token, base)) {
    const res = await fetch(`${base}/api/passkeys/${p.id}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 204);
  }
}

/** A QR code asked for by a PC (from `localAddress`, if given), without a PC window. */
async function qrFrom(base = suite.app.base, localAddress?: string): Promise<NewQr> {
  const init = { method: 'POST', headers: { 'User-Agent': PC_UA } };
  const res = localAddress
    ? await fetchFrom(`${base}/api/qrcodes`, { ...init, dispatcher: new Agent({ localAddress }) })
    : await fetch(`${base}/api/qrcodes`, init);
  assert.equal(res.status, 201);
  const qr = (await res.json()) as NewQr;
  return qr;
}

/** The phone's page for `qr`, as the camera opens it. */
const scanUrlAt = (qr: NewQr, base = BASE) => `${base}/confirm?id=${qr.qrcode_id}`;

/** Posts `body` to a phone step of `qr` with `token`, as an API client (or an attacker) would. */
async function phoneStep(id: string, step: 'scan' | 'confirm', token: string, body?: unknown) {
  const res = await fetch(`${suite.app.base}/api/qrcodes/${id}/${step}`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The login of `qr` waits for the phone, as it was after the scan: nothing changed. */
async function stillWaiting(qr: NewQr, base = suite.app.base) {
  const now = await pcStatus(qr, 0, base);
  assert.equal(now.status, 200);
  assert.deepEqual([now.body.status, now.body.version], ['scan-wait-confirm', 1]);
}

/**
 * axe on the view in light and dark, in both languages (a language is chosen, and the page
 * reloaded, so `reach` brings the view back), and a screenshot of two of the four, named like
 * the others. The view is left in English and light.
 */
async function everyLook(page: Page, where: string, name: string | null, reach: () => Promise<void>) {
  // English last: the test goes on in English.
  for (const lang of ['zh-CN', 'en'] as const) {
    await page.evaluate((l) => localStorage.setItem('qrlogin.lang', l), lang);
    await page.reload();
    await reach();
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await noSeriousA11yProblems(page, `${where} (${scheme}, ${lang})`);
      const short = lang === 'en' ? 'en' : 'zh';
      if (name && (scheme === 'dark') === (short === 'en')) await shot(page, `${name}-${scheme}-${short}`);
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** The words of `lang` for the phone pages, chosen by `localStorage` after `everyLook`. */
const inLang = (page: Page) =>
  page.evaluate(() => (localStorage.getItem('qrlogin.lang') === 'zh-CN' ? 'zh' : 'en')) as Promise<'en' | 'zh'>;

// ---------------------------------------------------------------- the phone

describe('passkeys on the phone', () => {
  test('after a password sign-in the phone offers a passkey; it is added, listed, and removed after asking', async () => {
    await forgetPasskeys(GUANG);
    const win = await passkeyPhone();
    const { page, key } = win;
    await page.goto(`${BASE}/link`);
    // The sign-in form offers a passkey beside the password.
    const passkeyButton = page.getByRole('button', { name: T.signInWithPasskey, exact: true });
    await passkeyButton.waitFor();
    await everyLook(page, 'the sign-in form with a passkey', 'phone-passkey-sign-in', async () => {
      const lang = await inLang(page);
      await page.getByRole('button', { name: WORDS[lang].signInWithPasskey, exact: true }).waitFor();
    });
    await signInOnPhone(page, EN, GUANG.username, GUANG.password);
    // Signed in with a password: the offer to add a passkey, which can be dismissed.
    const offer = page.getByRole('button', { name: T.addPasskey, exact: true });
    await offer.waitFor();
    assert.equal(await page.getByRole('button', { name: T.notNow, exact: true }).count(), 1);
    await everyLook(page, 'the offer to add a passkey', 'phone-passkey-offer', async () => {
      const lang = await inLang(page);
      await page.getByRole('button', { name: WORDS[lang].addPasskey, exact: true }).waitFor();
    });
    await offer.click();
    await page.getByText(T.added).waitFor();
    assert.equal(await page.getByRole('button', { name: T.addPasskey, exact: true }).count(), 0);
    // A discoverable credential of this RP is in the phone's authenticator, and on the server.
    const [credential] = await key.credentials();
    assert.ok(credential);
    assert.equal(credential.rpId, 'localhost');
    assert.equal(credential.isResidentCredential, true);
    const token = (await page.evaluate(() => localStorage.getItem('qrlogin.phone.token'))) as string;
    const listed = await passkeysOf(token);
    assert.deepEqual(
      listed.map((p) => [p.id, p.name]),
      [[idOf(credential), 'Chrome on Android']],
    );

    // The list, beside the linked devices: name, when added, never used yet; removing asks first.
    const openList = async () => {
      const lang = await inLang(page);
      await page.getByText(WORDS[lang].devices, { exact: true }).click();
      await page.getByRole('heading', { name: WORDS[lang].passkeys, exact: true }).waitFor();
      // In the passkeys' region: the linked devices above name this phone the same way.
      await page
        .getByRole('region', { name: WORDS[lang].passkeys, exact: true })
        .getByText('Chrome on Android')
        .waitFor();
    };
    await openList();
    await page.getByText(/added just now · never used/).waitFor();
    await everyLook(page, 'the list of passkeys', 'phone-passkeys', openList);
    await page.getByRole('button', { name: 'Remove: Chrome on Android', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'Remove the passkey Chrome on Android?' }).waitFor();
    // The safe choice holds the focus.
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Keep');
    await noSeriousA11yProblems(page, 'removing a passkey asks first');
    await page.getByRole('button', { name: 'Yes, remove', exact: true }).click();
    await page.getByText('Chrome on Android was removed.').waitFor();
    await page.getByText('No passkeys yet.').waitFor();
    assert.deepEqual(await passkeysOf(token), []);
    await win.close();
  });

  test('on the confirm view the offer to add a passkey stays a side note: Confirm login and Cancel lead', async () => {
    // Confirming needs only a tap here, so the view has its plain pair and, after a password
    // sign-in, the offer below.
    const port = await freePort();
    const base = `http://localhost:${port}`;
    const tap = await server({ PUBLIC_ORIGIN: base, PASSKEY_RP_ID: 'localhost' }, port);
    try {
      const win = await passkeyPhone('en-US', base);
      const { page } = win;
      const qr = await qrFrom(tap.base);
      await page.goto(scanUrlAt(qr, base));
      await signInOnPhone(page, EN, GUANG.username, GUANG.password);
      const confirm = page.getByRole('button', { name: T.confirm, exact: true });
      const cancel = page.getByRole('button', { name: EN.cancel, exact: true });
      const add = page.getByRole('button', { name: T.addPasskey, exact: true });
      await add.waitFor();
      // The pair stays equal (the contract), and the offer weighs less than either: no accent
      // fill, lighter type, smaller, and below them.
      await equalButtons([confirm, cancel]);
      const look = (button: typeof add) =>
        button.evaluate((el) => {
          const s = getComputedStyle(el);
          const r = el.getBoundingClientRect();
          return {
            background: s.backgroundColor,
            weight: Number(s.fontWeight),
            size: parseFloat(s.fontSize),
            top: r.top,
            bottom: r.bottom,
          };
        });
      const [pair, offer, notNow] = [
        await look(confirm),
        await look(add),
        await look(page.getByRole('button', { name: T.notNow })),
      ];
      assert.equal(offer.background, pair.background, 'the offer is not filled with the accent');
      assert.equal(notNow.background, pair.background);
      assert.ok(
        offer.weight < pair.weight,
        `the offer's type (${offer.weight}) is lighter than Confirm's (${pair.weight})`,
      );
      assert.ok(
        offer.size < pair.size,
        `the offer's type (${offer.size}px) is smaller than Confirm's (${pair.size}px)`,
      );
      assert.ok(offer.top > pair.bottom, 'the offer is below Confirm login');
      await everyLook(page, 'the confirm view with the offer to add a passkey', 'phone-confirm-offer', async () => {
        const lang = await inLang(page);
        await page.getByRole('button', { name: WORDS[lang].addPasskey, exact: true }).waitFor();
      });
      await win.close();
    } finally {
      await tap.stop();
    }
  });

  test('a user who has a passkey is not offered one again after a password sign-in', async () => {
    const win = await passkeyPhone();
    await signInThrough(win, DONG);
    await addPasskeyHere(win.page);
    await win.page.evaluate(() => localStorage.clear());
    await win.page.goto(`${BASE}/link`);
    // The offer asks for the user's passkeys before it shows: once answered, nothing is offered.
    const looked = win.page.waitForResponse((r) => r.url().endsWith('/api/passkeys') && r.status() === 200);
    await signInOnPhone(win.page, EN, DONG.username, DONG.password);
    await win.page.getByLabel('Code', { exact: true }).waitFor();
    await looked;
    assert.equal(await win.page.getByRole('button', { name: T.addPasskey, exact: true }).count(), 0);
    assert.equal(await win.page.getByRole('button', { name: T.notNow, exact: true }).count(), 0);
    await win.close();
  });

  test('signs in with a passkey alone, keeps the tokens, and confirms a QR login with a step-up', async () => {
    const win = await passkeyPhone();
    const { page, key } = win;
    await signInThrough(win, DONG);
    await addPasskeyHere(page);
    await page.evaluate(() => localStorage.clear());

    // A cancelled ceremony says so in words, and the button works again.
    await page.goto(`${BASE}/link`);
    await key.verified(false);
    await page.getByRole('button', { name: T.signInWithPasskey, exact: true }).click();
    await page.getByRole('alert').filter({ hasText: T.cancelled }).waitFor();
    await key.verified(true);
    const signedIn = page.waitForResponse((r) => r.url().endsWith('/api/passkeys/login'));
    await page.getByRole('button', { name: T.signInWithPasskey, exact: true }).click();
    assert.equal((await signedIn).status(), 200);
    await page.getByLabel('Code', { exact: true }).waitFor();
    await page.getByText('Signed in as 东东').waitFor();
    // Kept through tokens.js: the access token, when it expires, and the refresh token.
    const kept = await page.evaluate(() => ({
      token: localStorage.getItem('qrlogin.phone.token'),
      expires: Number(localStorage.getItem('qrlogin.phone.token.expires')),
    }));
    assert.ok(kept.token);
    assert.ok(kept.expires > Date.now() + 60_000);
    // A passkey sign-in is not followed by an offer to add one.
    assert.equal(await page.getByRole('button', { name: T.addPasskey, exact: true }).count(), 0);

    // The PC page (which offers the PC's own passkey path too) shows a QR; the phone opens it.
    const pc = await open([BASE], { locale: 'en-US', viewport: DESKTOP });
    const created = pc.page.waitForResponse((r) => r.url().endsWith('/api/qrcodes') && r.status() === 201);
    await pc.page.goto(`${BASE}/`);
    const qr = (await (await created).json()) as NewQr;
    await pc.page.getByRole('button', { name: T.usePasskey, exact: true }).waitFor();

    // The confirm view says why it asks; Confirm keeps its name and runs the passkey.
    const sent: Record<string, unknown>[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/confirm') && r.method() === 'POST') sent.push(r.postDataJSON());
    });
    await page.goto(qr.scan_url);
    await page.getByText(T.always).waitFor();
    await everyLook(page, 'the confirm view with a step-up', 'phone-step-up', async () => {
      const lang = await inLang(page);
      await page.getByText(WORDS[lang].always).waitFor();
      await page.getByRole('button', { name: WORDS[lang].confirm, exact: true }).waitFor();
    });
    await page.getByRole('button', { name: T.confirm, exact: true }).click();
    await page.getByText(T.done).waitFor();
    await status(pc.page, 'Signed in as 东东.').waitFor();
    assert.ok(sent[0]?.passkey, 'the confirm carried an assertion');

    // The assertion, captured, and sent again through the API: refused, and nothing changes.
    const again = await phoneStep(qr.qrcode_id, 'confirm', kept.token, sent[0]);
    assert.deepEqual([again.status, again.body.error], [403, 'step_up_failed']);
    const next = await qrFrom();
    assert.equal((await phoneStep(next.qrcode_id, 'scan', kept.token)).status, 200);
    const replayed = await phoneStep(next.qrcode_id, 'confirm', kept.token, sent[0]);
    assert.deepEqual([replayed.status, replayed.body.error], [403, 'step_up_failed']);
    const bare = await phoneStep(next.qrcode_id, 'confirm', kept.token, {});
    assert.deepEqual([bare.status, bare.body.error], [403, 'step_up_required']);
    await stillWaiting(next);
    await pc.close();
    await win.close();
  });

  test('a user without a passkey creates one on the confirm view and then confirms with it', async () => {
    await forgetPasskeys(GUANG);
    const win = await passkeyPhone();
    const { page, key } = win;
    await signInThrough(win, GUANG);
    const qr = await qrFrom();
    await page.goto(scanUrlAt(qr));
    await page.getByText(T.noPasskey).waitFor();
    await everyLook(page, 'the confirm view of a user without a passkey', 'phone-step-up-create', async () => {
      const lang = await inLang(page);
      await page.getByText(WORDS[lang].noPasskey).waitFor();
      await page.getByRole('button', { name: WORDS[lang].createPasskey, exact: true }).waitFor();
    });
    // Only one button speaks of passkeys here: the offer below stays away.
    assert.equal(await page.getByRole('button', { name: /passkey/i }).count(), 1);
    await page.getByRole('button', { name: T.createPasskey, exact: true }).click();
    await page.getByText(T.created).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), T.confirm);
    assert.equal((await key.credentials()).length, 1);
    await stillWaiting(qr);
    await page.getByRole('button', { name: T.confirm, exact: true }).click();
    await page.getByText(T.done).waitFor();
    const pc = await pcStatus(qr, 1);
    assert.equal(pc.body.status, 'scan-confirm');
    assert.ok(pc.body.token);
    await win.close();
  });

  test('a cancelled ceremony says so in words, changes nothing, and the user tries again', async () => {
    const win = await passkeyPhone();
    const { page, key } = win;
    await signInThrough(win, DONG);
    await addPasskeyHere(page);
    const qr = await qrFrom();
    await page.goto(scanUrlAt(qr));
    await page.getByText(T.always).waitFor();
    const cancel = async () => {
      const lang = await inLang(page);
      await key.verified(false);
      await page.getByRole('button', { name: WORDS[lang].confirm, exact: true }).click();
      await page.getByRole('alert').filter({ hasText: WORDS[lang].cancelled }).waitFor();
      await key.verified(true);
    };
    await cancel();
    await stillWaiting(qr);
    // Confirm works again, and has the focus back.
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), T.confirm);
    await everyLook(page, 'a cancelled passkey on the confirm view', 'phone-step-up-cancelled', cancel);
    await page.getByRole('button', { name: T.confirm, exact: true }).click();
    await page.getByText(T.done).waitFor();
    await win.close();
  });

  test('another user’s passkey is refused in words, and nothing changes', async () => {
    const win = await passkeyPhone();
    const { page, key } = win;
    // This phone's authenticator holds guang's passkey only; dong has passkeys of his own elsewhere.
    await forgetPasskeys(GUANG);
    await signInThrough(win, GUANG);
    await addPasskeyHere(page);
    const [guangs] = await key.credentials();
    assert.ok(guangs);
    const dongsPhone = await passkeyPhone();
    await signInThrough(dongsPhone, DONG);
    await addPasskeyHere(dongsPhone.page);
    await dongsPhone.close();
    await signInThrough(win, DONG);
    // A client that offers the authenticator guang's passkey while dong confirms.
    const guangId = idOf(guangs);
    await page.route('**/api/qrcodes/*/scan', async (route) => {
      const res = await route.fetch();
      const body = await res.json();
      if (body.step_up) body.step_up.allowCredentials = [{ type: 'public-key', id: guangId, transports: ['internal'] }];
      await route.fulfill({ response: res, json: body });
    });
    const qr = await qrFrom();
    const refused = page.waitForResponse((r) => r.url().endsWith('/confirm'));
    await page.goto(scanUrlAt(qr));
    await page.getByRole('button', { name: T.confirm, exact: true }).click();
    const answer = await refused;
    assert.deepEqual([answer.status(), (await answer.json()).error], [403, 'step_up_failed']);
    await page.getByRole('alert').filter({ hasText: T.refused }).waitFor();
    await stillWaiting(qr);
    await noSeriousA11yProblems(page, 'another user’s passkey refused');
    await shot(page, 'phone-step-up-refused-light-en');
    await win.close();
  });

  test('a counter that went backwards (a copied passkey) is refused in words, and nothing changes', async () => {
    const win = await passkeyPhone();
    const { page, key } = win;
    const token = await signInThrough(win, DONG);
    await addPasskeyHere(page);
    // One step-up, so that the server has seen the counter move.
    const first = await qrFrom();
    await page.goto(scanUrlAt(first));
    await page.getByRole('button', { name: T.confirm, exact: true }).click();
    await page.getByText(T.done).waitFor();
    const [used] = await key.credentials();
    assert.ok(used && used.signCount >= 1);
    // The same key, its counter back at zero: what a copy of the authenticator would send.
    await key.remove(used.credentialId);
    await key.add({ ...used, signCount: 0 });
    const before = (await passkeysOf(token)).find((p) => p.last_used_at);
    const qr = await qrFrom();
    await page.goto(scanUrlAt(qr));
    const refused = page.waitForResponse((r) => r.url().endsWith('/confirm'));
    await page.getByRole('button', { name: T.confirm, exact: true }).click();
    assert.deepEqual([(await refused).status(), (await (await refused).json()).error], [403, 'step_up_failed']);
    await page.getByRole('alert').filter({ hasText: T.refused }).waitFor();
    await stillWaiting(qr);
    assert.deepEqual(
      (await passkeysOf(token)).find((p) => p.id === before?.id),
      before,
      'the refused use was not recorded',
    );
    await win.close();
  });

  test('the typed code and the location warning ask for a passkey with passkey-when-risky; a nearby scan does not', async () => {
    const port = await freePort();
    const base = `http://localhost:${port}`;
    const risky = await server(
      { CONFIRM_WITH: 'passkey-when-risky', PUBLIC_ORIGIN: base, PASSKEY_RP_ID: 'localhost' },
      port,
    );
    try {
      const win = await passkeyPhone('en-US', base);
      const { page } = win;
      await signInThrough(win, DONG, base, risky.base);
      await addPasskeyHere(page, base);

      // Typed: the PC on the phone's network gives a code; the phone types it.
      const typed = await qrFrom(risky.base);
      const { user_code } = (await (
        await fetch(`${risky.base}/api/qrcodes/${typed.qrcode_id}/user-code`, {
          method: 'POST',
          headers: { 'X-Poll-Token': typed.poll_token },
        })
      ).json()) as { user_code: string };
      await page.goto(`${base}/link`);
      await page.getByLabel('Code', { exact: true }).fill(user_code);
      await page.getByRole('button', { name: 'Continue', exact: true }).click();
      await page.getByText(T.typed).waitFor();
      await page.getByText('code typed').waitFor();
      await noSeriousA11yProblems(page, 'the step-up of a typed code');
      await shot(page, 'phone-step-up-typed-light-en');
      await page.getByRole('button', { name: T.confirm, exact: true }).click();
      await page.getByText(T.done).waitFor();

      // Far: the PC asks from another network than the phone's.
      const far = await qrFrom(risky.base, '127.0.1.9');
      await page.goto(`${base}/confirm?id=${far.qrcode_id}`);
      await page.getByText(T.location).waitFor();
      await page.getByText(/another country or network/).waitFor();
      await noSeriousA11yProblems(page, 'the step-up of a far computer');
      await page.emulateMedia({ colorScheme: 'dark' });
      await shot(page, 'phone-step-up-location-dark-en');
      await page.emulateMedia({ colorScheme: 'light' });
      await page.getByRole('button', { name: T.confirm, exact: true }).click();
      await page.getByText(T.done).waitFor();

      // Near and scanned: no passkey asked, Confirm confirms at once.
      const near = await qrFrom(risky.base);
      await page.goto(`${base}/confirm?id=${near.qrcode_id}`);
      await page.getByRole('button', { name: T.confirm, exact: true }).waitFor();
      assert.equal(await page.locator('.step-up').count(), 0);
      const answered = page.waitForResponse((r) => r.url().endsWith('/confirm'));
      await page.getByRole('button', { name: T.confirm, exact: true }).click();
      assert.equal((await answered).request().postDataJSON()?.passkey, undefined);
      await page.getByText(T.done).waitFor();
      await win.close();
    } finally {
      await risky.stop();
    }
  });

  test('the device flow’s phone side asks for the passkey too, and the device gets its tokens', async () => {
    const win = await passkeyPhone();
    const { page } = win;
    await signInThrough(win, DONG);
    await addPasskeyHere(page);
    const started = await fetch(`${suite.app.base}/oauth/device_authorization`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `client_id=${OAUTH_CLIENT}`,
    });
    const device = (await started.json()) as { device_code: string; verification_uri_complete: string };
    await page.goto(device.verification_uri_complete);
    await page.getByText(T.always).waitFor();
    await page.getByText(OAUTH_CLIENT).waitFor();
    await page.getByRole('button', { name: T.confirm, exact: true }).click();
    await page.getByText(T.done).waitFor();
    const tokens = await fetch(`${suite.app.base}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        device_code: device.device_code,
        client_id: OAUTH_CLIENT,
      }),
    });
    assert.equal(tokens.status, 200);
    assert.ok(((await tokens.json()) as { access_token?: string }).access_token);
    await win.close();
  });
});

// ---------------------------------------------------------------- the PC

describe('the phishing-resistant path for the PC: <qr-login passkey>', () => {
  test('on an allowed site’s page under the RP ID, with a strict CSP, a phone’s passkey over hybrid signs the PC in', async () => {
    const site = await startHostSite(HOST, BASE);
    try {
      // The phone's passkey (made on the phone), reached by the PC over the hybrid transport.
      const phoneWin = await passkeyPhone();
      const token = await signInThrough(phoneWin, DONG);
      await addPasskeyHere(phoneWin.page);
      let [onPhone] = await phoneWin.key.credentials();
      assert.ok(onPhone);
      await phoneWin.close();

      for (const [locale, lang] of [
        ['en-US', 'en'],
        ['zh-CN', 'zh'],
      ] as const) {
        const pc = await open([HOST, BASE], { locale, viewport: DESKTOP });
        const hybrid = await authenticator(pc.page, 'cable');
        await hybrid.add(onPhone);
        await pc.page.addInitScript(() => {
          const seen: unknown[] = [];
          (globalThis as unknown as { seen: unknown[] }).seen = seen;
          document.addEventListener('qr-login:login', (e) => seen.push((e as CustomEvent).detail));
        });
        await pc.page.goto(`${HOST}/strict?passkey`);
        const button = pc.page.getByRole('button', { name: WORDS[lang].usePasskey, exact: true });
        await button.waitFor();
        await pc.page.getByRole('img', { name: lang === 'en' ? 'Login QR code' : '登录二维码' }).waitFor();
        for (const scheme of ['light', 'dark'] as const) {
          await pc.page.emulateMedia({ colorScheme: scheme });
          await noSeriousA11yProblems(pc.page, `<qr-login passkey> (${scheme}, ${lang})`);
          if ((scheme === 'dark') === (lang === 'en')) await shot(pc.page, `widget-passkey-${scheme}-${lang}`);
        }

        // Cancelled on the phone: said in words; the QR stays.
        await hybrid.verified(false);
        await button.click();
        await pc.page.getByRole('alert').filter({ hasText: WORDS[lang].pcCancelled }).waitFor();
        await noSeriousA11yProblems(pc.page, `<qr-login passkey> cancelled (${lang})`);
        await hybrid.verified(true);

        await button.click();
        await status(pc.page, lang === 'en' ? 'Signed in as 东东.' : '已登录：东东。').waitFor();
        const [detail] = await pc.page.evaluate(
          () => (globalThis as unknown as { seen: Record<string, unknown>[] }).seen,
        );
        assert.equal(detail?.via, 'passkey');
        assert.deepEqual(detail?.user, { id: 'u_dong', username: 'dong', display_name: '东东' });
        assert.equal(typeof detail?.token, 'string');
        assert.equal(typeof detail?.refresh_token, 'string');
        assert.equal(detail?.expires_in, 900);
        // The PC has a session of its own among dong's linked devices.
        const sid = JSON.parse(Buffer.from(String(detail?.token).split('.')[1]!, 'base64url').toString()).sid;
        const sessions = (await (
          await fetch(`${suite.app.base}/api/sessions`, { headers: { Authorization: `Bearer ${token}` } })
        ).json()) as { sid: string; via: string; current: boolean }[];
        assert.deepEqual(
          sessions.filter((s) => s.sid === sid).map((s) => [s.via, s.current]),
          [['passkey', false]],
        );
        // The same phone next time: its counter has moved on (a copy that stays behind is refused).
        [onPhone] = await hybrid.credentials();
        assert.ok(onPhone);
        await pc.close();
      }
      // The same page by its IP address: allowed to embed the QR, but no host for passkeys.
      const byIp = await open([HOST_BY_IP, BASE], { locale: 'en-US', viewport: DESKTOP });
      await byIp.page.goto(`${HOST_BY_IP}/strict?passkey`);
      await byIp.page.getByRole('button', { name: T.usePasskey, exact: true }).click();
      await byIp.page
        .getByRole('alert')
        .filter({ hasText: /not under the server's passkey domain/ })
        .waitFor();
      await noSeriousA11yProblems(byIp.page, '<qr-login passkey> on a page outside the RP ID');
      await byIp.close();
    } finally {
      await site.stop();
    }
  });
});

describe('a site’s own users (IDENTITY=jwt)', () => {
  test('back from the site’s sign-in the phone adds a passkey; the PC page signs in with it over hybrid', async () => {
    const port = await freePort();
    const base = `http://localhost:${port}`;
    const SECRET = 'a shared secret of the site, at least 32 bytes long';
    const site = { IDENTITY_ISSUER: 'https://shop.example', IDENTITY_AUDIENCE: 'qr-login' };
    const worker = await server(
      {
        IDENTITY: 'jwt',
        IDENTITY_JWT_SECRET: SECRET,
        ...site,
        IDENTITY_LOGIN_URL: 'https://shop.example/login',
        PASSKEY_RP_ID: 'localhost',
        PUBLIC_ORIGIN: base,
      },
      port,
    );
    try {
      // The site signed Ada in just now, and sends the phone back with its token.
      const token = await new SignJWT({ sub: 'ada-7', preferred_username: 'ada', name: 'Ada Lovelace' })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer(site.IDENTITY_ISSUER)
        .setAudience(site.IDENTITY_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(new TextEncoder().encode(SECRET));
      const phoneWin = await passkeyPhone('en-US', base);
      await phoneWin.page.goto(`${base}/link#token=${token}`);
      await phoneWin.page.getByText('Signed in as Ada Lovelace').waitFor();
      // Back from the site's sign-in, the moment its token may add a passkey: the phone offers one.
      await phoneWin.page.getByRole('button', { name: T.addPasskey, exact: true }).click();
      await phoneWin.page.getByText(T.added).waitFor();
      const [onPhone] = await phoneWin.key.credentials();
      assert.ok(onPhone);
      assert.equal(Buffer.from(onPhone.userHandle ?? '', 'base64').toString(), 'ada-7');
      await phoneWin.close();

      // The PC page offers the passkey from a phone nearby, and signs Ada in with it.
      const pc = await open([base], { locale: 'en-US', viewport: DESKTOP });
      const hybrid = await authenticator(pc.page, 'cable');
      await hybrid.add(onPhone);
      await pc.page.goto(`${base}/`);
      await pc.page.getByRole('img', { name: 'Login QR code' }).waitFor();
      await pc.page.getByRole('button', { name: T.usePasskey, exact: true }).click();
      await status(pc.page, 'Signed in as Ada Lovelace.').waitFor();
      const stored = (await pc.page.evaluate(() => localStorage.getItem('qrlogin.pc.token'))) as string;
      assert.equal(JSON.parse(Buffer.from(stored.split('.')[1]!, 'base64url').toString()).sub, 'ada-7');
      await noSeriousA11yProblems(pc.page, 'the PC signed in with a site user’s passkey');
      await pc.close();
    } finally {
      await worker.stop();
    }
  });
});
