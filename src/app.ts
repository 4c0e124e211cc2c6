/**
 * @module
 * The Worker's router: the API under `/api/`, the well-known documents, the pages for everything
 * else, and the headers, CORS and error model every answer shares.
 */
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { describeRoute } from 'hono-openapi';
import { activityRoutes } from './activity/routes';
import { adminRoutes } from './admin/routes';
import type { AppEnv } from './http/app-env';
import { MAX_BODY_BYTES, MAX_HEADER_BYTES, onlyJsonBodies } from './http/body';
import { type ConfigCheck, checkConfigurationOnce } from './http/config-check';
import { ApiError, handleError, JSON_CONTENT_TYPE } from './http/errors';
import { answers, openApiDocument } from './http/openapi';
import { changesFromOwnPagesOnly } from './http/origin-guard';
import { allowedOrigins, originChecks } from './http/origins';
import { publicOrigin, siteName } from './http/site';
import { identityMode } from './identity';
import { identityChecks } from './identity/config-checks';
import { limitChecks } from './limits/limits';
import { codes } from './login/code-routes';
import { qrcodes } from './login/routes';
import { loginChecks } from './login/start';
import { authorizeEndpoint, authorizeError } from './oauth/authorize';
import { authorizeApi } from './oauth/authorize-api';
import { oauthChecks } from './oauth/config-checks';
import { deviceAuthorization } from './oauth/device-authorization';
import { endSessionEndpoint, endSessionError } from './oauth/end-session';
import { handleOAuthError } from './oauth/errors';
import { introspection } from './oauth/introspect';
import { oauthMetadata } from './oauth/metadata';
import { pushedAuthorization } from './oauth/par';
import { revocation } from './oauth/revoke';
import { tokenEndpoint } from './oauth/token';
import { userinfo } from './oauth/userinfo';
import { servePage } from './pages/assets';
import { brandingChecks, siteAccent, siteLogo } from './pages/branding';
import { originCheck } from './pages/origin-check';
import { ConfigAnswer } from './pages/schemas';
import { pagesRpId } from './passkeys';
import { passkeyChecks } from './passkeys/relying-party';
import { passkeyRoutes } from './passkeys/routes';
import { accounts } from './sessions/routes';
import { tokenChecks } from './tokens/config-checks';
import { jwks } from './tokens/jwks';
import { webhookChecks } from './webhooks/config';

/**
 * Every variable's check, each from the folder that owns the variable (`http/config-check.ts`):
 * run on an isolate's first request, and by `npm start`, `npm run dev` and `npm run doctor`.
 */
export const CONFIG_CHECKS: readonly ConfigCheck[] = [
  originChecks,
  tokenChecks,
  identityChecks,
  webhookChecks,
  passkeyChecks,
  brandingChecks,
  loginChecks,
  limitChecks,
  oauthChecks,
];

export const app = new Hono<AppEnv>();

// A mistake in the configuration is logged when the isolate starts serving, not only when (or if)
// a request trips over it.
app.use('*', async (c, next) => {
  checkConfigurationOnce(c.env, CONFIG_CHECKS, { origin: publicOrigin(c) });
  await next();
});

app.use('*', async (c, next) => {
  // Set before the checks too, so that the answer to a refused request carries them as well.
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'no-referrer');
  for (const [name, value] of c.req.raw.headers) {
    // A DPoP proof has a tighter cap of its own, refused with RFC 9449's error where proofs are read.
    if (name === 'dpop') continue;
    if (value.length > MAX_HEADER_BYTES) throw new ApiError('invalid_request', `The ${name} header is too long.`);
  }
  const length = Number(c.req.header('Content-Length') ?? 0);
  if (length > MAX_BODY_BYTES) {
    throw new ApiError('invalid_request', `The request body is larger than ${MAX_BODY_BYTES / 1024} KB.`);
  }
  await next();
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'no-referrer');
});

/** The preflight's answer for an allowed origin, spelled as the contract spells it. */
const corsOptions = (allowHeaders: string) =>
  cors({
    origin: (origin) => origin,
    // One string each, so the header reads `GET, POST, DELETE` (hono joins list items with a bare comma).
    allowMethods: ['GET, POST, DELETE'],
    allowHeaders: [allowHeaders],
    // A site's page reads a DPoP refusal's challenge and the nonce to retry with (RFC 9449).
    exposeHeaders: ['Retry-After, DPoP-Nonce, WWW-Authenticate'],
    maxAge: 600,
  });
