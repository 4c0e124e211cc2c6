/**
 * Shared steps for the passkey tests: the endpoints called as a phone page calls them (with the
 * Worker's own configuration, or with some of it changed), a passkey registered in one go, and
 * a look inside the objects that keep passkeys and challenges.
 */
import { runInDurableObject } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { expect } from 'vitest';
import { app } from '../../src/app';
import type { Env } from '../../src/env';
import type { CreationOptions, RequestOptions } from '../../src/passkeys';
import { bearer, freshIp, ORIGIN } from '../helpers';
import { userObject } from '../sessions/support';
import { type Algorithm, Authenticator } from './authenticator';

export const ANDROID_CHROME =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36';

export interface Call {
  method?: string;
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Variables to change for this request (IDENTITY, ALLOWED_ORIGINS, PASSKEY_RP_ID…). */
  vars?: Partial<Env>;
}

/** A request to the Worker as a page sends it, from an IP of its own. */
export async function call(
  path: string,
  { method = 'GET', token, body, headers = {}, vars }: Call = {},
): Promise<Response> {
  const all: Record<string, string> = { 'CF-Connecting-IP': freshIp(), 'User-Agent': ANDROID_CHROME, ...headers };
  if (token) Object.assign(all, bearer(token));
  if (body !== undefined) all['Content-Type'] = 'application/json';
  const request = new Request(`${ORIGIN}${path}`, {
    method,
    headers: all,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  if (!vars) return exports.default.fetch(request);
  return app.fetch(request, { ...env, ...vars }, {
    waitUntil: () => {},
    passThroughOnException: () => {},
    props: {},
  } as unknown as ExecutionContext);
}

export async function creationOptions(token: string, vars?: Partial<Env>): Promise<CreationOptions> {
  const res = await call('/api/passkeys/register/options', { method: 'POST', token, vars });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

export async function signInOptions(vars?: Partial<Env>): Promise<RequestOptions> {
  const res = await call('/api/passkeys/login/options', { method: 'POST', vars });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

/** Makes a passkey on a new software authenticator and registers it for the token's user. */
export async function addPasskey(
  token: string,
  options: { algorithm?: Algorithm; synced?: boolean; counts?: boolean; name?: string; vars?: Partial<Env> } = {},
): Promise<Authenticator> {
  const authenticator = await Authenticator.create(options);
  const credential = await authenticator.register(await creationOptions(token, options.vars));
  const body = options.name === undefined ? credential : { ...credential, name: options.name };
  const res = await call('/api/passkeys/register', { method: 'POST', token, body, vars: options.vars });
  expect(res.status, await res.clone().text()).toBe(201);
  return authenticator;
}

export async function passkeysOf(token: string, vars?: Partial<Env>) {
  const res = await call('/api/passkeys', { token, vars });
  expect(res.status).toBe(200);
  return (await res.json()) as { id: string; name: string; created_at: string; last_used_at: string | null }[];
}

export interface StoredPasskey {
  id: string;
  counter: number;
  backed_up: number;
  last_used_at: number | null;
}

/** Passkey `id` as the user object `object` stores it (null: not there). */
export async function storedPasskey(id: string, object = 'accounts:u_dong'): Promise<StoredPasskey | null> {
  const rows = await inObject<StoredPasskey>(
    object,
    'SELECT id, counter, backed_up, last_used_at FROM passkeys WHERE id = ?',
    id,
  );
  return rows[0] ?? null;
}

/** The challenges the user object `object` keeps, as stored. */
export function storedChallenges(object = 'accounts:u_dong') {
  return inObject<{ challenge: string; purpose: string; binding: string; expires_at: number }>(
    object,
    'SELECT * FROM challenges ORDER BY expires_at',
  );
}

/** Runs SQL in the user object named `name` (`<identity source>:<user id>`). */
export function inObject<T>(name: string, sql: string, ...bindings: SqlStorageValue[]): Promise<T[]> {
  const stub = env.USER_SESSIONS.get(env.USER_SESSIONS.idFromName(name));
  return runInDurableObject(stub, (_instance, state) => state.storage.sql.exec(sql, ...bindings).toArray() as T[]);
}

export { userObject };
