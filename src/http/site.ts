/**
 * @module
 * Who this site is: the origin this Worker is reached at, as links, QR codes and tokens name it
 * (`PUBLIC_ORIGIN` when set: a phone on the LAN, a custom domain; else the request's own origin),
 * and its name (`SITE_NAME`) as the phone and passkeys show it.
 */
import type { Context } from 'hono';
import type { AppEnv } from './app-env';

export function publicOrigin(c: Context<AppEnv>): string {
  return c.env.PUBLIC_ORIGIN?.replace(/\/+$/, '') || new URL(c.req.url).origin;
}

export const DEFAULT_SITE_NAME = 'QR Login';

export const siteName = (env: AppEnv['Bindings']): string => env.SITE_NAME?.trim() || DEFAULT_SITE_NAME;
