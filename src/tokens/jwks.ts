/**
 * @module
 * `GET /.well-known/jwks.json`: the public halves of the signing keys (current and previous),
 * so that any backend verifies our tokens without a shared secret. Never a private part.
 */
import { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import * as v from 'valibot';
import type { AppEnv } from '../http/app-env';
import { answers } from '../http/openapi';
import { keyRing } from './keys';

const JwksAnswer = v.object({
  keys: v.array(
    v.object({
      kty: v.picklist(['OKP', 'EC']),
      crv: v.picklist(['Ed25519', 'P-256']),
      x: v.string(),
      y: v.optional(v.string()),
      kid: v.string(),
      alg: v.picklist(['EdDSA', 'ES256']),
      use: v.literal('sig'),
    }),
  ),
});

export const jwks = new Hono<AppEnv>().get(
  '/jwks.json',
  describeRoute({
    summary: 'The public keys that verify every token this Worker issues',
    tags: ['Tokens'],
    responses: answers(200, JwksAnswer, 'The current key, and the previous one during a rotation.', [500]),
  }),
  (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    c.header('Access-Control-Allow-Origin', '*');
    return c.json({ keys: keyRing(c.env).verifying });
  },
);
