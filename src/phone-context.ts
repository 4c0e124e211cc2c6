/**
 * @module
 * What the phone is told beside the request it approves: the site's name, where the phone itself
 * is, and whether that differs from where the requester is (another country, or without
 * countries another IP network), so that a relayed QR from far away stands out before Confirm.
 */
import type { Context } from 'hono';
import type { AppEnv } from './app-env';
import type { Requester } from './login/state';
import { clientIp, clientPlace } from './request-info';

export const DEFAULT_SITE_NAME = 'QR Login';

export const siteName = (env: AppEnv['Bindings']): string => env.SITE_NAME?.trim() || DEFAULT_SITE_NAME;

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

/** Where the phone that sends this request is: its IP, country and city. */
export const phonePlace = (c: Context<AppEnv>) => ({ ip: clientIp(c), ...clientPlace(c) });

/** The extra members of the scan answer. */
export function phoneContext(c: Context<AppEnv>, requester: Requester | undefined) {
  const phone = phonePlace(c);
  return {
    site_name: siteName(c.env),
    phone,
    location_differs: requester ? placesDiffer(requester, phone) : false,
  };
}
