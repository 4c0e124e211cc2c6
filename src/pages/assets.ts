/**
 * @module
 * The pages in `public/`, served from Workers static assets with their security headers.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../http/app-env';
import { siteLogo } from './branding';

/** No inline script or style, nothing from another origin, never inside a frame. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  // data: for a SITE_LOGO given as a data: URL.
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The element's modules and the toolkit they share with the pages: other sites' pages load
 * them, and module scripts are fetched with CORS.
 */
const WIDGET = /^\/(widget\.js$|widget\/|kit\/)/;

export async function servePage(c: Context<AppEnv>): Promise<Response> {
  const asset = await c.env.ASSETS.fetch(c.req.raw);
  const res = new Response(asset.body, asset);
  res.headers.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.headers.set('X-Frame-Options', 'DENY');
  // The logo too: the element reads it with fetch() to draw it where the host page's CSP allows no image.
  if (WIDGET.test(c.req.path) || c.req.path === siteLogo(c.env)) res.headers.set('Access-Control-Allow-Origin', '*');
  return res;
}
