/**
 * @module
 * The authorization code grant (RFC 6749 §4.1.3, RFC 7636 §4.5, OpenID Connect Core §3.1.3) of
 * `POST /oauth/token`: a client of `OIDC_CLIENTS` hands in the code its redirect URI received,
 * with the same `redirect_uri` and the PKCE verifier, authenticated by its registered method.
 * Checked in order: the client's authentication (401 `invalid_client`) → the parameters → the
 * code, in the user's object (see `UserSessions.exchangeCode`: known → this client's → not used
 * before → not expired → the same redirect URI → the verifier), every refusal `invalid_grant`
 * and nothing spent, except that a code used twice revokes what its first use gave.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../../http/app-env';
import { exchangeCode } from '../../sessions/sso';
import { provedKey } from '../../tokens/dpop';
import { ensureSigningKey } from '../../tokens/signing';
import { authenticateClient, type ClientAuthForm } from '../clients';
import { OAuthError, tokenAnswer } from '../errors';

/** RFC 7636 §4.1: 43 to 128 characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

export interface AuthorizationCodeForm extends ClientAuthForm {
  code?: string;
  redirect_uri?: string;
  code_verifier?: string;
}

export async function authorizationCodeGrant(c: Context<AppEnv>, form: AuthorizationCodeForm): Promise<Response> {
  const client = await authenticateClient(c, form);
  if (!form.code) throw new OAuthError('invalid_request', '`code` is required.');
  if (!form.redirect_uri) throw new OAuthError('invalid_request', '`redirect_uri` is required.');
  if (!form.code_verifier) throw new OAuthError('invalid_request', '`code_verifier` is required (PKCE).');
  if (!VERIFIER.test(form.code_verifier)) {
    throw new OAuthError('invalid_request', '`code_verifier` must be 43 to 128 unreserved characters (RFC 7636).');
  }
  // A code bound to a key (`dpop_jkt`) is exchanged only with a proof of it; a proof binds the tokens.
  const jkt = await provedKey(c, client.dpop_bound_access_tokens);
  // Check the key before the code is spent: a misconfigured Worker must not use up a sign-in.
  ensureSigningKey(c.env);
  const grant = await exchangeCode(
    c,
    {
      code: form.code,
      client_id: client.client_id,
      redirect_uri: form.redirect_uri,
      code_verifier: form.code_verifier,
      jkt,
    },
    client.id_token_signed_response_alg,
  );
  if (!grant.ok) throw new OAuthError('invalid_grant', grant.reason);
  return tokenAnswer(c, grant.tokens);
}
