/**
 * @module
 * What the phone is told beside the request it approves: the site's name, where the phone itself
 * is, and whether that differs from where the requester is (another country, or without
 * countries another IP network), so that a relayed QR from far away stands out before Confirm.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../http/app-env';
import { clientIp, clientPlace, placesDiffer } from '../http/request-info';
import { siteName } from '../http/site';
import type { Requester } from './state';

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
