/**
 * Shared steps for the admin tests: the Worker with `ADMIN_USERS` set and an audit queue that
 * records what the routes queue themselves, an admin account with a passkey, confirmed or not.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { expect } from 'vitest';
import { app } from '../../src/app';
import type { Env } from '../../src/env';
import type { AuditMessage } from '../../src/user';
import { type Account, newAccount, PHONE_UA, type SignedIn, signIn } from '../activity/support';
import { bearer, freshIp, ORIGIN } from '../helpers';
import type { Authenticator } from '../passkeys/authenticator';
import { addPasskey } from '../passkeys/support';

export interface AdminCall {
  method?: string;
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  vars?: Partial<Env>;
}

/** Every message the routes queued for the audit log themselves, in order. */
export const routeAudit: AuditMessage[] = [];
const recorder = { send: async (m: AuditMessage) => void routeAudit.push(m) } as unknown as Queue<AuditMessage>;

/** A request to the Worker with `ADMIN_USERS` = `admins`, its background work awaited. */
export async function adminCall(
  admins: string,
  path: string,
  { method = 'GET', token, body, headers = {}, vars = {} }: AdminCall = {},
): Promise<Response> {
  const all: Record<string, string> = { 'CF-Connecting-IP': freshIp(), 'User-Agent': PHONE_UA, ...headers };
  if (token) Object.assign(all, bearer(token));
  if (body !== undefined) all['Content-Type'] = 'application/json';
  const ctx = createExecutionContext();
  const request = new Request(`${ORIGIN}${path}`, {
    method,
    headers: all,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const res = await app.fetch(request, { ...env, ADMIN_USERS: admins, AUDIT: recorder, ...vars } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

export interface Admin extends Account {
  session: SignedIn;
  passkey: Authenticator;
  /** `adminCall` as this admin, signed in. */
  call: (path: string, options?: AdminCall) => Promise<Response>;
  /** Confirms with the passkey (the step-up): the answer. */
  stepUp: () => Promise<Response>;
}

/** A new admin (by id in `ADMIN_USERS`), signed in with a password, with a passkey; not confirmed yet. */
export async function newAdmin(also: string[] = []): Promise<Admin> {
  const account = await newAccount('boss');
  const session = await signIn(account);
  const passkey = await addPasskey(session.token);
  const admins = [account.id, ...also].join(',');
  const call = (path: string, options: AdminCall = {}) => adminCall(admins, path, { token: session.token, ...options });
  const stepUp = async () => {
    const res = await call('/api/admin/step-up/options', { method: 'POST' });
    expect(res.status, await res.clone().text()).toBe(200);
    const options = (await res.json()) as { challenge: string };
    return call('/api/admin/step-up', { method: 'POST', body: { passkey: await passkey.assert(options) } });
  };
  return { ...account, session, passkey, call, stepUp };
}

/** A new admin who has confirmed with their passkey. */
export async function confirmedAdmin(): Promise<Admin> {
  const admin = await newAdmin();
  expect((await admin.stepUp()).status).toBe(200);
  return admin;
}

export async function errorOf(res: Response) {
  return { status: res.status, ...((await res.json()) as { error: string; message: string }) };
}
