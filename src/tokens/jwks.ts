/**
 * @module
 * `GET /.well-known/jwks.json`: the public halves of the signing keys (every key of
 * `SIGNING_KEY`, Ed25519 or P-256 and RSA, then those of `SIGNING_KEY_PREVIOUS`), so that any
 * backend verifies our tokens without a shared secret. Never a private part.
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
      kty: v.picklist(['OKP', 'EC', 'RSA']),
      crv: v.optional(v.picklist(['Ed25519', 'P-256'])),
      x: v.optional(v.string()),
      y: v.optional(v.string()),
      n: v.optional(v.string()),
      e: v.optional(v.string()),
      kid: v.string(),
      alg: v.picklist(['EdDSA', 'ES256', 'RS256']),
      use: v.literal('sig'),
    }),
  ),
});

export const jwks = new Hono<AppEnv>().get(
  '/jwks.json',
  describeRoute({
    summary: 'The public keys that verify every token this Worker issues',
    tags: ['Tokens'],
    responses: answers(
      200,
      JwksAnswer,
      'The current keys (Ed25519 or P-256, and RSA), and the previous ones during a rotation.',
      [500],
    ),
  }),
  (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    c.header('Access-Control-Allow-Origin', '*');
    return c.json({ keys: keyRing(c.env).verifying });
  },
);
