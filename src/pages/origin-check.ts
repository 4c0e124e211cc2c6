/**
 * @module
 * `GET /api/origin-check`: whether the asking page's origin may call the API. Answered to every
 * origin (`Access-Control-Allow-Origin: *`), so that `<qr-login>` on a page whose origin is not
 * in `ALLOWED_ORIGINS` can say so in words instead of taking the refusal for a lost connection
 * (a browser shows a CORS refusal to a script exactly like a network failure).
 */
import { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import type { AppEnv } from '../http/app-env';
import { answers } from '../http/openapi';
import { originAllowed } from '../http/origins';
import { OriginCheckAnswer } from './schemas';

export const originCheck = new Hono<AppEnv>().get(
  '/',
  describeRoute({
    summary: "Whether this page's origin may call the API",
    description:
      "For the request's `Origin` (null without one): allowed when it is this Worker's own origin or is listed in `ALLOWED_ORIGINS`. " +
      'Readable from any origin.',
    tags: ['Pages'],
    responses: answers(200, OriginCheckAnswer, 'The origin, and whether it may call the API.'),
  }),
  (c) => {
    const origin = c.req.header('Origin') ?? null;
    // Every origin may read this answer (the CORS middleware names only allowed ones); it says nothing secret.
    c.header('Access-Control-Allow-Origin', '*');
    return c.json({ origin, allowed: originAllowed(c, origin) });
  },
);
