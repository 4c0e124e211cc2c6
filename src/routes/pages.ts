/**
 * @module
 * The pages in `public/`, served from Workers static assets with their security headers.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../app-env';

/** No inline script, nothing from another origin, never inside a frame. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The widget's modules: other sites' pages load them, and module scripts are fetched with CORS. */
const WIDGET = /^\/widget(\.js$|\/)/;

export async function servePage(c: Context<AppEnv>): Promise<Response> {
  const asset = await c.env.ASSETS.fetch(c.req.raw);
  const res = new Response(asset.body, asset);
  res.headers.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.headers.set('X-Frame-Options', 'DENY');
  if (WIDGET.test(c.req.path)) res.headers.set('Access-Control-Allow-Origin', '*');
  return res;
}
