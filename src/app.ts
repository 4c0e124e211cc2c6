/**
 * @module
 * The Worker's router: the API under `/api/`, the pages for everything else, and the
 * headers and error model every answer shares.
 */
import { Hono } from 'hono';
import type { AppEnv } from './app-env';
import { ApiError, handleError, JSON_CONTENT_TYPE } from './errors';
import { deviceFlow } from './oauth/device';
import { handleOAuthError } from './oauth/errors';
import { oauthMetadata } from './oauth/metadata';
import { accounts } from './routes/accounts';
import { codes } from './routes/codes';
import { servePage } from './routes/pages';
import { qrcodes } from './routes/qrcodes';
import { jwks } from './tokens/jwks';
import { MAX_BODY_BYTES, MAX_HEADER_BYTES } from './validate';

export const app = new Hono<AppEnv>();

app.use('*', async (c, next) => {
  // Set before the checks too, so that the answer to a refused request carries them as well.
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'no-referrer');
  for (const [name, value] of c.req.raw.headers) {
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

app.use('/api/*', async (c, next) => {
  await next();
  c.header('Cache-Control', 'no-store');
  // Hono's c.json says only `application/json`: name the charset, as the contract says bodies are UTF-8.
  if (c.res.headers.get('Content-Type') === 'application/json') c.header('Content-Type', JSON_CONTENT_TYPE);
});

/** What the pages need to know about this server. */
app.get('/api/config', (c) =>
  c.json({
    development: c.env.ENVIRONMENT === 'development',
    match_code: c.env.MATCH_CODE === 'on',
  }),
);

app.route('/api/qrcodes', qrcodes);
app.route('/api/codes', codes);
app.route('/api', accounts);
app.route('/.well-known', jwks);
app.route('/', oauthMetadata);
app.route('/', deviceFlow);

/** Known API paths answer other methods with 405; anything else under /api/ is 404. */
const ALLOWED: [RegExp, string][] = [
  [/^\/api\/qrcodes$/, 'POST'],
  [/^\/api\/qrcodes\/[^/]+\/status$/, 'GET'],
  [/^\/api\/qrcodes\/[^/]+\/(scan|confirm|cancel)$/, 'POST'],
  [/^\/api\/codes\/resolve$/, 'POST'],
  [/^\/api\/(login|logout)$/, 'POST'],
  [/^\/api\/(me|config)$/, 'GET'],
  [/^\/api\/sessions$/, 'GET'],
  [/^\/api\/sessions\/[^/]+$/, 'DELETE'],
];

app.all('/api/*', (c) => {
  const allowed = ALLOWED.find(([pattern]) => pattern.test(c.req.path))?.[1];
  if (allowed) throw new ApiError('method_not_allowed', `Use ${allowed} here.`, { Allow: allowed });
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
// request before it reaches them (a header or a body too large).
app.onError((err, c) => (c.req.path.startsWith('/oauth/') ? handleOAuthError(err, c) : handleError(err, c)));
