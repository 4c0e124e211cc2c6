/**
 * Single sign-on: a browser that signed in by scan keeps a session of its own and a cookie for
 * it. Later authorize requests from that browser offer "Continue as" (one click, no scan),
 * `prompt=none` answers at once, `prompt=login` and `max_age` ask for a new scan, and signing the
 * session out anywhere ends the cookie's power at once. Also the page's other steps: a fresh QR,
 * Cancel, and the request's ten minutes.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, bearer, login, PC_UA } from '../helpers';
import { ageActivity, inUserObject, userObject } from '../sessions/support';
import {
  authorize,
  authorizeParams,
  cookieOf,
  exchange,
  GRAFANA,
  type PageStart,
  pageStart,
  pageStep,
  phoneDoes,
  pkce,
  redirectParams,
  SPA,
  signInByScan,
  WIKI,
} from './oidc-support';
import { ORIGIN, oauthErrorOf } from './support';

const claimsOf = (jwt: string) => JSON.parse(atob(jwt.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')));

/** A browser signed in to Grafana by scan as guang: its cookie, the phone's token, and the id_token's claims. */
async function signedInBrowser() {
  const { verifier, challenge } = await pkce();
  const signedIn = await signInByScan(authorizeParams(GRAFANA, challenge), ['guang', '222']);
  const tokens = (await (await exchange(redirectParams(signedIn.redirect_to).code!, verifier)).json()) as {
    id_token: string;
  };
  return { ...signedIn, claims: claimsOf(tokens.id_token) };
}

async function startJson(res: Response): Promise<PageStart> {
  expect(res.status).toBe(200);
  return (await res.json()) as PageStart;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Continue as', () => {
  it('a later request from the same browser offers it; one click gives the client a code, no scan', async () => {
    const { cookie, claims } = await signedInBrowser();
    const { verifier, challenge } = await pkce();
    const start = await startJson(await pageStart(authorizeParams(WIKI, challenge, { nonce: 'n-wiki' }), cookie));
    expect(start).toMatchObject({ client_name: 'Wiki', continue_as: { display_name: '光光' } });
    // No QR is made for a browser that may continue: another user asks for one.
    expect(start.login).toBeNull();
    const other = await pageStep('qrcode', start.authorization, cookie);
    expect(((await other.json()) as { login: PageStart['login'] }).login?.img).toMatch(/^data:image\/svg\+xml,/);
    const res = await pageStep('continue', start.authorization, cookie);
    expect(res.status).toBe(200);
    const { redirect_to } = (await res.json()) as { redirect_to: string };
    const back = redirectParams(redirect_to);
    expect(back).toMatchObject({ state: 'st-123', iss: ORIGIN });
    const tokens = await exchange(back.code!, verifier, WIKI, { client_id: WIKI.id, client_secret: WIKI.secret }, {});
    const wiki = claimsOf(((await tokens.json()) as { id_token: string }).id_token);
    // The same browser session, the same time of sign-in: the user scanned once.
    expect(wiki).toMatchObject({
      sub: 'u_guang',
      aud: WIKI.id,
      sid: claims.sid,
      auth_time: claims.auth_time,
      nonce: 'n-wiki',
    });
  });

  it('is not offered without the cookie, and Continue without it is 401', async () => {
    const { challenge } = await pkce();
    const start = await startJson(await pageStart(authorizeParams(SPA, challenge)));
    expect(start.continue_as).toBeNull();
    const res = await pageStep('continue', start.authorization);
    expect(res.status).toBe(401);
    expect((await res.json()) as { error: string }).toMatchObject({ error: 'unauthorized' });
  });

  it('prompt=login asks for a new scan: no Continue as, and Continue is refused', async () => {
    const { cookie } = await signedInBrowser();
    const { challenge } = await pkce();
    const params = authorizeParams(SPA, challenge, { prompt: 'login' });
    expect((await authorize(params, cookie)).status).toBe(200);
    const start = await startJson(await pageStart(params, cookie));
    expect(start.continue_as).toBeNull();
    expect((await pageStep('continue', start.authorization, cookie)).status).toBe(401);
  });

  it('max_age: a sign-in older than that asks for a new scan', async () => {
    const { cookie, claims } = await signedInBrowser();
    const { challenge } = await pkce();
    const recent = await startJson(await pageStart(authorizeParams(SPA, challenge, { max_age: '300' }), cookie));
    expect(recent.continue_as).toEqual({ display_name: '光光' });
    // Ten minutes later (the browser session's sign-in moved back), 300 s is too old.
    await inUserObject('u_guang', 'UPDATE sessions SET created_at = created_at - 600000 WHERE sid = ?', claims.sid);
    const old = await startJson(await pageStart(authorizeParams(SPA, challenge, { max_age: '300' }), cookie));
    expect(old.continue_as).toBeNull();
    expect((await pageStep('continue', old.authorization, cookie)).status).toBe(401);
    const silent = await authorize(authorizeParams(SPA, challenge, { prompt: 'none', max_age: '300' }), cookie);
    expect(redirectParams(silent)).toMatchObject({ error: 'login_required' });
  });
});

