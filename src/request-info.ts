/**
 * @module
 * Who is asking: the User-Agent, the client IP and the place Cloudflare puts in `request.cf`.
 * The phone shows these before it confirms; the linked-device list shows them afterwards; the
 * client IP is the key of the per-IP limits.
 *
 * On Cloudflare the platform sets `CF-Connecting-IP` and `request.cf`, and no client can. A
 * local runtime (Miniflare, under `wrangler dev` and `npm start`) keeps a `CF-Connecting-IP`
 * and an `MF-CF-Blob` that the client sent, so locally the Worker sits behind a front
 * (`scripts/local-front.mjs`) that sets `CF-Connecting-IP` from the connection and drops what
 * the client sent. The front passes its per-run secret in `X-Local-Front`; with
 * `LOCAL_FRONT_SECRET` set, a request without it did not come through the front and has no
 * address the Worker can believe.
 */
import type { Context } from 'hono';
import { constantTimeEqual } from './crypto';
import type { Env } from './env';
import type { Requester } from './login/state';
import type { DeviceInfo } from './sessions/user-sessions';

const MAX_USER_AGENT = 512;
export const LOCAL_FRONT_HEADER = 'X-Local-Front';

/** Whether `CF-Connecting-IP` was set by who the Worker trusts: the platform, or the local front. */
function trustedHeaders(c: Context): boolean {
  const secret = (c.env as Env | undefined)?.LOCAL_FRONT_SECRET;
  return !secret || constantTimeEqual(c.req.header(LOCAL_FRONT_HEADER) ?? '', secret);
}

/** Whether this request came through the local front (a local server: `request.cf` is a placeholder). */
function local(c: Context): boolean {
  return Boolean((c.env as Env | undefined)?.LOCAL_FRONT_SECRET);
}

export function clientIp(c: Context): string {
  if (!trustedHeaders(c)) return '';
  return (c.req.header('CF-Connecting-IP') ?? '').slice(0, 64);
}

/** The client's country and city from `request.cf`; unknown on a local server, whose `cf` is a placeholder. */
export function clientPlace(c: Context): { country: string | null; city: string | null } {
  const cf = local(c) ? undefined : (c.req.raw.cf as { country?: unknown; city?: unknown } | undefined);
  return {
    country: typeof cf?.country === 'string' ? cf.country : null,
    city: typeof cf?.city === 'string' ? cf.city : null,
  };
}

export function requester(c: Context): Requester {
  return {
    user_agent: (c.req.header('User-Agent') ?? '').slice(0, MAX_USER_AGENT),
    ip: clientIp(c),
    ...clientPlace(c),
    created_at: new Date().toISOString(),
  };
}

export function placeOf(r: Pick<Requester, 'country' | 'city'>): string | null {
  return [r.city, r.country].filter(Boolean).join(', ') || null;
}

export function deviceOf(r: Requester): DeviceInfo {
  return { user_agent: r.user_agent, ip: r.ip, place: placeOf(r) };
}
