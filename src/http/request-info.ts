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
import type { Env } from '../env';
import type { Requester } from '../login/state';
import type { SignInFrom } from '../user/types';
import { constantTimeEqual } from './crypto';

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

export function signInFrom(r: Requester): SignInFrom {
  return { user_agent: r.user_agent, ip: r.ip, place: placeOf(r) };
}

/** The network an address belongs to: the /24 of an IPv4 address, the /48 of an IPv6 one. */
export function ipNetwork(ip: string): string | null {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) return ip.split('.').slice(0, 3).join('.');
  if (!ip.includes(':')) return null;
  // Expand `::` so that the first three groups are the /48.
  const [head = '', tail] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return groups.length >= 3
    ? groups
        .slice(0, 3)
        .map((g) => g.replace(/^0+(?=.)/, ''))
        .join(':')
    : null;
}

/** Whether two places differ: by country when both are known, else by IP network. */
export function placesDiffer(
  a: { country: string | null; ip: string },
  b: { country: string | null; ip: string },
): boolean {
  if (a.country && b.country) return a.country !== b.country;
  const na = ipNetwork(a.ip);
  const nb = ipNetwork(b.ip);
  return na !== null && nb !== null && na !== nb;
}
