/**
 * The OpenID Provider's pages in Chromium, as a person uses them: the phone asks "Sign in to
 * Grafana on a computer?" (in both languages) for a login that a site started through
 * `/oauth/authorize`, with everything the confirm view shows for any login; the linked devices
 * name the sites a browser signed in to ("Signed in to Grafana, Wiki"); and the sign-out
 * question of `/oauth/end_session` (no script, light and dark) signs the browser out with its
 * button and goes back to the client's registered address. The clients are public ones of
 * `OIDC_CLIENTS`, on the server's own origin, so that nothing leaves it.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { freePort } from '../support/wrangler-dev.ts';
import {
  DESKTOP,
  EN,
  equalButtons,
  fitsWidth,
  noSeriousA11yProblems,
  open,
  PC_UA,
  shot,
  signedInPhone,
  suite,
  useBrowser,
  ZH,
} from './support.ts';

const port = await freePort();
const BASE = `http://127.0.0.1:${port}`;
const client = (id: string, name: string) => ({
  client_id: id,
  client_name: name,
  redirect_uris: [`${BASE}/${id}/callback`],
  post_logout_redirect_uris: [`${BASE}/`],
  token_endpoint_auth_method: 'none',
});
useBrowser({ OIDC_CLIENTS: JSON.stringify([client('grafana', 'Grafana'), client('wiki', 'Wiki')]) }, port);

const DONG = { username: 'dong', password: '111' };

/** PKCE: a verifier and its S256 challenge. */
function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${BASE}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'User-Agent': PC_UA, ...headers },
    body: JSON.stringify(body),
  });

const params = (id: string, challenge: string) => ({
  response_type: 'code',
  client_id: id,
  redirect_uri: `${BASE}/${id}/callback`,
  scope: 'openid profile',
  state: 'st',
  code_challenge: challenge,
  code_challenge_method: 'S256',
});

