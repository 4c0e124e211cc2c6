/**
 * @module
 * Another site's page cannot spend a visitor's quotas. `POST /api/qrcodes` (no body) and
 * `POST /oauth/device_authorization` (a form body) need no CORS preflight, so any page can have
 * the visitor's browser send them (`mode: 'no-cors'`), and each counts toward the limit of the
 * visitor's IP: 120 of them and the visitor's own QR page gets 429 for a minute. So a request
 * that a browser sent from a page of another origin is refused with 403 `forbidden` before
 * anything is counted or read:
 *
 * - with an `Origin` header (browsers send one with every POST), it must be the Worker's own
 *   origin (the request's, or `PUBLIC_ORIGIN`) or one in `ALLOWED_ORIGINS`. `Origin: null` (a
 *   sandboxed frame, a `data:` page) is refused: whoever it is, it is not one of ours.
 * - without one, `Sec-Fetch-Site: cross-site` or `same-site` is refused. A sibling subdomain is
 *   another site's page as far as quotas go: it is allowed only by being in `ALLOWED_ORIGINS`,
 *   and then its browser names it in `Origin`. `same-origin` and `none` (the user's own action)
 *   pass.
 * - with neither header (a CLI, curl, a site's backend), nothing is refused: they are no
 *   visitor's browser, and the per-IP limit counts them as their own.
 *
 * `app.ts` puts every request under `/api/` and `/oauth/` that may change something or spend an
 * allowance (any method but GET, HEAD and OPTIONS) behind it (`changesFromOwnPagesOnly`), so that
 * a new route is guarded without a word.
 */
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { commaList } from '../env';
import type { AppEnv } from './app-env';
import { ApiError } from './errors';
import { publicOrigin } from './site';

/** An origin in the one spelling browsers send (`https://a.example`, default port left out); null if it is none. */
function normalised(origin: string): string | null {
  try {
    const url = new URL(origin);
    return url.origin === 'null' ? null : url.origin;
  } catch {
    return null;
  }
}

/** Why the request comes from another site's page, or null when it does not. */
function crossSiteReason(c: Context<AppEnv>): string | null {
  const origin = c.req.header('Origin');
  if (origin !== undefined) {
    const ours = [new URL(c.req.url).origin, publicOrigin(c), ...commaList(c.env.ALLOWED_ORIGINS)].map(normalised);
    const theirs = normalised(origin);
    if (theirs && ours.includes(theirs)) return null;
    return `A page of ${theirs ?? 'an unknown origin'} may not do this here: only this server's own pages and those of ALLOWED_ORIGINS may.`;
  }
  const site = c.req.header('Sec-Fetch-Site')?.toLowerCase();
  if (site === 'cross-site' || site === 'same-site') {
    return 'A page of another site may not do this here: only this server’s own pages and those of ALLOWED_ORIGINS may.';
  }
  return null;
}

/** 403 `forbidden` for a request that another site's page sent from a visitor's browser. */
export const ownPagesOnly = createMiddleware<AppEnv>(async (c, next) => {
  const reason = crossSiteReason(c);
  if (reason) throw new ApiError('forbidden', reason);
  await next();
});

/** Methods that change nothing and spend nothing (OPTIONS: a preflight, which CORS answers). */
const READS = ['GET', 'HEAD', 'OPTIONS'];

/**
 * Endpoints that another site's page sends its visitor to by design, a form POST included (an
 * OpenID client's authorization request, its sign-out request): they spend nothing, and what
 * they change is guarded by their own means (a sign-out needs a valid `id_token_hint`, or the
 * answer of its own question's page, tied to the browser's cookie: `oauth/end-session.ts`).
 */
const NAVIGATIONS = ['/oauth/authorize', '/oauth/end_session'];

/** `ownPagesOnly` for every request that may change something or spend an allowance: any method but a read. */
export const changesFromOwnPagesOnly = createMiddleware<AppEnv>(async (c, next) => {
  if (READS.includes(c.req.method) || NAVIGATIONS.includes(c.req.path)) return next();
  return ownPagesOnly(c, next);
});
