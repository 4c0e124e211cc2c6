/**
 * @module
 * `GET /.well-known/jwks.json`: the public halves of the signing keys (current and previous),
 * so that any backend verifies our tokens without a shared secret. Never a private part.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../app-env';
import { keyRing } from './keys';

export const jwks = new Hono<AppEnv>().get('/jwks.json', (c) => {
  c.header('Cache-Control', 'public, max-age=300');
  c.header('Access-Control-Allow-Origin', '*');
  return c.json({ keys: keyRing(c.env).verifying });
});
