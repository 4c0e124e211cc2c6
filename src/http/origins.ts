/**
 * @module
 * Which pages may call the API from a browser: the Worker's own, and those whose origin is in
 * `ALLOWED_ORIGINS` (exact, a trailing slash ignored).
 */
import type { Context } from 'hono';
import { commaList } from '../env';
import type { AppEnv } from './app-env';
import { publicOrigin } from './site';

/** The origins of `ALLOWED_ORIGINS`. */
export const allowedOrigins = (env: AppEnv['Bindings']) =>
  commaList(env.ALLOWED_ORIGINS).map((o) => o.replace(/\/+$/, ''));

/**
 * Whether a page whose request came with this `Origin` header may call the API: a page of
 * the Worker's own origin (as reached, or `PUBLIC_ORIGIN`), or one in `ALLOWED_ORIGINS`. A
 * request without `Origin` is not a browser's cross-origin call: nothing stops it.
 */
export function originAllowed(c: Context<AppEnv>, origin: string | null): boolean {
  if (origin === null) return true;
  return origin === new URL(c.req.url).origin || origin === publicOrigin(c) || allowedOrigins(c.env).includes(origin);
}
