/**
 * Shared steps for the session tests: refreshing, revoking and introspecting through the OAuth
 * endpoints as a page or a client does, looking inside a user's sessions object, moving its
 * clock, and capturing the webhook events a request queues.
 */
import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { app } from '../../src/app';
import type { UserSessions } from '../../src/user/user-object';
import type { QueuedEvent } from '../../src/webhooks/events';
import { ORIGIN } from '../helpers';
import { postForm } from '../oauth/support';
import { newSecret } from '../webhooks/support';

export const REFRESH_GRANT = 'refresh_token';
/** One of INTROSPECTION_CLIENTS in vitest.config.ts. */
export const INTROSPECTOR = { id: 'site-backend', secret: 'a secret of the site’s backend' };

/** A refresh (RFC 6749 §6) as a page sends it, or a client when `clientId` is given. */
export function refresh(refreshToken: string, clientId?: string, extra: Record<string, string> = {}) {
  const params: Record<string, string> = { grant_type: REFRESH_GRANT, refresh_token: refreshToken, ...extra };
  if (clientId) params.client_id = clientId;
  return postForm('/oauth/token', params);
}

export interface Refreshed {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  token_type: string;
  id_token?: string;
}

export function revoke(token: string, extra: Record<string, string> = {}) {
  return postForm('/oauth/revoke', { token, ...extra });
}

export const basic = (id: string, secret: string) => ({
  Authorization: `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`,
});

export async function introspect(token: string): Promise<Record<string, unknown>> {
  const res = await postForm('/oauth/introspect', { token }, basic(INTROSPECTOR.id, INTROSPECTOR.secret));
  if (res.status !== 200) throw new Error(`introspection failed: ${res.status} ${await res.text()}`);
  return res.json();
}

/** The sessions object of one of our accounts' users. */
export function userObject(userId = 'u_dong'): DurableObjectStub<UserSessions> {
  return env.USER_SESSIONS.get(env.USER_SESSIONS.idFromName(`accounts:${userId}`));
}

/** Runs SQL inside a user's object (to move its clock, or to look). */
export function inUserObject<T>(userId: string, sql: string, ...bindings: SqlStorageValue[]): Promise<T[]> {
  return runInDurableObject(
    userObject(userId),
    (_instance, state) => state.storage.sql.exec(sql, ...bindings).toArray() as T[],
  );
}

/** Every rotation of the user's sessions now lies `ms` further in the past. */
export const ageRotations = (userId: string, ms: number) =>
  inUserObject(userId, 'UPDATE rotated SET rotated_at = rotated_at - ?', ms);

/** Every event of the user's recent activity now lies `ms` further in the past. */
export const ageActivity = (userId: string, ms: number) => inUserObject(userId, 'UPDATE activity SET at = at - ?', ms);

/** A request through the Worker with webhooks on: its answer, and the events it queued. */
export async function withWebhooks(
  request: Request,
): Promise<{ res: Response; events: { type: string; data: Record<string, unknown> }[] }> {
  const sent: QueuedEvent[] = [];
  const queue = { send: async (event: QueuedEvent) => void sent.push(event) } as unknown as Queue<QueuedEvent>;
  const bindings = { ...env, WEBHOOK_URL: 'https://site.example/hooks', WEBHOOK_SECRET: newSecret(), WEBHOOKS: queue };
  const ctx = createExecutionContext();
  const res = await app.fetch(request, bindings, ctx);
  await waitOnExecutionContext(ctx);
  return { res, events: sent.map((e) => JSON.parse(e.payload)) };
}

/** A form POST as a `Request`, for `withWebhooks`. */
export const formRequest = (path: string, params: Record<string, string>, headers: Record<string, string> = {}) =>
  new Request(`${ORIGIN}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params),
  });
