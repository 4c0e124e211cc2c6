/**
 * RP-Initiated Logout 1.0 at `GET|POST /oauth/end_session`: openid-client's end-session URL
 * with a hint ends the browser's session at once (every grant under it, the cookie, and the
 * client hears it by back-channel) and goes back to the registered address with `state`; an
 * expired hint will do. Without a valid hint the user is asked first, on a page whose answer is
 * tied to the browser's cookie. What cannot be followed (another client's address, an
 * unregistered one, an unknown client, a mismatch) is a page in words that changes nothing.
 */
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { describe, expect, it } from 'vitest';
import { api, bearer } from '../helpers';
import { devRsaKey, newKey, signWith } from '../tokens/support';
import {
  browserSignedIn,
  checkLogoutToken,
  deliveredTokens,
  logoutsOf,
  RECEIVERS,
  request,
  throughQueue,
} from './logout-support';
import { authorizeParams, GRAFANA, pageStart, pkce, SPA, WIKI } from './oidc-support';
import { ORIGIN, workerFetch } from './support';

const GRAFANA_BYE = 'https://grafana.example/logged-out';
const WIKI_BYE = 'https://wiki.example/signed-out';
const PATH = '/oauth/end_session';

/** A GET of `/oauth/end_session` as the browser sends it (its cookie, if any). */
function endSession(params: Record<string, string>, headers: Record<string, string> = {}) {
  return request(`${PATH}?${new URLSearchParams(params)}`, {
    headers: { 'Accept-Language': 'en', ...headers },
    redirect: 'manual',
  });
}

/** A form POST to `/oauth/end_session` (a client's form, or the question's button). */
function postEndSession(params: Record<string, string>, headers: Record<string, string> = {}) {
  return request(PATH, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Accept-Language': 'en', ...headers },
    body: new URLSearchParams(params),
    redirect: 'manual',
  });
}

/** The phone's linked devices: the sids listed. */
async function listed(phone: string): Promise<string[]> {
  const res = await api('/api/sessions', { headers: bearer(phone) });
  return ((await res.json()) as { sid: string }[]).map((s) => s.sid);
}

/** Whether the browser's sign-in still lives: listed on the phone, Grafana's token accepted, "Continue as" offered. */
async function stillSignedIn(browser: Awaited<ReturnType<typeof browserSignedIn>>): Promise<boolean> {
  const listedNow = (await listed(browser.phone)).includes(browser.sid);
  const userinfo = await api('/oauth/userinfo', { headers: bearer(browser.tokens[GRAFANA.id]!.access_token) });
  const { challenge } = await pkce();
  const start = (await (await pageStart(authorizeParams(SPA, challenge), browser.cookie)).json()) as {
    continue_as: unknown;
  };
  const all = [listedNow, userinfo.status === 200, start.continue_as !== null];
  expect(new Set(all).size, `listed, userinfo, continue as: ${all}`).toBe(1);
  return listedNow;
}

/** The hidden `confirm` of the question's page. */
function confirmOf(html: string): string {
  const match = /<input type="hidden" name="confirm" value="([^"]+)">/.exec(html);
  expect(match, 'the question has its confirmation').not.toBeNull();
  return match![1]!;
}

/** What a page says, without its tags. */
const wordsOf = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

