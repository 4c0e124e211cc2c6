/**
 * @module
 * Authorization server metadata (RFC 8414), served at `/.well-known/oauth-authorization-server`
 * and, for clients that discover the OpenID Connect way (openid-client's default), at
 * `/.well-known/openid-configuration`. This server speaks only the device flow, so it has no
 * authorization endpoint and supports no `response_type`.
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import type { AppEnv } from '../app-env';
import { JSON_CONTENT_TYPE } from '../errors';
import { publicOrigin } from '../public-origin';
import { tokenIssuer } from '../tokens/signing';
import { DEVICE_CODE_GRANT, MetadataAnswer, oauthAnswers } from './schemas';

function metadata(c: Context<AppEnv>) {
  const origin = publicOrigin(c);
  return {
    issuer: tokenIssuer(c),
    device_authorization_endpoint: `${origin}/oauth/device_authorization`,
    token_endpoint: `${origin}/oauth/token`,
    jwks_uri: `${origin}/.well-known/jwks.json`,
    grant_types_supported: [DEVICE_CODE_GRANT],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: ['none'],
  };
}

function serve(c: Context<AppEnv>): Response {
  const res = c.json(metadata(c));
  res.headers.set('Content-Type', JSON_CONTENT_TYPE);
  // Public and the same for everyone on this origin: let browsers and caches keep it a while.
  res.headers.set('Cache-Control', 'public, max-age=300');
  res.headers.set('Access-Control-Allow-Origin', '*');
  return res;
}

const describe = (summary: string) =>
  describeRoute({
    summary,
    tags: ['OAuth device flow (RFC 8628)'],
    responses: oauthAnswers(200, MetadataAnswer, 'Where the device flow is, and what it supports.', []),
  });

export const oauthMetadata = new Hono<AppEnv>()
  .get('/.well-known/oauth-authorization-server', describe('Authorization server metadata (RFC 8414)'), serve)
  .get('/.well-known/openid-configuration', describe('The same metadata, where OpenID Connect clients look'), serve);
