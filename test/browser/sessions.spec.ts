/**
 * Sessions in the browser (issue 16): the PC page `/` and the phone pages stay signed in past the
 * access token's expiry (renewed in the background with the rotating refresh token, one renewal at
 * a time across tabs), and a session ended elsewhere signs the page out and says so in words:
 * at once, because each page watches its session end (`GET /api/sessions/watch`, issue 29).
 * The server's access tokens live 65 s here, so a renewal (a minute before expiry) comes every 5 s.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  DESKTOP,
  EN,
  noSeriousA11yProblems,
  open,
  pcStatus,
  phone,
  phoneUser,
  signInOnPhone,
  status,
  suite,
  useBrowser,
  watchedStreams,
} from './support.ts';

useBrowser({ JWT_TTL_SECONDS: '65', OAUTH_CLIENTS: 'acme-cli=Acme CLI' });

const PC_KEY = 'qrlogin.pc.token';
const PHONE_KEY = 'qrlogin.phone.token';

const stored = (page: Page, key: string) => page.evaluate((k) => localStorage.getItem(k), key);

/** Waits until the page has stored another access token than `old` under `key`, and answers it. */
async function renewed(page: Page, key: string, old: string | null): Promise<string> {
  const handle = await page.waitForFunction(
    ([k, before]) => {
      const now = localStorage.getItem(k);
      return now && now !== before ? now : null;
    },
    [key, old] as const,
    { timeout: 20_000 },
  );
  return (await handle.jsonValue()) as string;
}

const me = (token: string) =>
  fetch(`${suite.app.base}/api/me`, { headers: { Authorization: `Bearer ${token}` } }).then((r) => r.status);

/** `GET /api/me` with `token` from `page`, through the pages' own client (a bound token goes with the page's proof). */
const meFromPage = (page: Page, token: string) =>
  page.evaluate(async (t) => {
    const kit = '/kit/api.js';
    const { call } = (await import(kit)) as {
      call: (path: string, options: { token: string }) => Promise<{ status: number }>;
    };
    return (await call('/api/me', { token: t })).status;
  }, token);

/** Signs the PC page in through a QR login approved by dong (through the API). */
async function signInPc(page: Page) {
  const created = page.waitForResponse((r) => r.url().endsWith('/api/qrcodes') && r.status() === 201);
  await page.goto(`${suite.app.base}/`);
  const qr = await (await created).json();
  const dong = await phoneUser(suite.app.base, 'dong', '111');
  assert.equal((await dong.scan(qr.qrcode_id)).status, 200);
  assert.equal((await dong.confirm(qr.qrcode_id)).status, 200);
  // Signed in once the page holds its token ("东东 scanned the code" comes before it).
  await page.waitForFunction((k) => localStorage.getItem(k) !== null, PC_KEY);
  await status(page, /Signed in/)
    .first()
    .waitFor();
  return { qr, dong };
}

describe('the PC page keeps its user signed in', () => {
  it('past the access token’s expiry, renewing one tab at a time, without a refused refresh', async () => {
    const win = await open([suite.app.base], { locale: 'en-US', viewport: DESKTOP });
    const renewals: number[] = [];
    const watch = (page: Page) =>
      page.on('response', (r) => {
        if (new URL(r.url()).pathname === '/oauth/token') renewals.push(r.status());
      });
    watch(win.page);
    await signInPc(win.page);
    const first = await stored(win.page, PC_KEY);
    assert.ok(first);
    // A second tab of the same browser, signed in by the same storage.
    const second = await win.ctx.newPage();
    watch(second);
    await second.goto(`${suite.app.base}/`);
    await status(second, /Signed in/)
      .first()
      .waitFor();

    // Three renewals go by; each is one request of one tab, and none is refused.
    let token = first;
    for (let i = 0; i < 3; i++) token = await renewed(win.page, PC_KEY, token);
    await renewed(second, PC_KEY, token === first ? null : first);
    assert.ok(renewals.length >= 3);
    assert.deepEqual(
      renewals.filter((s) => s !== 200),
      [],
      `every renewal succeeded: ${renewals}`,
    );
    const latest = (await stored(win.page, PC_KEY)) as string;
    // The PC page's tokens are bound to its DPoP key: from the page (with its proof) the latest one
    // answers; copied out and sent as Bearer, it does not.
    assert.equal(await meFromPage(win.page, latest), 200);
    assert.equal(await me(latest), 401);
    // The first token's session lives on in the renewed one; both tabs still say who is signed in.
    await status(win.page, /Signed in/)
      .first()
      .waitFor();
    await status(second, /Signed in/)
      .first()
      .waitFor();
    await win.close();
  });

  it('until the phone signs it out: then it says so, in words, and offers a new code', async () => {
    const win = await open([suite.app.base], { locale: 'en-US', viewport: DESKTOP });
    const { dong } = await signInPc(win.page);
    const pcToken = (await stored(win.page, PC_KEY)) as string;
    const sid = JSON.parse(Buffer.from(pcToken.split('.')[1]!, 'base64url').toString()).sid;
    const out = await fetch(`${suite.app.base}/api/sessions/${sid}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${dong.token}` },
    });
    assert.equal(out.status, 204);
    // The next renewal is refused (invalid_grant): the page signs out and says why.
    await status(win.page, 'You were signed out.').waitFor({ timeout: 20_000 });
    await win.page.getByRole('img', { name: 'Login QR code' }).waitFor();
    assert.equal(await stored(win.page, PC_KEY), null);
    await noSeriousA11yProblems(win.page, 'PC signed out from the phone');
    await win.close();
  });
});

