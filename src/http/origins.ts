/**
 * @module
 * Which pages may call the API from a browser: the Worker's own, and those whose origin is in
 * `ALLOWED_ORIGINS` (exact, a trailing slash ignored).
 */
import type { Context } from 'hono';
import { commaList } from '../env';
import type { AppEnv } from './app-env';
import { type ConfigCheck, type ConfigProblem, originProblem, problem } from './config-check';
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

/**
 * `ALLOWED_ORIGINS` as the Origin header spells a page's origin, each entry (`localhost:41100`
 * without its scheme matches nothing); `PUBLIC_ORIGIN` likewise, since links and tokens start with it.
 */
export const originChecks: ConfigCheck = (env) => {
  const found = commaList(env.ALLOWED_ORIGINS).map((entry) =>
    entry === '*'
      ? problem('ALLOWED_ORIGINS', 'has "*": list each origin, comma-separated; no wildcard is read')
      : whyNot('ALLOWED_ORIGINS entry', entry),
  );
  if (env.PUBLIC_ORIGIN) found.push(whyNot('PUBLIC_ORIGIN', env.PUBLIC_ORIGIN));
  return found.filter((p) => p !== null);
};

function whyNot(name: string, value: string): ConfigProblem | null {
  const why = originProblem(value);
  return why ? { name: name.split(' ')[0]!, message: `${name} ${why}` } : null;
}