describe('with an id_token_hint', () => {
  it('openid-client’s end-session URL ends the browser’s session at once and goes back with state; Grafana is told', async () => {
    const config = await client.discovery(new URL(ORIGIN), GRAFANA.id, GRAFANA.secret, undefined, {
      [client.customFetch]: workerFetch,
    });
    expect(config.serverMetadata().end_session_endpoint).toBe(`${ORIGIN}${PATH}`);
    const browser = await browserSignedIn(GRAFANA, [WIKI]);
    const state = client.randomState();
    const url = client.buildEndSessionUrl(config, {
      id_token_hint: browser.tokens[GRAFANA.id]!.id_token,
      post_logout_redirect_uri: GRAFANA_BYE,
      state,
    });
    expect(url.origin + url.pathname).toBe(`${ORIGIN}${PATH}`);

    const { res, queued } = await throughQueue(
      request(url.pathname + url.search, { headers: { Cookie: browser.cookie }, redirect: 'manual' }),
    );
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('Location')!);
    expect(back.origin + back.pathname).toBe(GRAFANA_BYE);
    expect(Object.fromEntries(back.searchParams)).toEqual({ state });
    // The cookie opens nothing any more, and the browser is told to forget it.
    expect(res.headers.get('Set-Cookie')).toMatch(/^__Host-sso=; Path=\/; Max-Age=0; HttpOnly; SameSite=Lax; Secure$/);
    expect(await stillSignedIn(browser)).toBe(false);
    // Every grant under it ended: Wiki's tokens too.
    expect((await api('/oauth/userinfo', { headers: bearer(browser.tokens[WIKI.id]!.access_token) })).status).toBe(401);
    // The phone itself stays signed in.
    expect((await api('/api/me', { headers: bearer(browser.phone) })).status).toBe(200);

    const tokens = await deliveredTokens(queued);
    expect([...tokens.keys()].sort()).toEqual([RECEIVERS.grafana, RECEIVERS.wiki]);
    await checkLogoutToken(tokens.get(RECEIVERS.grafana)![0]!, {
      aud: GRAFANA.id,
      sid: browser.sid,
      sub: 'u_dong',
      alg: 'RS256',
    });
  });

  it('an expired id_token of ours is a hint still; the same hint again goes back all the same', async () => {
    const browser = await browserSignedIn();
    const claims = decodeJwt(browser.tokens[GRAFANA.id]!.id_token);
    const key = devRsaKey();
    const expired = await signWith(
      key,
      { alg: 'RS256', typ: 'JWT', kid: key.kid },
      { ...claims, iat: claims.iat! - 7200, exp: claims.iat! - 3600 },
    );
    const params = { id_token_hint: expired, post_logout_redirect_uri: GRAFANA_BYE, client_id: GRAFANA.id };
    const res = await api(`${PATH}?${new URLSearchParams(params)}`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('Location')).toBe(GRAFANA_BYE);
    expect(await stillSignedIn(browser)).toBe(false);
    const again = await api(`${PATH}?${new URLSearchParams(params)}`, { redirect: 'manual' });
    expect(again.status).toBe(302);
  });

  it('a client’s form POST from its own site passes the cross-site guard', async () => {
    const browser = await browserSignedIn();
    const res = await api(PATH, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Origin: 'https://grafana.example',
        'Sec-Fetch-Site': 'cross-site',
      },
      body: new URLSearchParams({
        id_token_hint: browser.tokens[GRAFANA.id]!.id_token,
        post_logout_redirect_uri: GRAFANA_BYE,
        state: 's-1',
      }),
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    expect(res.headers.get('Location')).toBe(`${GRAFANA_BYE}?state=s-1`);
    expect(await stillSignedIn(browser)).toBe(false);
  });

  it('without a post_logout_redirect_uri: the page "You are signed out", in the asked language', async () => {
    const browser = await browserSignedIn();
    const res = await api(`${PATH}?${new URLSearchParams({ id_token_hint: browser.tokens[GRAFANA.id]!.id_token })}`, {
      headers: { 'Accept-Language': 'zh-CN,zh;q=0.9', Cookie: browser.cookie },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toMatch(/^text\/html/);
    expect(res.headers.get('Content-Language')).toBe('zh-CN');
    const html = await res.text();
    expect(html).toMatch(/<html lang="zh-CN">/);
    expect(wordsOf(html)).toContain('您已退出登录');
    expect(wordsOf(html)).toContain('You are signed out');
    expect(await stillSignedIn(browser)).toBe(false);
  });
});

describe('without a valid hint the user is asked first', () => {
  it('a page asks "Sign out of QR Login?"; its button’s POST (with the cookie) signs out and goes back with state', async () => {
    const browser = await browserSignedIn();
    const asked = await throughQueue(
      endSession(
        { client_id: GRAFANA.id, post_logout_redirect_uri: GRAFANA_BYE, state: 'st-9' },
        { Cookie: browser.cookie },
      ),
    );
    expect(asked.res.status).toBe(200);
    const html = await asked.res.text();
    expect(wordsOf(html)).toContain('Sign out of QR Login?');
    expect(wordsOf(html)).toContain('Grafana asks to sign you out.');
    expect(html).toContain(`<form method="post" action="${PATH}">`);
    expect(html).toMatch(/<button type="submit">Sign out<\/button>/);
    // No script, and the form may end at the client's registered address only.
    expect(html).not.toMatch(/<script/i);
    const csp = asked.res.headers.get('Content-Security-Policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("form-action 'self' https://grafana.example;");
    // Asking changes nothing.
    expect(logoutsOf(asked.queued)).toEqual([]);
    expect(await stillSignedIn(browser)).toBe(true);

    const { res, queued } = await throughQueue(
      postEndSession({ confirm: confirmOf(html) }, { Cookie: browser.cookie, Origin: 'null' }),
    );
    expect(res.status).toBe(302);
    expect(res.headers.get('Location')).toBe(`${GRAFANA_BYE}?state=st-9`);
    expect(res.headers.get('Set-Cookie')).toMatch(/^__Host-sso=; /);
    expect(await stillSignedIn(browser)).toBe(false);
    await checkLogoutToken((await deliveredTokens(queued)).get(RECEIVERS.grafana)![0]!, {
      aud: GRAFANA.id,
      sid: browser.sid,
      sub: 'u_dong',
      alg: 'RS256',
    });
  });

  it('no parameters at all: the question, and its answer ends the session the cookie names with the page "You are signed out"', async () => {
    const browser = await browserSignedIn();
    const asked = await api(PATH, { headers: { Cookie: browser.cookie, 'Accept-Language': 'en' } });
    expect(asked.status).toBe(200);
    const html = await asked.text();
    expect(wordsOf(html)).toContain('Sign out of QR Login?');
    expect(html).not.toContain('asks to sign you out');
    const res = await api(PATH, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Cookie: browser.cookie,
        Origin: ORIGIN,
        'Sec-Fetch-Site': 'same-origin',
      },
      body: new URLSearchParams({ confirm: confirmOf(html) }),
      redirect: 'manual',
    });
    expect(res.status).toBe(200);
    expect(wordsOf(await res.text())).toContain('You are signed out');
    expect(await stillSignedIn(browser)).toBe(false);
  });

  it('asks in Chinese by ui_locales, and offers the other language', async () => {
    const res = await api(`${PATH}?${new URLSearchParams({ client_id: WIKI.id, ui_locales: 'zh-CN' })}`);
    const html = await res.text();
    expect(html).toMatch(/<html lang="zh-CN">/);
    expect(wordsOf(html)).toContain('要退出 QR Login 吗？');
    expect(wordsOf(html)).toContain('Wiki 请求让您退出登录。');
    expect(html).toMatch(/<button type="submit">退出登录<\/button>/);
    expect(html).toContain(`href="${PATH}?client_id=wiki&amp;ui_locales=en"`);
  });

  it('a forged hint is no hint: the question, and nothing ends', async () => {
    const browser = await browserSignedIn();
    const claims = decodeJwt(browser.tokens[GRAFANA.id]!.id_token);
    const stranger = (await newKey('RS256', devRsaKey().kid)).privateJwk;
    const forged = await signWith(stranger, { alg: 'RS256', typ: 'JWT', kid: stranger.kid }, claims);
    // Our signature over another payload: the same claims but another user's.
    const [head, , sig] = browser.tokens[GRAFANA.id]!.id_token.split('.');
    const other = await signWith(stranger, { alg: 'RS256' }, { ...claims, sub: 'u_guang' });
    const tampered = `${head}.${other.split('.')[1]}.${sig}`;
    for (const hint of [forged, tampered, 'not-a-jwt', browser.tokens[GRAFANA.id]!.access_token]) {
      const { res, queued } = await throughQueue(
        endSession({ id_token_hint: hint, client_id: GRAFANA.id, post_logout_redirect_uri: GRAFANA_BYE }),
      );
      expect(res.status).toBe(200);
      expect(wordsOf(await res.text())).toContain('Sign out of QR Login?');
      expect(logoutsOf(queued)).toEqual([]);
    }
    expect(await stillSignedIn(browser)).toBe(true);
  });

  it('a confirmation without the page’s token, with a forged one, without the cookie, for another browser or from another site is refused (403) and changes nothing', async () => {
    const browser = await browserSignedIn();
    const other = await browserSignedIn(GRAFANA, [], ['guang', '222']);
    const confirm = confirmOf(await (await api(PATH, { headers: { Cookie: browser.cookie } })).text());
    const others = confirmOf(await (await api(PATH, { headers: { Cookie: other.cookie } })).text());
    const attempts: [Record<string, string>, Record<string, string>][] = [
      [{}, { Cookie: browser.cookie }],
      [{ confirm: 'garbage' }, { Cookie: browser.cookie }],
      [{ confirm: `${confirm.slice(0, -4)}AAAA` }, { Cookie: browser.cookie }],
      [{ confirm }, {}],
      [{ confirm: others }, { Cookie: browser.cookie }],
      [{ confirm }, { Cookie: browser.cookie, 'Sec-Fetch-Site': 'cross-site' }],
      [{ confirm }, { Cookie: browser.cookie, Origin: 'https://evil.example' }],
    ];
    for (const [params, headers] of attempts) {
      const { res, queued } = await throughQueue(postEndSession(params, headers));
      if (Object.keys(params).length === 0) {
        // No confirmation at all is a new request: the question again.
        expect(res.status).toBe(200);
        expect(wordsOf(await res.text())).toContain('Sign out of QR Login?');
      } else {
        expect(res.status, JSON.stringify(headers)).toBe(403);
        expect(res.headers.get('Location')).toBeNull();
        expect(wordsOf(await res.text())).toContain('Nothing was signed out.');
      }
      expect(res.headers.get('Set-Cookie')).toBeNull();
      expect(logoutsOf(queued)).toEqual([]);
    }
    expect(await stillSignedIn(browser)).toBe(true);
    expect(await stillSignedIn(other)).toBe(true);
  });
});

