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

/** The asset `request` asks for, with the pages' security headers. */
async function withPageHeaders(c: Context<AppEnv>, request: Request): Promise<Response> {
  const asset = await c.env.ASSETS.fetch(request);
  const res = new Response(asset.body, asset);
  res.headers.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.headers.set('X-Frame-Options', 'DENY');
  return res;
}

/**
 * The page at `path` (`/authorize`, say) as the answer to a request for another address (a
 * route that decided to show it), with the pages' headers; never cached, since the route decided.
 */
export async function pageAt(c: Context<AppEnv>, path: string): Promise<Response> {
  const res = await withPageHeaders(c, new Request(new URL(path, c.req.url), { headers: c.req.raw.headers }));
  res.headers.set('Cache-Control', 'no-store');
  return res;
}

export async function servePage(c: Context<AppEnv>): Promise<Response> {
  const res = await withPageHeaders(c, c.req.raw);
  // The logo too: the element reads it with fetch() to draw it where the host page's CSP allows no image.
  if (WIDGET.test(c.req.path) || c.req.path === siteLogo(c.env)) res.headers.set('Access-Control-Allow-Origin', '*');
  return res;
}
