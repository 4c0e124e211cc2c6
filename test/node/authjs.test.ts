/**
 * Auth.js (`@auth/core`, what NextAuth, SvelteKitAuth and the other Auth.js frameworks run) signs a
 * user in by scan with nothing but its usual configuration of a generic OpenID Connect provider:
 * the issuer (discovery), the client id and secret (client_secret_basic), and the checks PKCE,
 * state and nonce. Against `npm start` with the client in `OIDC_CLIENTS` (the README's entry),
 * its secret in the environment. Auth.js runs in this process, as a framework's route handler
 * would call it (`Auth(request, config)`); the browser between it and the Worker is a cookie jar
 * here, the authorize page's calls are made as the page makes them, and the phone goes through
 * the API (sign in, scan, confirm).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Auth, type AuthConfig } from '@auth/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { npmStart, type StartedServer } from '../support/npm-start.ts';

/** Where the site runs Auth.js (its routes under /auth): nothing listens here, Auth.js is called in-process. */
const SITE = 'http://127.0.0.1:3999';
const CLIENT = { id: 'authjs-site', name: 'Example Shop', secret: 'an Auth.js site secret of 32 characters or more' };
const CALLBACK = `${SITE}/auth/callback/qrlogin`;

const storage = mkdtempSync(path.join(tmpdir(), 'qrcode-login-authjs-'));
let server: StartedServer;

beforeAll(async () => {
  const clients = [{ client_id: CLIENT.id, client_name: CLIENT.name, redirect_uris: [CALLBACK] }];
  server = await npmStart(storage, ['--demo', '--var', `OIDC_CLIENTS:${JSON.stringify(clients)}`], {
    env: { OIDC_CLIENT_SECRETS: `${CLIENT.id}:${CLIENT.secret}` },
  });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  rmSync(storage, { recursive: true, force: true });
});

/** The site's Auth.js configuration: a generic OIDC provider, as its docs write one. */
const config = (): AuthConfig => ({
  basePath: '/auth',
  trustHost: true,
  secret: 'the site’s own Auth.js secret, 32 characters or more',
  providers: [
    {
      id: 'qrlogin',
      name: 'Sign in with your phone',
      type: 'oidc',
      issuer: server.base,
      clientId: CLIENT.id,
      clientSecret: CLIENT.secret,
      checks: ['pkce', 'state', 'nonce'],
      authorization: { params: { scope: 'openid profile' } },
    },
  ],
  callbacks: {
    // What the site keeps of the id_token: who, and which session of the provider.
    jwt({ token, profile }) {
      if (profile) {
        Object.assign(token, { sub: profile.sub, preferred_username: profile.preferred_username, sid: profile.sid });
      }
      return token;
    },
    session({ session, token }) {
      return { ...session, user: { ...session.user, id: token.sub ?? '' }, username: token.preferred_username };
    },
  },
});

/** The browser's cookies for the site (Auth.js's), by name. */
class Jar {
  cookies = new Map<string, string>();
  take(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1);
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }
  get header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** A request to the site's Auth.js routes, with the browser's cookies. */
async function site(jar: Jar, pathAndQuery: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  if (jar.cookies.size) headers.set('Cookie', jar.header);
  return jar.take(await Auth(new Request(`${SITE}${pathAndQuery}`, { ...init, headers }), config()));
}

/** A JSON call of the Worker's API. */
async function api(pathAndQuery: string, init: { method?: string; body?: unknown; headers?: Record<string, string> }) {
  const res = await fetch(`${server.base}${pathAndQuery}`, {
    method: init.method ?? 'GET',
    headers: { ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }), ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

it('Auth.js signs a user in by scan: its sign-in, the authorize page, the phone, its callback, its session', async () => {
  const jar = new Jar();
  // The site's sign-in button: Auth.js's CSRF token, then its sign-in for the provider.
  const csrf = (await (await site(jar, '/auth/csrf')).json()) as { csrfToken: string };
  const signIn = await site(jar, '/auth/signin/qrlogin', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrfToken: csrf.csrfToken, callbackUrl: `${SITE}/orders` }),
  });
  expect(signIn.status).toBe(302);
  const authorize = new URL(signIn.headers.get('Location') ?? '');
  expect(`${authorize.origin}${authorize.pathname}`).toBe(`${server.base}/oauth/authorize`);
  expect(Object.fromEntries(authorize.searchParams)).toMatchObject({
    client_id: CLIENT.id,
    redirect_uri: CALLBACK,
    response_type: 'code',
    code_challenge_method: 'S256',
    state: expect.any(String),
    nonce: expect.any(String),
  });

  // The browser at the authorize page: the page, then its QR login from the page's API.
  const page = await fetch(authorize);
  expect(page.status).toBe(200);
  expect(page.headers.get('Content-Type')).toMatch(/^text\/html/);
  const started = await api('/api/authorize', { method: 'POST', body: Object.fromEntries(authorize.searchParams) });
  expect(started.status).toBe(200);
  expect(started.body.client_name).toBe(CLIENT.name);
  const qr = started.body.login as { qrcode_id: string; poll_token: string };

  // The phone: signed in, it scans and confirms.
  const phone = await api('/api/login', { method: 'POST', body: { username: 'dong', password: '111' } });
  const bearer = { Authorization: `Bearer ${phone.body.token}` };
  const scanned = await api(`/api/qrcodes/${qr.qrcode_id}/scan`, { method: 'POST', headers: bearer });
  expect(scanned.body.client_name).toBe(CLIENT.name);
  expect((await api(`/api/qrcodes/${qr.qrcode_id}/confirm`, { method: 'POST', headers: bearer })).status).toBe(200);

  // The page's poll: where to go (the site's callback with the code), never a token.
  const done = await api(`/api/qrcodes/${qr.qrcode_id}/status`, { headers: { 'X-Poll-Token': qr.poll_token } });
  expect(done.status).toBe(200);
  expect(done.body).not.toHaveProperty('token');
  const back = new URL(String(done.body.redirect_to));
  expect(`${back.origin}${back.pathname}`).toBe(CALLBACK);

  // Auth.js's callback: it checks state, iss, PKCE and the nonce, and starts its own session.
  const callback = await site(jar, `${back.pathname}${back.search}`);
  expect(callback.status).toBe(302);
  expect(callback.headers.get('Location')).toBe(`${SITE}/orders`);
  const session = (await (await site(jar, '/auth/session')).json()) as Record<string, unknown>;
  expect(session).toMatchObject({
    user: { id: 'u_dong', name: '东东' },
    username: 'dong',
    expires: expect.any(String),
  });
}, 60_000);
