/**
 * Shared steps for the OpenID Provider's tests: the clients of vitest.config.ts, PKCE, the
 * browser's side (the authorize endpoint, the page's API, the QR's status, the cookie it keeps)
 * done through the Worker as a browser and its page do, and the phone's side through the API.
 */
import { expect } from 'vitest';
import { act, api, freshIp, login, PC_UA, postJson } from '../helpers';
import { postForm } from './support';

/** The clients of `OIDC_CLIENTS` in vitest.config.ts. */
export const GRAFANA = {
  id: 'grafana',
  name: 'Grafana',
  secret: 'grafana secret',
  redirect: 'https://grafana.example/login/generic_oauth',
} as const;
export const WIKI = {
  id: 'wiki',
  name: 'Wiki',
  secret: 'wiki-secret',
  redirect: 'https://wiki.example/callback',
} as const;
export const SPA = { id: 'spa', name: 'Single Page', redirect: 'https://spa.example/cb' } as const;
export const PUSHY = {
  id: 'pushy',
  name: 'Pushy',
  secret: 'pushy secret',
  redirect: 'https://pushy.example/cb',
} as const;

/** A public client registered with `dpop_bound_access_tokens: true`. */
export const BOUND = { id: 'bound', name: 'Bound', redirect: 'https://bound.example/cb' } as const;

export const basicAuth = (id: string, secret: string) => ({
  Authorization: `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`,
});

const base64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/** A PKCE verifier and its S256 challenge. */
export async function pkce(): Promise<{ verifier: string; challenge: string }> {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  return { verifier, challenge: base64url(digest) };
}

/** A valid authorize request for `client` (its challenge given), with `extra` on top (undefined removes). */
export function authorizeParams(
  client: { id: string; redirect: string },
  challenge: string,
  extra: Record<string, string | undefined> = {},
): Record<string, string> {
  const params: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: client.id,
    redirect_uri: client.redirect,
    scope: 'openid profile offline_access',
    state: 'st-123',
    nonce: 'n-456',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  };
  return Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

/** `GET /oauth/authorize` as the browser sends it (with its cookie, if any). */
export function authorize(params: Record<string, string> | string, cookie?: string): Promise<Response> {
  const query = typeof params === 'string' ? params : new URLSearchParams(params).toString();
  return api(`/oauth/authorize?${query}`, {
    headers: { 'User-Agent': PC_UA, 'Accept-Language': 'en', ...(cookie ? { Cookie: cookie } : {}) },
    redirect: 'manual',
  });
}

/** The query of a redirect's `Location`, as an object. */
export function redirectParams(res: Response | string): Record<string, string> {
  const location = typeof res === 'string' ? res : (res.headers.get('Location') ?? '');
  return Object.fromEntries(new URL(location).searchParams);
}

export interface CreatedLogin {
  qrcode_id: string;
  poll_token: string;
  img: string;
  scan_url: string;
  version: number;
  expires_at: string;
}

export interface PageStart {
  authorization: string;
  client_name: string;
  /** Null when `continue_as` is offered (no QR is made for a browser that may continue): typed for the usual case. */
  login: CreatedLogin;
  continue_as: { display_name: string } | null;
  redirect_to?: string;
}

/** The page's `POST /api/authorize` (with the browser's cookie, if any). */
export function pageStart(params: Record<string, string>, cookie?: string): Promise<Response> {
  return postJson('/api/authorize', params, {
    'User-Agent': PC_UA,
    'CF-Connecting-IP': freshIp(),
    ...(cookie ? { Cookie: cookie } : {}),
  });
}

/** One of the page's other calls, with its `authorization`. */
export function pageStep(step: 'qrcode' | 'continue' | 'cancel', authorization: string, cookie?: string) {
  return postJson(
    `/api/authorize/${step}`,
    { authorization },
    { 'CF-Connecting-IP': freshIp(), ...(cookie ? { Cookie: cookie } : {}) },
  );
}

/** The PC page's status poll of its QR login (at once). */
export function pollStatus(login: CreatedLogin, cookie?: string): Promise<Response> {
  return api(`/api/qrcodes/${login.qrcode_id}/status`, {
    headers: { 'X-Poll-Token': login.poll_token, ...(cookie ? { Cookie: cookie } : {}) },
  });
}

/** The phone signs in (`user`), scans the page's QR and confirms or cancels; its access token. */
export async function phoneDoes(
  created: CreatedLogin,
  answer: 'confirm' | 'cancel',
  user: [string, string] = ['dong', '111'],
): Promise<string> {
  const { token } = await login(...user);
  const scanned = await act(created.qrcode_id, 'scan', token);
  expect(scanned.status).toBe(200);
  expect((await act(created.qrcode_id, answer, token)).status).toBe(200);
  return token;
}

/** The `name=value` of a `Set-Cookie`, as the browser sends it back. */
export const cookieOf = (res: Response): string => (res.headers.get('Set-Cookie') ?? '').split(';')[0] ?? '';

/** A whole sign-in by scan, from the page's start: the status's redirect, the browser's cookie, the phone's token. */
export async function signInByScan(
  params: Record<string, string>,
  user: [string, string] = ['dong', '111'],
): Promise<{ redirect_to: string; cookie: string; phone: string; start: PageStart }> {
  const started = await pageStart(params);
  expect(started.status).toBe(200);
  const start = (await started.json()) as PageStart;
  const phone = await phoneDoes(start.login, 'confirm', user);
  const done = await pollStatus(start.login);
  expect(done.status).toBe(200);
  const body = (await done.json()) as { redirect_to: string };
  return { redirect_to: body.redirect_to, cookie: cookieOf(done), phone, start };
}

/** `POST /oauth/token` for a code, authenticated as `client` by Basic (or as given in `extra`/`headers`). */
export function exchange(
  code: string,
  verifier: string,
  client: { id: string; redirect: string; secret?: string } = GRAFANA,
  extra: Record<string, string> = {},
  headers: Record<string, string> = client.secret ? basicAuth(client.id, client.secret) : {},
): Promise<Response> {
  return postForm(
    '/oauth/token',
    { grant_type: 'authorization_code', code, redirect_uri: client.redirect, code_verifier: verifier, ...extra },
    headers,
  );
}
