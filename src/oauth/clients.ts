/**
 * @module
 * The client's authentication at the token, PAR and revocation endpoints, by the method it
 * registered (RFC 6749 §2.3.1): a failure is 401 `invalid_client` with `WWW-Authenticate: Basic`.
 * The registry of clients itself (`OIDC_CLIENTS`, `OIDC_CLIENT_SECRETS`) is `clients/`,
 * re-exported here for the endpoints.
 */
import type { Context } from 'hono';
import { type AuthMethod, clientRegistry, type OidcClient, oidcClient } from '../clients';
import type { AppEnv } from '../http/app-env';
import { constantTimeEqual, sha256Hex } from '../http/crypto';
import { OAuthError } from './errors';
import { allowedClients } from './form';

export {
  AUTH_METHODS,
  type AuthMethod,
  type ClientRegistry,
  clientRegistry,
  ID_TOKEN_ALGS,
  type IdTokenAlg,
  type OidcClient,
  oidcClient,
  registeredUriProblem,
} from '../clients';

// ---------------------------------------------------------------- client authentication

/** `Authorization: Basic` as RFC 6749 §2.3.1 spells it (both halves form-encoded), or null if malformed. */
export function basicCredentials(header: string): { id: string; secret: string } | null {
  const match = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header);
  if (!match) return null;
  let pair: string;
  try {
    pair = atob(match[1]!);
  } catch {
    return null;
  }
  const colon = pair.indexOf(':');
  if (colon < 0) return null;
  try {
    const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: decode(pair.slice(0, colon)), secret: decode(pair.slice(colon + 1)) };
  } catch {
    return null;
  }
}

/** 401 `invalid_client`, inviting HTTP Basic (RFC 6749 §5.2). */
export const invalidClient = (message: string) =>
  new OAuthError('invalid_client', message, 401, { 'WWW-Authenticate': 'Basic realm="oauth", charset="UTF-8"' });

/** Compares secrets by their SHA-256, so that neither their content nor their length shows in the time taken. */
const sameSecret = async (a: string, b: string) => constantTimeEqual(await sha256Hex(a), await sha256Hex(b));

/** The authentication parameters a form may carry. */
export interface ClientAuthForm {
  client_id?: string;
  client_secret?: string;
}

/** Whether the request carries a client's secret (a Basic header or a `client_secret`). */
const sendsClientSecret = (c: Context<AppEnv>, form: ClientAuthForm): boolean =>
  /^Basic /i.test(c.req.header('Authorization') ?? '') || form.client_secret !== undefined;

/**
 * The client a refresh or a revocation is made by: none (a page's own token), a device-flow
 * client of `OAUTH_CLIENTS` (its id alone), or a client of `OIDC_CLIENTS`, authenticated.
 */
export async function namedClient(
  c: Context<AppEnv>,
  form: ClientAuthForm,
): Promise<{ client_id: string; oidc: OidcClient | null } | null> {
  const secret = sendsClientSecret(c, form);
  if (!secret && form.client_id === undefined) return null;
  if (!secret && allowedClients(c.env).includes(form.client_id!)) return { client_id: form.client_id!, oidc: null };
  const client = await authenticateClient(c, form, secret);
  return { client_id: client.client_id, oidc: client };
}

/**
 * The registered client that this request authenticates as, by the method it registered:
 * `client_secret_basic` (the Basic header), `client_secret_post` (`client_secret` in the form)
 * or `none` (its `client_id` alone). Anything else is 401 `invalid_client`.
 */
export async function authenticateClient(
  c: Context<AppEnv>,
  form: ClientAuthForm,
  /** Whether to read the Authorization header (false where it may carry something else). */
  readHeader = true,
): Promise<OidcClient> {
  const header = readHeader ? c.req.header('Authorization') : undefined;
  const basic = header === undefined ? null : basicCredentials(header);
  if (header !== undefined && !basic)
    throw invalidClient('The Authorization header is not HTTP Basic client authentication.');
  if (basic && form.client_secret !== undefined) {
    throw new OAuthError('invalid_request', 'Authenticate with one method only: the Basic header or client_secret.');
  }
  const id = basic?.id ?? form.client_id;
  if (!id) throw invalidClient('Authenticate the client: HTTP Basic, client_secret, or at least client_id.');
  if (basic && form.client_id !== undefined && form.client_id !== basic.id) {
    throw invalidClient('client_id is not the client of the Basic header.');
  }
  const client = oidcClient(c.env, id);
  if (!client) throw invalidClient('This client_id is not registered with this server.');
  const method: AuthMethod = basic
    ? 'client_secret_basic'
    : form.client_secret !== undefined
      ? 'client_secret_post'
      : 'none';
  if (method !== client.token_endpoint_auth_method) {
    throw invalidClient(`This client authenticates with ${client.token_endpoint_auth_method}, not ${method}.`);
  }
  if (method !== 'none') {
    const stored = clientRegistry(c.env).secrets.get(client.client_id) ?? '';
    if (!(await sameSecret(stored, basic?.secret ?? form.client_secret ?? ''))) {
      throw invalidClient('The client secret is wrong.');
    }
  }
  return client;
}