const CORS_HEADERS = 'Authorization, Content-Type, X-Poll-Token';
const apiCors = corsOptions(CORS_HEADERS);
/** A preflight that asks to send a DPoP proof (a page of the site proving its key) is allowed that header too. */
const dpopCors = corsOptions(`${CORS_HEADERS}, DPoP`);
const asksForDpop = (requested: string | undefined) =>
  (requested ?? '').split(',').some((name) => name.trim().toLowerCase() === 'dpop');

/** Origins in `ALLOWED_ORIGINS` may call the API from their pages; no other origin gets a CORS header. */
app.use('/api/*', async (c, next) => {
  const origin = c.req.header('Origin');
  if (origin && allowedOrigins(c.env).includes(origin)) {
    return (asksForDpop(c.req.header('Access-Control-Request-Headers')) ? dpopCors : apiCors)(c, next);
  }
  // Any other origin gets no CORS header at all; the answer still varies with Origin.
  await next();
  if (c.env.ALLOWED_ORIGINS) c.header('Vary', 'Origin', { append: true });
});

app.use('/api/*', async (c, next) => {
  await next();
  c.header('Cache-Control', 'no-store');
  // Hono's c.json says only `application/json`: name the charset, as the contract says bodies are UTF-8.
  if (c.res.headers.get('Content-Type') === 'application/json') c.header('Content-Type', JSON_CONTENT_TYPE);
});

// Another site's page may neither change anything nor spend a visitor's allowance (origin-guard.ts).
app.use('/api/*', changesFromOwnPagesOnly);
app.use('/oauth/*', changesFromOwnPagesOnly);

app.use('/api/*', onlyJsonBodies);

app.get(
  '/api/config',
  describeRoute({
    summary: 'What the pages need to know about this server',
    tags: ['Pages'],
    responses: answers(
      200,
      ConfigAnswer,
      "Identity source, site name, number matching, the site's accent and logo, the passkeys' RP ID.",
      [500],
    ),
  }),
  (c) => {
    const identity = identityMode(c.env);
    return c.json({
      development: c.env.ENVIRONMENT === 'development',
      match_code: c.env.MATCH_CODE === 'on',
      site_name: siteName(c.env),
      identity,
      identity_login_url: identity === 'jwt' ? (c.env.IDENTITY_LOGIN_URL ?? null) : null,
      site_accent: siteAccent(c.env),
      site_logo: siteLogo(c.env),
      passkey_rp_id: pagesRpId(c),
    });
  },
);

app.route('/api/qrcodes', qrcodes);
app.route('/api/codes', codes);
app.route('/api/origin-check', originCheck);
app.route('/api', accounts);
app.route('/api/passkeys', passkeyRoutes);
app.route('/api/authorize', authorizeApi);
app.route('/api/activity', activityRoutes);
app.route('/api/admin', adminRoutes);
app.route('/.well-known', jwks);
app.get('/api/openapi.json', openApiDocument(app));
app.route('/', oauthMetadata);
app.route('/', authorizeEndpoint);
app.route('/', pushedAuthorization);
app.route('/', deviceAuthorization);
app.route('/', tokenEndpoint);
app.route('/', revocation);
app.route('/', introspection);
app.route('/', userinfo);
app.route('/', endSessionEndpoint);

/** Hono's `/x/:id` path as a pattern for a concrete path. */
const pattern = (path: string) => new RegExp(`^${path.replace(/:[^/]+/g, '[^/]+').replace(/\/$/, '')}/?$`);

/** The methods a path answers, from the routes themselves (so a new route needs no list here). */
function allowedMethods(path: string): string[] {
  const methods = app.routes
    .filter((r) => r.method !== 'ALL' && !r.path.includes('*') && pattern(r.path).test(path))
    .map((r) => r.method);
  return [...new Set(methods)];
}

app.all('/api/*', (c) => {
  const allowed = allowedMethods(c.req.path);
  if (allowed.length) {
    throw new ApiError('method_not_allowed', `Use ${allowed.join(', ')} here.`, { Allow: allowed.join(', ') });
  }
  throw new ApiError('not_found', 'There is no such API endpoint.');
});
app.all('/api', () => {
  throw new ApiError('not_found', 'There is no such API endpoint.');
});

app.get('*', servePage);
app.all('*', () => {
  throw new ApiError('method_not_allowed', 'Pages answer GET only.', { Allow: 'GET, HEAD' });
});

// The OAuth routes answer in RFC 6749's shape even when the shared checks above refuse a
// request before it reaches them (a header or a body too large); the authorize and end-session
// endpoints, which a browser reaches, with their pages.
app.onError((err, c) => {
  if (c.req.path === '/oauth/authorize') return authorizeError(err, c);
  if (c.req.path === '/oauth/end_session') return endSessionError(err, c);
  return c.req.path.startsWith('/oauth/') ? handleOAuthError(err, c) : handleError(err, c);
});
