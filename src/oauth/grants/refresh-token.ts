/**
 * @module
 * The refresh token grant (RFC 6749 §6) of `POST /oauth/token`: the page or client sends its
 * refresh token (a client of `OIDC_CLIENTS` authenticated by its method) and gets a new access token and the token's successor (every refresh rotates).
 * The user's sessions object decides, in a fixed order, and signs the session out when a token
 * is reused (RFC 9700 §4.14.2); every refusal is one `invalid_grant` with its reason.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../../http/app-env';
import { refreshSession } from '../../sessions';
import { provedKey } from '../../tokens/dpop';
import { ensureSigningKey } from '../../tokens/signing';
import { type ClientAuthForm, namedClient } from '../clients';
import { OAuthError, tokenAnswer } from '../errors';

export interface RefreshForm extends ClientAuthForm {
  refresh_token?: string;
}

export async function refreshTokenGrant(c: Context<AppEnv>, form: RefreshForm): Promise<Response> {
  if (!form.refresh_token) throw new OAuthError('invalid_request', '`refresh_token` is required.');
  // A page's session has no client; a device-flow client names itself, and must be registered;
  // an OpenID Connect client authenticates by its method.
  const client = await namedClient(c, form);
  // A bound refresh token refreshes only with a proof of its key; without one it is refused and nothing is spent.
  const jkt = await provedKey(c, client?.oidc?.dpop_bound_access_tokens ?? false);
  // Check the key before the token rotates: a misconfigured Worker must not spend a refresh token.
  ensureSigningKey(c.env);
  const refreshed = await refreshSession(
    c,
    form.refresh_token,
    client?.client_id ?? null,
    client?.oidc?.id_token_signed_response_alg,
    jkt,
  );
  if (!refreshed.ok) throw new OAuthError('invalid_grant', refreshed.reason);
  return tokenAnswer(c, refreshed.tokens);
}
