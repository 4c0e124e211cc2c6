/**
 * `GET|POST /oauth/authorize`: what cannot go back to its client gets an error page in words
 * and never a redirect (unknown clients, redirect URIs that only look registered, malformed
 * requests); every other refusal goes back to the registered redirect URI with `error`,
 * `state` and `iss`; a valid request is shown the authorize page.
 */
import { describe, expect, it } from 'vitest';
import { api } from '../helpers';
import {
  authorize,
  authorizeParams,
  exchange,
  GRAFANA,
  PUSHY,
  pageStart,
  pkce,
  redirectParams,
  signInByScan,
  WIKI,
} from './oidc-support';
import { ORIGIN } from './support';

const { challenge } = await pkce();
const valid = (extra: Record<string, string | undefined> = {}) => authorizeParams(GRAFANA, challenge, extra);

/** The request got the error page: 400 HTML in words, and no redirect anywhere. */
async function expectErrorPage(res: Response, words: RegExp) {
  expect(res.status).toBe(400);
  expect(res.headers.get('Location')).toBeNull();
  expect(res.headers.get('Content-Type')).toBe('text/html; charset=utf-8');
  expect(res.headers.get('Content-Security-Policy')).toContain("default-src 'self'");
  expect(res.headers.get('X-Frame-Options')).toBe('DENY');
  const html = await res.text();
  expect(html).toMatch(words);
  // Readable without JavaScript: no script at all.
  expect(html).not.toContain('<script');
  return html;
}

/** The request went back to the client with `error` (and `state`, `iss`). */
function expectRefusal(res: Response, error: string, state: string | null = 'st-123') {
  expect(res.status).toBe(302);
  const location = res.headers.get('Location') ?? '';
  expect(location.startsWith(`${GRAFANA.redirect}?`)).toBe(true);
  const params = redirectParams(res);
  expect(params).toMatchObject({ error, iss: ORIGIN, error_description: expect.any(String) });
  expect(params.state ?? null).toBe(state);
  expect(params.code).toBeUndefined();
}

describe('a request that cannot be trusted to go back: the error page, never a redirect', () => {
  it('an unknown or missing client', async () => {
    await expectErrorPage(await authorize(valid({ client_id: 'nobody' })), /not registered with this sign-in service/);
    await expectErrorPage(await authorize(valid({ client_id: undefined })), /client_id is missing/);
  });

  it('a redirect URI that is not exactly one the client registered (open redirects, look-alikes)', async () => {
    const tricks = [
      'https://evil.example/cb',
      `${GRAFANA.redirect}/`,
      `${GRAFANA.redirect}x`,
      `${GRAFANA.redirect}?next=https://evil.example`,
      `${GRAFANA.redirect}#frag`,
      `${GRAFANA.redirect}/../../evil`,
      'HTTPS://GRAFANA.EXAMPLE/login/generic_oauth',
      'https://grafana.example/LOGIN/generic_oauth',
      'https://attacker@grafana.example/login/generic_oauth',
      'https://grafana.example@evil.example/login/generic_oauth',
      'https://grafana.example%2F@evil.example/login/generic_oauth',
      'https://grafana.example/login%2Fgeneric_oauth',
      'https://grafana.example.evil.example/login/generic_oauth',
      'https://grafana.example:443/login/generic_oauth',
      'http://grafana.example/login/generic_oauth',
      ` ${GRAFANA.redirect}`,
      // Another client's registered URI is not this client's.
      WIKI.redirect,
    ];
    for (const redirect_uri of tricks) {
      const res = await authorize(valid({ redirect_uri }));
      await expectErrorPage(res, /not registered for this site/);
    }
    await expectErrorPage(await authorize(valid({ redirect_uri: undefined })), /redirect_uri is missing/);
  });

  it('a malformed request (a repeated or too long parameter) before the redirect URI is trusted', async () => {
    const repeated = `${new URLSearchParams(valid())}&redirect_uri=${encodeURIComponent('https://evil.example/')}`;
    await expectErrorPage(await authorize(repeated), /malformed/);
    await expectErrorPage(await authorize(`${new URLSearchParams(valid())}&state=again`), /malformed/);
    await expectErrorPage(await authorize(valid({ state: 'x'.repeat(2049) })), /malformed/);
  });

  it('speaks the visitor’s language first, and the other below it', async () => {
    const res = await api(`/oauth/authorize?client_id=nobody`, { headers: { 'Accept-Language': 'zh-CN,zh;q=0.9' } });
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>\n<html lang="zh-CN">/);
    expect(html.indexOf('无法使用此登录链接')).toBeLessThan(html.indexOf('This sign-in link cannot be used'));
    expect(res.headers.get('Content-Language')).toBe('zh-CN');
  });

  it('a POST is judged the same way, and another method is refused in words', async () => {
    const res = await api('/oauth/authorize', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(valid({ redirect_uri: 'https://evil.example/' })).toString(),
      redirect: 'manual',
    });
    await expectErrorPage(res, /not registered for this site/);
    const put = await api('/oauth/authorize', { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('Allow')).toBe('GET, POST');
  });
});