describe('the PC page hears at once that its session ended', () => {
  it('the phone signs it out: within a second it says so in words, its watch outliving a renewal', async () => {
    const win = await open([suite.app.base], { locale: 'en-US', viewport: DESKTOP });
    const watch = watchedStreams(win.page);
    const renewals: number[] = [];
    win.page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/oauth/token') renewals.push(Date.now());
    });
    const { dong } = await signInPc(win.page);
    await watch.open();
    // A renewal goes by: the watch is the session's, not the token's, so nothing reopens.
    const first = (await stored(win.page, PC_KEY)) as string;
    await renewed(win.page, PC_KEY, first);
    assert.equal(watch.opens(), 1);

    const sid = JSON.parse(Buffer.from(first.split('.')[1]!, 'base64url').toString()).sid;
    const out = await fetch(`${suite.app.base}/api/sessions/${sid}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${dong.token}` },
    });
    assert.equal(out.status, 204);
    const since = Date.now();
    // Sooner than the next renewal (every 5 s here) could tell it.
    await status(win.page, `You were signed out. Waiting for a scan`).waitFor({ timeout: 1_000 });
    const noticed = Date.now() - since;
    assert.ok(noticed < 1_000, `noticed in ${noticed} ms`);
    // Nothing else told it: no renewal was refused meanwhile, and its one watch was never reopened.
    assert.deepEqual(
      renewals.filter((at) => at >= since),
      [],
    );
    assert.equal(watch.opens(), 1);
    await win.page.getByRole('img', { name: 'Login QR code' }).waitFor();
    assert.equal(await stored(win.page, PC_KEY), null);
    await win.close();
  });
});