/** The code at the end of `redirect_to`, exchanged as the public client `id` does: its tokens. */
async function exchange(id: string, redirectTo: string, verifier: string) {
  const code = new URL(redirectTo).searchParams.get('code');
  assert.ok(code, `a code in ${redirectTo}`);
  const res = await fetch(`${BASE}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: `${BASE}/${id}/callback`,
      code_verifier: verifier,
      client_id: id,
    }),
  });
  assert.equal(res.status, 200);
  return (await res.json()) as { access_token: string; id_token: string };
}

/**
 * A PC browser asks to sign in to Grafana (the authorize page's API, as its script calls it):
 * its QR login, and a way to collect the sign-in once the phone confirmed (the redirect, the
 * browser's single sign-on cookie, Grafana's tokens).
 */
async function grafanaAsks() {
  const { verifier, challenge } = pkce();
  const res = await post('/api/authorize', params('grafana', challenge));
  assert.equal(res.status, 200);
  const start = (await res.json()) as { client_name: string; login: { qrcode_id: string; poll_token: string } };
  assert.equal(start.client_name, 'Grafana');
  const collect = async () => {
    const polled = await fetch(`${BASE}/api/qrcodes/${start.login.qrcode_id}/status`, {
      headers: { 'X-Poll-Token': start.login.poll_token },
    });
    assert.equal(polled.status, 200);
    const { redirect_to } = (await polled.json()) as { redirect_to: string };
    const cookie = (polled.headers.get('Set-Cookie') ?? '').split(';')[0]!;
    assert.match(cookie, /^sso=/);
    return { cookie, tokens: await exchange('grafana', redirect_to, verifier) };
  };
  return { id: start.login.qrcode_id, collect };
}

/** The same browser signs in to Wiki in one click ("Continue as"): Wiki's tokens. */
async function wikiContinues(cookie: string) {
  const { verifier, challenge } = pkce();
  const start = (await (await post('/api/authorize', params('wiki', challenge), { Cookie: cookie })).json()) as {
    authorization: string;
  };
  const res = await post('/api/authorize/continue', { authorization: start.authorization }, { Cookie: cookie });
  assert.equal(res.status, 200);
  return exchange('wiki', ((await res.json()) as { redirect_to: string }).redirect_to, verifier);
}

describe('the phone names the site that asks', () => {
  it('“Sign in to Grafana on a computer?” with everything the confirm view shows; the linked devices say “Signed in to Grafana, Wiki”', async () => {
    const login = await grafanaAsks();
    const mobile = await signedInPhone('en-US', DONG);
    await mobile.page.goto(`${BASE}/confirm?id=${login.id}`);
    const heading = mobile.page.getByRole('heading', { name: 'Sign in to Grafana on a computer?' });
    await heading.waitFor();
    await mobile.page.getByText('A computer is asking to sign in with your QR Login account:').waitFor();
    // What it shows for any login: the computer, the app, where, how long ago, how, the time left.
    for (const term of ['Computer', 'App', 'IP address', 'Place', 'Code made', 'How']) {
      await mobile.page.getByRole('term').filter({ hasText: term }).first().waitFor();
    }
    await mobile.page.getByRole('definition').filter({ hasText: 'Chrome on Windows' }).waitFor();
    await mobile.page
      .getByRole('definition')
      .filter({ hasText: /^Grafana$/ })
      .waitFor();
    await mobile.page.getByText(/Expires in \d:\d\d/).waitFor();
    const confirm = mobile.page.getByRole('button', { name: EN.confirm });
    const cancel = mobile.page.getByRole('button', { name: EN.cancel });
    await equalButtons([confirm, cancel]);
    await fitsWidth(mobile.page);
    await noSeriousA11yProblems(mobile.page, 'confirm view of an OpenID client’s login');
    await shot(mobile.page, 'phone-oidc-confirm-light-en');

    await confirm.click();
    await mobile.page.getByText('Done. The computer is now signed in.').waitFor();
    const { cookie } = await login.collect();
    await wikiContinues(cookie);

    await mobile.page.getByText('Linked devices').click();
    const sites = mobile.page.getByText('Signed in to Grafana, Wiki');
    await sites.waitFor();
    await noSeriousA11yProblems(mobile.page, 'linked devices with a browser’s sites');
    await mobile.page.emulateMedia({ colorScheme: 'dark' });
    await noSeriousA11yProblems(mobile.page, 'linked devices with a browser’s sites, dark');
    await mobile.close();
  });

  it('in Chinese: “在电脑上登录 Grafana？”', async () => {
    const login = await grafanaAsks();
    const mobile = await signedInPhone('zh-CN', DONG);
    await mobile.page.goto(`${BASE}/confirm?id=${login.id}`);
    await mobile.page.getByRole('heading', { name: '在电脑上登录 Grafana？' }).waitFor();
    await mobile.page.getByText('有一台电脑请求用你的 QR Login 账号登录：').waitFor();
    await mobile.page.getByRole('button', { name: ZH.confirm }).waitFor();
    await mobile.page.getByRole('button', { name: ZH.cancel }).click();
    await mobile.page.getByText('已取消登录').waitFor();
    await mobile.close();
  });
});

describe('the sign-out question of /oauth/end_session', () => {
  it('asks in words, without script, light and dark; its button signs the browser out and goes back to the client', async () => {
    const login = await grafanaAsks();
    const mobile = await signedInPhone('en-US', DONG);
    await mobile.page.goto(`${BASE}/confirm?id=${login.id}`);
    await mobile.page.getByRole('button', { name: EN.confirm }).click();
    await mobile.page.getByText('Done. The computer is now signed in.').waitFor();
    const { cookie, tokens } = await login.collect();
    const userinfo = () =>
      fetch(`${BASE}/oauth/userinfo`, { headers: { Authorization: `Bearer ${tokens.access_token}` } }).then(
        (r) => r.status,
      );
    assert.equal(await userinfo(), 200);

    const desk = await open([BASE], { locale: 'en-US', viewport: DESKTOP });
    const [name, value] = cookie.split('=') as [string, string];
    await desk.ctx.addCookies([{ name, value, url: BASE, httpOnly: true, sameSite: 'Lax' }]);
    const query = new URLSearchParams({ client_id: 'grafana', post_logout_redirect_uri: `${BASE}/`, state: 'bye-1' });
    await desk.page.goto(`${BASE}/oauth/end_session?${query}`);
    await desk.page.getByRole('heading', { name: 'Sign out of QR Login?' }).waitFor();
    await desk.page.getByText('Grafana asks to sign you out.').waitFor();
    assert.equal(await desk.page.locator('script').count(), 0);
    await noSeriousA11yProblems(desk.page, 'sign-out question');
    await shot(desk.page, 'pc-end-session-question-light-en');
    await desk.page.emulateMedia({ colorScheme: 'dark' });
    await noSeriousA11yProblems(desk.page, 'sign-out question, dark');
    // Nothing changed by asking.
    assert.equal(await userinfo(), 200);

    await desk.page.getByRole('button', { name: 'Sign out' }).click();
    await desk.page.waitForURL(`${BASE}/?state=bye-1`);
    assert.equal(await userinfo(), 401);
    assert.deepEqual(
      (await desk.ctx.cookies(BASE)).filter((c) => c.name === 'sso'),
      [],
      'the browser forgot its cookie',
    );
    await desk.close();
    await mobile.close();
  });

  it('in Chinese by ui_locales, and the page “You are signed out” without an address to go back to', async () => {
    const login = await grafanaAsks();
    const mobile = await signedInPhone('en-US', DONG);
    await mobile.page.goto(`${BASE}/confirm?id=${login.id}`);
    await mobile.page.getByRole('button', { name: EN.confirm }).click();
    await mobile.page.getByText('Done. The computer is now signed in.').waitFor();
    const { cookie } = await login.collect();

    const desk = await open([BASE], { locale: 'en-US', viewport: DESKTOP });
    const [name, value] = cookie.split('=') as [string, string];
    await desk.ctx.addCookies([{ name, value, url: BASE, httpOnly: true, sameSite: 'Lax' }]);
    await desk.page.goto(`${BASE}/oauth/end_session?ui_locales=zh-CN`);
    await desk.page.getByRole('heading', { name: '要退出 QR Login 吗？' }).waitFor();
    await desk.page.getByRole('button', { name: '退出登录' }).click();
    await desk.page.getByRole('heading', { name: '您已退出登录' }).waitFor();
    await desk.page.getByRole('heading', { name: 'You are signed out' }).waitFor();
    await noSeriousA11yProblems(desk.page, 'signed out');
    assert.equal(suite.app.base, BASE);
    await desk.close();
    await mobile.close();
  });
});