describe('a refusal once the redirect URI is trusted: back to the client with error, state and iss', () => {
  it.each([
    ['no response_type', { response_type: undefined }, 'invalid_request'],
    ['response_type=token (no implicit flow)', { response_type: 'token' }, 'unsupported_response_type'],
    ['response_type=code id_token (no hybrid)', { response_type: 'code id_token' }, 'unsupported_response_type'],
    ['no openid in scope', { scope: 'profile' }, 'invalid_scope'],
    ['no scope', { scope: undefined }, 'invalid_scope'],
    ['no code_challenge', { code_challenge: undefined }, 'invalid_request'],
    ['code_challenge_method=plain', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['no code_challenge_method (plain by default)', { code_challenge_method: undefined }, 'invalid_request'],
    ['a challenge that is no S256 digest', { code_challenge: 'short' }, 'invalid_request'],
    ['an unknown prompt', { prompt: 'select_account' }, 'invalid_request'],
    ['prompt=none with another value', { prompt: 'none login' }, 'invalid_request'],
    ['a max_age that is no number', { max_age: 'soon' }, 'invalid_request'],
    ['a request object', { request: 'eyJhbGciOiJub25lIn0.e30.' }, 'request_not_supported'],
    ['response_mode=fragment', { response_mode: 'fragment' }, 'invalid_request'],
  ])('%s', async (_what, extra, error) => {
    expectRefusal(await authorize(valid(extra)), error);
  });

  it('without state, the refusal has none', async () => {
    expectRefusal(
      await authorize(valid({ state: undefined, response_type: 'token' })),
      'unsupported_response_type',
      null,
    );
  });

  it('a client that must push its requests (PAR) and did not', async () => {
    const res = await authorize(authorizeParams(PUSHY, challenge));
    expect(res.status).toBe(302);
    expect(redirectParams(res)).toMatchObject({ error: 'invalid_request', state: 'st-123', iss: ORIGIN });
  });

  it('the page’s API answers the same refusal as { redirect_to }', async () => {
    const res = await pageStart(valid({ code_challenge_method: 'plain' }));
    expect(res.status).toBe(200);
    const { redirect_to } = (await res.json()) as { redirect_to: string };
    expect(redirectParams(redirect_to)).toMatchObject({ error: 'invalid_request', state: 'st-123', iss: ORIGIN });
    // What cannot go back is 400 there, in words, with nothing to follow.
    const untrusted = await pageStart(valid({ redirect_uri: 'https://evil.example/' }));
    expect(untrusted.status).toBe(400);
    expect(await untrusted.json()).toEqual({
      error: 'invalid_request',
      message: 'redirect_uri is not registered for this client.',
    });
  });
});

describe('a valid request', () => {
  it('is shown the authorize page under the pages’ headers; unknown scopes and parameters are ignored', async () => {
    const res = await authorize(
      valid({ scope: 'openid email phone', login_hint: 'dong', ui_locales: 'en', foo: 'bar' }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toMatch(/^text\/html/);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(res.headers.get('X-Frame-Options')).toBe('DENY');
    expect(res.headers.get('Content-Security-Policy')).toContain("script-src 'self'");
    expect(await res.text()).toContain('/pages/authorize.js');
  });

  it('sent as a form POST from the client’s own site, goes on to the GET with the same parameters (303)', async () => {
    const params = valid();
    const res = await api('/oauth/authorize', {
      method: 'POST',
      // The client's page submits the form: a cross-site navigation, which the cross-site guard lets through.
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Origin: 'https://grafana.example',
        'Sec-Fetch-Site': 'cross-site',
      },
      body: new URLSearchParams(params).toString(),
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('Location') ?? '', ORIGIN);
    expect(location.pathname).toBe('/oauth/authorize');
    expect(Object.fromEntries(location.searchParams)).toEqual(params);
  });

  it('a state and a nonce of 2,000 characters each are accepted: echoed, and in the id_token', async () => {
    const { verifier, challenge: long } = await pkce();
    const state = 'S'.repeat(2000);
    const nonce = 'N'.repeat(2000);
    expect((await authorize(authorizeParams(GRAFANA, long, { state, nonce }))).status).toBe(200);
    const { redirect_to } = await signInByScan(authorizeParams(GRAFANA, long, { state, nonce }));
    const back = redirectParams(redirect_to);
    expect(back.state).toBe(state);
    const tokens = (await (await exchange(back.code!, verifier)).json()) as { id_token: string };
    const payload = JSON.parse(atob(tokens.id_token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')));
    expect(payload.nonce).toBe(nonce);
  });
});