describe('what cannot be followed is a page in words, never a redirect, and changes nothing', () => {
  it('another client’s post_logout_redirect_uri, an unregistered one, one without a client, an unknown client, a client that is not the hint’s', async () => {
    const browser = await browserSignedIn();
    const hint = browser.tokens[GRAFANA.id]!.id_token;
    const cases: [Record<string, string>, string][] = [
      [{ id_token_hint: hint, post_logout_redirect_uri: WIKI_BYE }, 'not registered for this site'],
      [{ client_id: GRAFANA.id, post_logout_redirect_uri: WIKI_BYE }, 'not registered for this site'],
      [{ id_token_hint: hint, post_logout_redirect_uri: 'https://evil.example/' }, 'not registered for this site'],
      [{ id_token_hint: hint, post_logout_redirect_uri: `${GRAFANA_BYE}/` }, 'not registered for this site'],
      [{ post_logout_redirect_uri: GRAFANA_BYE }, 'client_id or id_token_hint is missing'],
      [{ client_id: 'nobody', post_logout_redirect_uri: GRAFANA_BYE }, 'not registered with this sign-in service'],
      [{ id_token_hint: hint, client_id: WIKI.id, post_logout_redirect_uri: WIKI_BYE }, 'one site in client_id'],
    ];
    for (const [params, words] of cases) {
      const { res, queued } = await throughQueue(endSession(params, { Cookie: browser.cookie }));
      expect(res.status, JSON.stringify(params)).toBe(400);
      expect(res.headers.get('Location')).toBeNull();
      const html = await res.text();
      expect(wordsOf(html)).toContain(words);
      expect(wordsOf(html)).toContain('Nothing was signed out.');
      // Both languages, the asked one first.
      expect(html.indexOf('This sign-out link cannot be used')).toBeLessThan(html.indexOf('无法使用此退出链接'));
      expect(logoutsOf(queued)).toEqual([]);
    }
    expect(await stillSignedIn(browser)).toBe(true);
  });

  it('a malformed request, and a method other than GET and POST', async () => {
    const repeated = await api(`${PATH}?client_id=grafana&client_id=wiki`);
    expect(repeated.status).toBe(400);
    expect(wordsOf(await repeated.text())).toContain('malformed');
    const json = await api(PATH, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(400);
    expect(json.headers.get('Content-Type')).toMatch(/^text\/html/);
    const put = await api(PATH, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('Allow')).toBe('GET, POST');
  });
});
