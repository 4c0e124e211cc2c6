/**
 * Shared steps for the activity tests: an account of its own for each test (the seed has two, and
 * a test file's objects outlive each test), requests whose background work (`waitUntil`) is
 * awaited, what a user's object hands to the audit queue, and the audit queue's consumer fed
 * with the batches the queue would deliver.
 */
import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { app } from '../../src/app';
import type { Env } from '../../src/env';
import { hashPassword } from '../../src/identity/passwords';
import type { ActivityEvent, AuditMessage } from '../../src/user';
import { api, bearer, freshIp, ORIGIN, postJson } from '../helpers';
import { userObject } from '../sessions/support';

export const PHONE_UA =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36';

export interface Account {
  id: string;
  username: string;
  password: string;
}

let made = 0;
/** A new account in D1 (`IDENTITY=accounts`), its own user's object untouched yet. */
export async function newAccount(prefix = 'user'): Promise<Account> {
  made++;
  const account = {
    id: `u_${prefix}_${made}_${crypto.randomUUID().slice(0, 8)}`,
    username: `${prefix}${made}`,
    password: `pw-${made}`,
  };
  await env.DB.prepare('INSERT INTO users (id, username, display_name, password_hash) VALUES (?, ?, ?, ?)')
    .bind(account.id, account.username, `Name ${made}`, await hashPassword(account.password))
    .run();
  return account;
}

export interface SignedIn {
  token: string;
  refresh_token: string;
  sid: string;
}

/** A password sign-in of `account` from `ip`, as a phone. */
export async function signIn(account: Account, ip = freshIp(), ua = PHONE_UA): Promise<SignedIn> {
  const res = await postJson(
    '/api/login',
    { username: account.username, password: account.password },
    { 'CF-Connecting-IP': ip, 'User-Agent': ua },
  );
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { token: string; refresh_token: string };
  const sid = JSON.parse(atob(body.token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))).sid as string;
  return { ...body, sid };
}

/** A request through the Worker whose background work has finished when it resolves. */
export async function settled(request: Request, bindings: Env = env): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(request, bindings, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** `POST path` with a JSON body, its background work awaited. */
export const postSettled = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  settled(
    new Request(`${ORIGIN}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(body),
    }),
  );

/** `GET /api/activity` with `token`: the answer's status and body. */
export async function activityOf(token: string): Promise<{ status: number; body: ActivityEvent[] }> {
  const res = await api('/api/activity', { headers: bearer(token) });
  return { status: res.status, body: (await res.json()) as ActivityEvent[] };
}

/**
 * Records what `userId`'s object hands to the `AUDIT` queue from now on (its instance's binding
 * replaced by a recorder): every message, in order.
 */
export async function auditSent(userId: string): Promise<AuditMessage[]> {
  const sent: AuditMessage[] = [];
  await runInDurableObject(userObject(userId), (instance) => {
    const object = instance as unknown as { env: Env };
    const queue = { send: async (message: AuditMessage) => void sent.push(message) } as unknown as Queue<AuditMessage>;
    object.env = { ...object.env, AUDIT: queue };
  });
  return sent;
}