describe('the phone pages keep their user signed in', () => {
  /** A phone that signed in with the form (so it holds a refresh token), on /link. */
  async function signedInWithForm() {
    const win = await phone('en-US');
    await win.page.goto(`${suite.app.base}/link`);
    await signInOnPhone(win.page, EN, 'guang', '222');
    await win.page.getByLabel('Code').waitFor();
    return win;
  }

  it('a phone away past its access token’s expiry comes back signed in', async () => {
    const win = await signedInWithForm();
    const before = await stored(win.page, PHONE_KEY);
    // The refresh token is not in localStorage (IndexedDB keeps it, and the latest renewal).
    assert.deepEqual(await win.page.evaluate(() => Object.keys(localStorage).filter((k) => /refresh/.test(k))), []);
    // As if the phone had been in a pocket for an hour: the stored token has expired.
    await win.page.evaluate((k) => localStorage.setItem(`${k}.expires`, String(Date.now() - 3_600_000)), PHONE_KEY);
    const refreshed = win.page.waitForResponse((r) => new URL(r.url()).pathname === '/oauth/token');
    await win.page.reload();
    assert.equal((await refreshed).status(), 200);
    await win.page.getByLabel('Code').waitFor();
    await win.page.getByText('Signed in as 光光').waitFor();
    assert.notEqual(await stored(win.page, PHONE_KEY), before);
    await win.close();
  });

  it('a phone signed out from another device says so when it asks to sign in again', async () => {
    for (const how of ['its token refused', 'its refresh refused'] as const) {
      const win = await signedInWithForm();
      const token = (await stored(win.page, PHONE_KEY)) as string;
      const logout = await fetch(`${suite.app.base}/api/logout`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}` },
      });
      assert.equal(logout.status, 204);
      if (how === 'its refresh refused') {
        await win.page.evaluate((k) => localStorage.setItem(`${k}.expires`, '1'), PHONE_KEY);
      }
      await win.page.reload();
      await win.page.getByRole('status').filter({ hasText: 'This phone was signed out' }).waitFor();
      await win.page.getByLabel(EN.user).waitFor();
      await noSeriousA11yProblems(win.page, `phone signed out (${how})`);
      // Signing in again clears the notice.
      await signInOnPhone(win.page, EN, 'guang', '222');
      await win.page.getByLabel('Code').waitFor();
      await win.close();
    }
  });

  it('a phone signed out from another device hears it at once, and says why', async () => {
    const win = await phone('en-US');
    const watch = watchedStreams(win.page);
    await win.page.goto(`${suite.app.base}/link`);
    await signInOnPhone(win.page, EN, 'guang', '222');
    await win.page.getByLabel('Code').waitFor();
    await watch.open();
    const token = (await stored(win.page, PHONE_KEY)) as string;
    const sid = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sid;
    // guang's other phone signs this one out from its linked devices.
    const other = await phoneUser(suite.app.base, 'guang', '222');
    const out = await fetch(`${suite.app.base}/api/sessions/${sid}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${other.token}` },
    });
    assert.equal(out.status, 204);
    await win.page
      .getByRole('status')
      .filter({ hasText: 'This phone was signed out from another device.' })
      .waitFor({ timeout: 1_000 });
    await noSeriousA11yProblems(win.page, 'phone signed out, heard at once');
    await win.page.getByRole('button', { name: 'Sign in again' }).click();
    // The sign-in form says it again, above the fields.
    await win.page.getByLabel(EN.user).waitFor();
    await win.page.getByRole('status').filter({ hasText: 'This phone was signed out from another device.' }).waitFor();
    await win.close();
    // The other phone (a script, "Unknown browser") signs itself out: guang's linked devices of the
    // next test list only what that test signs in.
    const gone = await fetch(`${suite.app.base}/api/logout`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${other.token}` },
    });
    assert.equal(gone.status, 204);
  });

  it('a CLI signing in by the device flow is named by its registered name, not as an unknown browser', async () => {
    const win = await signedInWithForm();
    const form = (params: Record<string, string>) => ({
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'User-Agent': 'acme-cli/2.1 (undici)' },
      body: new URLSearchParams(params).toString(),
    });
    const started = await fetch(`${suite.app.base}/oauth/device_authorization`, form({ client_id: 'acme-cli' }));
    assert.equal(started.status, 200);
    const auth = (await started.json()) as { device_code: string; verification_uri_complete: string };
    // The phone opens the QR the CLI shows: the confirm view names the CLI.
    await win.page.goto(auth.verification_uri_complete);
    await win.page.getByRole('definition').filter({ hasText: 'Acme CLI' }).waitFor();
    await win.page.getByRole('button', { name: EN.confirm, exact: true }).click();
    await win.page.getByRole('heading', { name: 'Done. The computer is now signed in.' }).waitFor();
    const token = await fetch(
      `${suite.app.base}/oauth/token`,
      form({
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        device_code: auth.device_code,
        client_id: 'acme-cli',
      }),
    );
    assert.equal(token.status, 200);
    // The linked devices name it too.
    await win.page.goto(`${suite.app.base}/link`);
    await win.page.getByText('Linked devices', { exact: true }).click();
    const rows = win.page.locator('details').getByRole('listitem');
    await rows.filter({ hasText: 'Acme CLI' }).first().waitFor();
    // Its linked device is the CLI by name, not "Unknown browser" (other tests' sessions of this user,
    // made with fetch, may be: only the CLI's row counts).
    assert.doesNotMatch((await rows.filter({ hasText: 'Acme CLI' }).first().textContent()) ?? '', /Unknown browser/);
    // Its sign-in in the recent activity names the client by its name too, and not the HTTP library's User-Agent.
    const activity = win.page.getByRole('region', { name: 'Recent activity' });
    await activity.getByText('Recent activity', { exact: true }).click();
    const signIn = activity.getByRole('listitem').filter({ hasText: 'The app Acme CLI signed in' }).first();
    await signIn.waitFor();
    assert.doesNotMatch((await signIn.textContent()) ?? '', /Unknown browser/);
    await win.page.getByRole('button', { name: 'Sign out: Acme CLI', exact: true }).waitFor();
    await win.close();
  });

  it('the typed code still works after a renewal (the PC collects its token)', async () => {
    const win = await signedInWithForm();
    await win.page.evaluate((k) => localStorage.setItem(`${k}.expires`, '1'), PHONE_KEY);
    const res = await fetch(`${suite.app.base}/api/qrcodes`, { method: 'POST' });
    const qr = await res.json();
    const code = await fetch(`${suite.app.base}/api/qrcodes/${qr.qrcode_id}/user-code`, {
      method: 'POST',
      headers: { 'X-Poll-Token': qr.poll_token },
    }).then((r) => r.json());
    await win.page.getByLabel('Code').fill(code.user_code);
    await win.page.getByRole('button', { name: 'Continue' }).click();
    await win.page.getByRole('button', { name: EN.confirm }).click();
    const answer = await pcStatus(qr, 1);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.status, 'scan-confirm');
    await win.close();
  });
});
