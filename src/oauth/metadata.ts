/**
 * @module
 * Authorization server metadata (RFC 8414), served at `/.well-known/oauth-authorization-server`
 * and, for clients that discover the OpenID Connect way (openid-client's default), at
 * `/.well-known/openid-configuration`. This server speaks only the device flow (and refreshes), so it
 * has no authorization endpoint and supports no `response_type`.
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import type { AppEnv } from '../http/app-env';
import { JSON_CONTENT_TYPE } from '../http/errors';
import { publicOrigin } from '../http/site';
import { keyRing } from '../tokens/keys';
import { tokenIssuer } from '../tokens/signing';
import { DEVICE_CODE_GRANT, MetadataAnswer, oauthAnswers, REFRESH_TOKEN_GRANT, SCOPES } from './schemas';

function metadata(c: Context<AppEnv>) {
  const origin = publicOrigin(c);
  return {
    issuer: tokenIssuer(c),
    device_authorization_endpoint: `${origin}/oauth/device_authorization`,
    token_endpoint: `${origin}/oauth/token`,
    userinfo_endpoint: `${origin}/oauth/userinfo`,
    revocation_endpoint: `${origin}/oauth/revoke`,
    introspection_endpoint: `${origin}/oauth/introspect`,
    jwks_uri: `${origin}/.well-known/jwks.json`,
    grant_types_supported: [DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT],
    response_types_supported: [],
    scopes_supported: [...SCOPES],
    subject_types_supported: ['public'],
    // The key that signs now first; during a rotation the previous key's algorithm still verifies.
    id_token_signing_alg_values_supported: [...new Set(keyRing(c.env).verifying.map((k) => k.alg))],
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'sid', 'name', 'preferred_username'],
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
