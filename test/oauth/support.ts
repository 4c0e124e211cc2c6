/**
 * Shared steps for the device-flow tests: the Worker as an OAuth server that client libraries
 * reach through a custom fetch (no network), and the phone's side done through the API.
 */
import { runInDurableObject } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import type { LoginRecord } from '../../src/login/state';
import { act, api, freshIp, login, ORIGIN, sessionObject } from '../helpers';

export const CLIENT_ID = 'test-cli';
export const OTHER_CLIENT_ID = 'other-cli';
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const CLI_UA = 'acme-cli/1.4 (linux)';

/** What the client libraries call instead of the network: the Worker's own fetch handler. */
export const workerFetch = (url: string | URL | Request, init?: RequestInit): Promise<Response> =>
  exports.default.fetch(new Request(url, init));

/** A form POST, as an OAuth client sends it. */
export function postForm(path: string, params: Record<string, string> | string, headers: Record<string, string> = {}) {
  return api(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'User-Agent': CLI_UA, ...headers },
    body: typeof params === 'string' ? params : new URLSearchParams(params).toString(),
  });
}

export interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

/** Any device authorization answer, ours or a client library's type of it. */
type WithQr = { verification_uri_complete?: string };

/** Starts a device authorization for `clientId`, from an IP of its own. */
export async function authorizeDevice(clientId = CLIENT_ID, scope?: string): Promise<DeviceAuthorization> {
  const params: Record<string, string> = { client_id: clientId };
  if (scope) params.scope = scope;
  const res = await postForm('/oauth/device_authorization', params, { 'CF-Connecting-IP': freshIp() });
  if (res.status !== 200) throw new Error(`device authorization failed: ${res.status} ${await res.text()}`);
  return res.json();
}

/** One token poll for a device code. */
export function pollToken(deviceCode: string, clientId = CLIENT_ID): Promise<Response> {
  return postForm('/oauth/token', { grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, client_id: clientId });
}

/** An OAuth error answer: its status, code and description. */
export async function oauthErrorOf(res: Response) {
  const body = (await res.json()) as { error: string; error_description: string };
  return { status: res.status, ...body };
}

/** The QR id that the device's `verification_uri_complete` (the QR it shows) opens. */
export const qrcodeIdOf = (auth: WithQr): string =>
  new URL(auth.verification_uri_complete ?? '').searchParams.get('id') ?? '';

/** The phone signs in, scans the device's QR and confirms (or cancels). */
export async function phoneAnswers(
  auth: WithQr,
  answer: 'confirm' | 'cancel',
  user: [string, string] = ['dong', '111'],
) {
  const { token } = await login(...user);
  const id = qrcodeIdOf(auth);
  const scanned = await act(id, 'scan', token);
  if (scanned.status !== 200) throw new Error(`scan failed: ${scanned.status} ${await scanned.text()}`);
  const done = await act(id, answer, token);
  if (done.status !== 200) throw new Error(`${answer} failed: ${done.status} ${await done.text()}`);
  return token;
}

/** What the device's login's object stores, or null once it is gone. */
export function storedRecord(auth: WithQr): Promise<LoginRecord | null> {
  return runInDurableObject(
    sessionObject(qrcodeIdOf(auth)),
    (_instance, state) => state.storage.kv.get<LoginRecord>('session') ?? null,
  );
}

/** Moves the device's last poll `ms` into the past, as if the client had waited that long. */
export async function waitedSinceLastPoll(auth: WithQr, ms: number): Promise<void> {
  await runInDurableObject(sessionObject(qrcodeIdOf(auth)), (_instance, state) => {
    const rec = state.storage.kv.get<LoginRecord>('session');
    if (!rec?.device?.last_poll_at) throw new Error('no poll to move back');
    state.storage.kv.put('session', { ...rec, device: { ...rec.device, last_poll_at: rec.device.last_poll_at - ms } });
  });
}

export { ORIGIN };
