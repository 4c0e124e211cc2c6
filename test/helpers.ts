/**
 * Shared steps for the tests: requests through the Worker exactly as a client sends them.
 */
import { runInDurableObject } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import type { LoginRecord } from '../src/login/state';

export const ORIGIN = 'https://login.example';
export const PC_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';

export function api(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`${ORIGIN}${path}`, init));
}

export function postJson(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return api(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

export interface LoginBody {
  token: string;
  refresh_token: string;
  expires_in: number;
  user: { id: string; username: string; display_name: string };
}

/** Signs in with a password; each call comes from its own IP so limits never interfere. */
let ipCounter = 0;
export function freshIp(): string {
  ipCounter++;
  return `198.51.${Math.floor(ipCounter / 250)}.${ipCounter % 250}`;
}

export async function login(username = 'dong', password = '111'): Promise<LoginBody> {
  const res = await postJson('/api/login', { username, password }, { 'CF-Connecting-IP': freshIp() });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return res.json();
}

export interface QrBody {
  qrcode_id: string;
  poll_token: string;
  scan_url: string;
  img: string;
  status: string;
  version: number;
  expires_at: string;
}

export async function createQr(headers: Record<string, string> = {}): Promise<QrBody> {
  const res = await api('/api/qrcodes', {
    method: 'POST',
    headers: { 'User-Agent': PC_UA, 'CF-Connecting-IP': freshIp(), ...headers },
  });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${await res.text()}`);
  return res.json();
}

/** A whole QR login: the phone scans and confirms, the PC collects its own token. */
export async function qrLogin(phoneToken: string, pcHeaders: Record<string, string> = {}): Promise<string> {
  const qr = await createQr(pcHeaders);
  await act(qr, 'scan', phoneToken);
  await act(qr, 'confirm', phoneToken);
  return ((await (await status(qr)).json()) as { token: string }).token;
}

/** The PC asks for its code to type (made on demand); the formatted code. */
export async function userCodeOf(qr: QrBody): Promise<string> {
  const res = await api(`/api/qrcodes/${qr.qrcode_id}/user-code`, {
    method: 'POST',
    headers: { 'X-Poll-Token': qr.poll_token },
  });
  if (res.status !== 200) throw new Error(`user-code failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { user_code: string }).user_code;
}

export function status(qr: QrBody, query = '', pollTokenValue = qr.poll_token): Promise<Response> {
  return api(`/api/qrcodes/${qr.qrcode_id}/status${query}`, { headers: { 'X-Poll-Token': pollTokenValue } });
}

export function act(qr: QrBody | string, step: 'scan' | 'confirm' | 'cancel', token: string, body?: unknown) {
  const id = typeof qr === 'string' ? qr : qr.qrcode_id;
  return api(`/api/qrcodes/${id}/${step}`, {
    method: 'POST',
    headers: { ...bearer(token), 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export function sessionObject(qr: QrBody | string) {
  const id = typeof qr === 'string' ? qr : qr.qrcode_id;
  return env.LOGIN_SESSION.get(env.LOGIN_SESSION.idFromString(id));
}

/** Moves the session's clock forward: its `expires_at` (and any end) now lie `ms` in the past. */
export async function ageSession(qr: QrBody | string, ms: number): Promise<void> {
  await runInDurableObject(sessionObject(qr), (_instance, state) => {
    const rec = state.storage.kv.get<LoginRecord>('session');
    if (!rec) throw new Error('no session to age');
    state.storage.kv.put('session', {
      ...rec,
      created_at: rec.created_at - ms,
      expires_at: rec.expires_at - ms,
      ended_at: rec.ended_at === null ? null : rec.ended_at - ms,
    });
  });
}

/** Everything the login's object stores (its record, and whether an alarm is set). */
export async function storedState(qr: QrBody | string) {
  return runInDurableObject(sessionObject(qr), async (_instance, state) => ({
    keys: [...state.storage.kv.list()].map(([key]) => key),
    alarm: await state.storage.getAlarm(),
  }));
}

export async function errorOf(
  res: Response,
): Promise<{ status: number; error: string; message: string; reason?: string }> {
  const body = (await res.json()) as { error: string; message: string; reason?: string };
  return { status: res.status, ...body };
}

/** Resolves to whether `promise` is still pending after the Worker has answered another request. */
export async function stillPending(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => {
    settled = true;
  });
  await api('/api/config');
  return !settled;
}

/** The user's sessions namespace, with every object failing as a reset object does. */
export function brokenUserSessions(): DurableObjectNamespace {
  const fail = () => Promise.reject(new Error('Network connection lost.'));
  const stub = new Proxy({}, { get: (_target, prop) => (prop === 'then' ? undefined : fail) });
  return {
    idFromName: (name: string) => env.USER_SESSIONS.idFromName(name),
    idFromString: (id: string) => env.USER_SESSIONS.idFromString(id),
    get: () => stub,
  } as unknown as DurableObjectNamespace;
}
