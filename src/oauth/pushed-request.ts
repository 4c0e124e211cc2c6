/**
 * @module
 * `PushedRequest`: one Durable Object per pushed authorization request (RFC 9126). The request
 * URI must work once, so it cannot be a signed statement (a JWS can be replayed until it
 * expires): something must remember that it was used. No user is known when a client pushes,
 * so the user's object cannot hold it, and a table that every sign-in shares is what the design
 * avoids; one small object per request, named by the request URI itself
 * (`urn:ietf:params:oauth:request_uri:<the object's id>`), costs one write to keep it, one to
 * spend it, and forgets itself by an alarm a minute later if nobody came. A made-up request URI
 * never wakes an object (`idFromString` refuses ids this namespace did not issue).
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import { namedObject } from '../http/named-object';

const KEY = 'request';

/** How long a request URI may be used (RFC 9126 §2.2 suggests 5 to 600 seconds). */
export const PUSHED_REQUEST_TTL_S = 60;
export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';

interface Stored {
  client_id: string;
  params: Record<string, string>;
  expires_at: number;
}

export class PushedRequest extends DurableObject<Env> {
  /** Keeps the pushed parameters of `clientId` until `expiresAt`. */
  async keep(clientId: string, params: Record<string, string>, expiresAt: number): Promise<void> {
    this.ctx.storage.kv.put<Stored>(KEY, { client_id: clientId, params, expires_at: expiresAt });
    await this.ctx.storage.setAlarm(expiresAt);
  }

  /**
   * The parameters, while they live and only for the client that pushed them; `spend` uses them
   * up (decided before the first await, so of two concurrent uses exactly one gets them).
   */
  async read(clientId: string, spend: boolean): Promise<Record<string, string> | null> {
    const stored = this.ctx.storage.kv.get<Stored>(KEY);
    if (!stored || stored.client_id !== clientId || Date.now() >= stored.expires_at) return null;
    if (spend) {
      this.ctx.storage.kv.delete(KEY);
      await this.ctx.storage.deleteAll();
    }
    return stored.params;
  }

  override async alarm(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }
}

/** The object a request URI names, or null for anything this Worker did not issue. */
export function pushedRequestObject(env: Env, requestUri: string): DurableObjectStub<PushedRequest> | null {
  if (!requestUri.startsWith(REQUEST_URI_PREFIX)) return null;
  return namedObject(env.PUSHED_REQUEST, requestUri.slice(REQUEST_URI_PREFIX.length));
}