describe('prompt=none', () => {
  it('with a live sign-in: a code at once, never the page', async () => {
    const { cookie, claims } = await signedInBrowser();
    const { verifier, challenge } = await pkce();
    const res = await authorize(authorizeParams(GRAFANA, challenge, { prompt: 'none' }), cookie);
    expect(res.status).toBe(302);
    const back = redirectParams(res);
    expect(back).toMatchObject({ state: 'st-123', iss: ORIGIN, code: expect.any(String) });
    const tokens = (await (await exchange(back.code!, verifier)).json()) as { id_token: string };
    expect(claimsOf(tokens.id_token)).toMatchObject({ sid: claims.sid, auth_time: claims.auth_time });
  });

  it('without one: login_required, with state and iss', async () => {
    const { challenge } = await pkce();
    const res = await authorize(authorizeParams(GRAFANA, challenge, { prompt: 'none' }));
    expect(res.status).toBe(302);
    expect(redirectParams(res)).toEqual({
      error: 'login_required',
      error_description: expect.any(String),
      state: 'st-123',
      iss: ORIGIN,
    });
    // A cookie of nobody's opens nothing either.
    const forged = await authorize(
      authorizeParams(GRAFANA, challenge, { prompt: 'none' }),
      `__Host-sso=${'0'.repeat(64)}${'A'.repeat(43)}`,
    );
    expect(redirectParams(forged).error).toBe('login_required');
  });
});

describe('signing the browser out ends the cookie’s power at once', () => {
  it('the phone signs the browser session out: no Continue as, prompt=none is login_required, the grants end', async () => {
    const { cookie, claims, phone } = await signedInBrowser();
    const { verifier, challenge } = await pkce();
    const code = redirectParams(await authorize(authorizeParams(GRAFANA, challenge, { prompt: 'none' }), cookie)).code!;
    const { access_token } = (await (await exchange(code, verifier)).json()) as { access_token: string };
    expect((await api(`/api/sessions/${claims.sid}`, { method: 'DELETE', headers: bearer(phone) })).status).toBe(204);

    expect((await api('/oauth/userinfo', { headers: bearer(access_token) })).status).toBe(401);
    const silent = await authorize(authorizeParams(GRAFANA, challenge, { prompt: 'none' }), cookie);
    expect(redirectParams(silent).error).toBe('login_required');
    const res = await pageStart(authorizeParams(GRAFANA, challenge), cookie);
    const start = await startJson(res);
    expect(start.continue_as).toBeNull();
    // The browser is told to forget the cookie.
    expect(res.headers.get('Set-Cookie')).toMatch(/^__Host-sso=; Path=\/; Max-Age=0;/);
    // The user's recent activity tells both: the browser's sign-in by scan (for Grafana, by name), and who signed it out.
    const events = await userObject('u_guang').activity();
    expect(events.find((e) => e.kind === 'sign_in' && e.sid === claims.sid)?.detail).toEqual({
      via: 'oidc',
      client_id: GRAFANA.id,
      client_name: GRAFANA.name,
    });
    expect(events.find((e) => e.kind === 'sign_out' && e.sid === claims.sid)?.detail).toMatchObject({ by: 'device' });
  });
});

describe('the cookie', () => {
  it('on an http origin (localhost) is `sso`, without Secure', async () => {
    const local = (path: string, init: RequestInit = {}) =>
      exports.default.fetch(new Request(`http://localhost:8787${path}`, init));
    const { challenge } = await pkce();
    const started = await local('/api/authorize', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': PC_UA },
      body: JSON.stringify(authorizeParams(SPA, challenge)),
    });
    const { login } = (await started.json()) as PageStart;
    await phoneDoes(login, 'confirm');
    const done = await local(`/api/qrcodes/${login.qrcode_id}/status`, {
      headers: { 'X-Poll-Token': login.poll_token },
    });
    expect(done.headers.get('Set-Cookie')).toMatch(
      /^sso=[0-9a-f]{64}[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/,
    );
    const { redirect_to } = (await done.json()) as { redirect_to: string };
    expect(redirectParams(redirect_to).iss).toBe('http://localhost:8787');
    expect(cookieOf(done)).toMatch(/^sso=/);
  });
});

