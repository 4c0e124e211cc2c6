/**
 * @module
 * The origin this Worker is reached at, as links, QR codes and tokens name it: `PUBLIC_ORIGIN`
 * when set (a phone on the LAN, a custom domain), else the request's own origin.
 */
import type { Context } from 'hono';
import type { AppEnv } from './app-env';

export function publicOrigin(c: Context<AppEnv>): string {
  return c.env.PUBLIC_ORIGIN?.replace(/\/+$/, '') || new URL(c.req.url).origin;
}
