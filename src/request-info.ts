/**
 * @module
 * Who is asking: the User-Agent, the client IP and the place Cloudflare puts in `request.cf`.
 * The phone shows these before it confirms; the linked-device list shows them afterwards.
 */
import type { Context } from 'hono';
import type { DeviceInfo } from './accounts/devices';
import type { Requester } from './session/state';

const MAX_USER_AGENT = 512;

export function clientIp(c: Context): string {
  return (c.req.header('CF-Connecting-IP') ?? '').slice(0, 64);
}

export function requester(c: Context): Requester {
  const cf = c.req.raw.cf as { country?: unknown; city?: unknown } | undefined;
  return {
    user_agent: (c.req.header('User-Agent') ?? '').slice(0, MAX_USER_AGENT),
    ip: clientIp(c),
    country: typeof cf?.country === 'string' ? cf.country : null,
    city: typeof cf?.city === 'string' ? cf.city : null,
    created_at: new Date().toISOString(),
  };
}

export function placeOf(r: Pick<Requester, 'country' | 'city'>): string | null {
  return [r.city, r.country].filter(Boolean).join(', ') || null;
}

export function deviceOf(r: Requester): DeviceInfo {
  return { user_agent: r.user_agent, ip: r.ip, place: placeOf(r) };
}
