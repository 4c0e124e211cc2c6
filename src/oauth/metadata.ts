/**
 * @module
 * Authorization server metadata (RFC 8414), served at `/.well-known/oauth-authorization-server`
 * and, for clients that discover the OpenID Connect way (openid-client's default), at
 * `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0): the authorization code
 * flow with PKCE (S256) and PAR, the device flow, refreshes, and what they support.
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import type { AppEnv } from '../http/app-env';
import { JSON_CONTENT_TYPE } from '../http/errors';
import { publicOrigin } from '../http/site';
import { DPOP_ALGS } from '../tokens/dpop';
import { keyRing } from '../tokens/keys';
import { tokenIssuer } from '../tokens/signing';
import { AUTH_METHODS } from './clients';
import {
  AUTHORIZATION_CODE_GRANT,
  DEVICE_CODE_GRANT,
  MetadataAnswer,
  oauthAnswers,
  REFRESH_TOKEN_GRANT,
  SCOPES,
} from './schemas';

function metadata(c: Context<AppEnv>) {
  const origin = publicOrigin(c);
  const methods = [...AUTH_METHODS];
  return {
    issuer: tokenIssuer(c),
    authorization_endpoint: `${origin}/oauth/authorize`,
    device_authorization_endpoint: `${origin}/oauth/device_authorization`,
    token_endpoint: `${origin}/oauth/token`,
    pushed_authorization_request_endpoint: `${origin}/oauth/par`,
    userinfo_endpoint: `${origin}/oauth/userinfo`,
    revocation_endpoint: `${origin}/oauth/revoke`,
    introspection_endpoint: `${origin}/oauth/introspect`,
    end_session_endpoint: `${origin}/oauth/end_session`,
    jwks_uri: `${origin}/.well-known/jwks.json`,
    grant_types_supported: [AUTHORIZATION_CODE_GRANT, DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    code_challenge_methods_supported: ['S256'],
    // RFC 9449 §5.1; `Ed25519` is the fully specified name some clients send for an EdDSA key of that curve.
    dpop_signing_alg_values_supported: [...DPOP_ALGS],
    scopes_supported: [...SCOPES],
    subject_types_supported: ['public'],
    // RS256 first: OpenID Connect Core §15.1 makes it the one every client can use (it is each
    // client's default). Listed before its key is published: until the RSA key joins the ring
    // (see tokens/keys.ts), id_tokens are signed with the current key, whose algorithm follows;
    // during a rotation the previous key's algorithm still verifies.
    id_token_signing_alg_values_supported: [...new Set(['RS256', ...keyRing(c.env).verifying.map((k) => k.alg)])],
    token_endpoint_auth_methods_supported: methods,
    revocation_endpoint_auth_methods_supported: methods,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
    claims_supported: [
      'iss',
      'sub',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'nonce',
      'at_hash',
      'sid',
      'name',
      'preferred_username',
    ],
    prompt_values_supported: ['none', 'login', 'consent'],
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    require_pushed_authorization_requests: false,
    authorization_response_iss_parameter_supported: true,
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
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
    tags: ['OAuth device flow (RFC 8628)', 'OpenID Provider (authorization code flow)'],
    responses: oauthAnswers(200, MetadataAnswer, 'Where each endpoint is, and what it supports.', []),
  });

export const oauthMetadata = new Hono<AppEnv>()
  .get('/.well-known/oauth-authorization-server', describe('Authorization server metadata (RFC 8414)'), serve)
  .get('/.well-known/openid-configuration', describe('The same metadata, where OpenID Connect clients look'), serve);