describe('the page’s other steps', () => {
  it('Cancel goes back with access_denied; a fresh QR replaces an expired one', async () => {
    const { challenge } = await pkce();
    const start = await startJson(await pageStart(authorizeParams(GRAFANA, challenge)));
    const fresh = await pageStep('qrcode', start.authorization);
    expect(fresh.status).toBe(200);
    const { login } = (await fresh.json()) as { login: PageStart['login'] };
    expect(login.qrcode_id).not.toBe(start.login.qrcode_id);
    // The fresh QR is bound to the same request: the phone is asked about Grafana.
    const res = await pageStep('cancel', start.authorization);
    const { redirect_to } = (await res.json()) as { redirect_to: string };
    expect(redirectParams(redirect_to)).toMatchObject({ error: 'access_denied', state: 'st-123', iss: ORIGIN });
  });

  it('past ten minutes the request ends with access_denied, not a new QR', async () => {
    const { challenge } = await pkce();
    const start = await startJson(await pageStart(authorizeParams(GRAFANA, challenge)));
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 10 * 60_000 + 1000);
    const res = await pageStep('qrcode', start.authorization);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { redirect_to: string; login?: unknown };
    expect(body.login).toBeUndefined();
    expect(redirectParams(body.redirect_to)).toMatchObject({ error: 'access_denied', state: 'st-123' });
  });

  it('an authorization this server did not sign is refused', async () => {
    const { challenge } = await pkce();
    const start = await startJson(await pageStart(authorizeParams(GRAFANA, challenge)));
    const [header, payload] = start.authorization.split('.');
    const claims = JSON.parse(atob(payload!.replace(/-/g, '+').replace(/_/g, '/')));
    const tampered = btoa(JSON.stringify({ ...claims, redirect_uri: 'https://evil.example/' }))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');
    for (const forged of ['garbage', `${header}.${tampered}.${start.authorization.split('.')[2]}`]) {
      for (const step of ['qrcode', 'continue', 'cancel'] as const) {
        const res = await pageStep(step, forged);
        expect(res.status).toBe(400);
        expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
      }
    }
    // Nor does an access token of ours pass for one.
    const { token } = await login();
    expect((await oauthErrorOf(await pageStep('cancel', token))).status).toBe(400);
  });
});

describe('what the user’s object keeps', () => {
  it('a code rings no alarm of its own (a sign-in costs no alarm invocation); the next code forgets the old ones', async () => {
    const { verifier, challenge } = await pkce();
    const { redirect_to, cookie } = await signInByScan(authorizeParams(SPA, challenge, { scope: 'openid' }));
    expect(
      (await exchange(redirectParams(redirect_to).code!, verifier, { ...SPA }, { client_id: SPA.id }, {})).status,
    ).toBe(200);
    const start = await startJson(await pageStart(authorizeParams(SPA, challenge, { scope: 'openid' }), cookie));
    expect((await pageStep('continue', start.authorization, cookie)).status).toBe(200);
    // The object's alarm is the first session's end (here the grant's, which ends with its access
    // token after 15 minutes: no offline_access), not a code's memory (11 minutes).
    const alarm = await runInDurableObject(userObject('u_dong'), (_i, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now() + 12 * 60_000);
    // Codes past their memory go when the next code is made.
    await inUserObject('u_dong', 'UPDATE oidc_codes SET expires_at = ?', Date.now() - 11 * 60_000);
    const again = await startJson(await pageStart(authorizeParams(SPA, challenge, { scope: 'openid' }), cookie));
    expect((await pageStep('continue', again.authorization, cookie)).status).toBe(200);
    const codes = await inUserObject<{ n: number }>('u_dong', 'SELECT COUNT(*) AS n FROM oidc_codes');
    expect(codes[0]!.n).toBe(1);
  });

  it('codes, cookies and clients are forgotten with their sessions: the alarm empties the object', async () => {
    const { verifier, challenge } = await pkce();
    const { redirect_to, cookie } = await signInByScan(authorizeParams(SPA, challenge, { scope: 'openid' }));
    expect(
      (await exchange(redirectParams(redirect_to).code!, verifier, { ...SPA }, { client_id: SPA.id }, {})).status,
    ).toBe(200);
    const kept = await inUserObject<{ n: number }>(
      'u_dong',
      'SELECT (SELECT COUNT(*) FROM oidc_codes) + (SELECT COUNT(*) FROM oidc_cookies) + (SELECT COUNT(*) FROM oidc_clients) AS n',
    );
    expect(kept[0]!.n).toBeGreaterThanOrEqual(3);
    // Every session ends (the phone signs out everything it approved) and the codes' memory passes.
    await inUserObject('u_dong', 'UPDATE sessions SET ends_at = ?', Date.now() - 1);
    await inUserObject('u_dong', 'UPDATE oidc_codes SET expires_at = ?', Date.now() - 11 * 60_000);
    // The sign-ins stay in the user's recent activity for 90 days: past them too, nothing is left.
    await ageActivity('u_dong', 91 * 86_400_000);
    expect(await runDurableObjectAlarm(userObject('u_dong'))).toBe(true);
    const tables = await runInDurableObject(userObject('u_dong'), (_i, state) =>
      state.storage.sql
        .exec<{ name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'",
        )
        .toArray(),
    );
    expect(tables).toEqual([]);
    // The cookie opens nothing, and a later sign-in starts afresh.
    const { challenge: again } = await pkce();
    expect(redirectParams(await authorize(authorizeParams(SPA, again, { prompt: 'none' }), cookie)).error).toBe(
      'login_required',
    );
  });
});
