/**
 * @module
 * The registered OpenID Connect clients: `OIDC_CLIENTS` (a JSON array, one object per client) and
 * their secrets, `OIDC_CLIENT_SECRETS` (`id:secret` pairs, comma-separated). Both are read and
 * checked once per isolate, against the contract's list of members; anything malformed is a
 * `ConfigError` (a logged 500) that names the client and what is wrong, never a client silently
 * left out. Below `oauth/` (which authenticates them, see `oauth/clients.ts`) so that `sessions/`
 * can read a client's `backchannel_logout_uri` when a session it signed in to ends.
 */
import { commaList, type Env } from '../env';
import { ConfigError } from '../http/errors';
import { tokenAudience } from '../tokens/signing';

export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];
export const ID_TOKEN_ALGS = ['RS256', 'ES256', 'EdDSA'] as const;
export type IdTokenAlg = (typeof ID_TOKEN_ALGS)[number];

/** A registered client, every member present (defaults filled in). */
export interface OidcClient {
  client_id: string;
  /** What the phone and the authorize page show ("Sign in to Grafana"); default the id. */
  client_name: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  backchannel_logout_uri: string | null;
  token_endpoint_auth_method: AuthMethod;
  id_token_signed_response_alg: IdTokenAlg;
  require_pushed_authorization_requests: boolean;
  dpop_bound_access_tokens: boolean;
  backchannel_logout_session_required: boolean;
}

const MEMBERS = [
  'client_id',
  'client_name',
  'redirect_uris',
  'post_logout_redirect_uris',
  'backchannel_logout_uri',
  'token_endpoint_auth_method',
  'id_token_signed_response_alg',
  'require_pushed_authorization_requests',
  'dpop_bound_access_tokens',
  'backchannel_logout_session_required',
] as const;

/** Printable ASCII without `:` and `,` (they separate the pairs of `OIDC_CLIENT_SECRETS`), at most 128. */
const CLIENT_ID = /^[\x21-\x2b\x2d-\x39\x3b-\x7e]{1,128}$/;
const LOOPBACK_HOSTS = ['localhost', '127.0.0.1'];

/**
 * What is wrong with a URI a client registers to be sent back to (a redirect URI, a logout URI),
 * or null: absolute, `https` (or `http` for localhost and 127.0.0.1 only), no user info, no
 * fragment. Requests are compared with it as exact strings, so nothing else is normalised.
 */
export function registeredUriProblem(uri: unknown): string | null {
  if (typeof uri !== 'string' || uri.length === 0 || uri.length > 1024) return 'must be a URL of 1 to 1024 characters';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
  if (/[\s\u0000-\u001f\u007f]/.test(uri)) return 'must not contain spaces or control characters';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not an absolute URL';
  }
  if (uri.includes('#')) return 'must not have a fragment';
  if (url.username || url.password) return 'must not carry a user name or password';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.includes(url.hostname)) return null;
  return 'must be https (http only for localhost and 127.0.0.1)';
}

/** Reads one client of `OIDC_CLIENTS`; `at` names it in messages. */
function readClient(entry: unknown, at: string, audience: string): OidcClient {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new ConfigError(`OIDC_CLIENTS: ${at} must be a JSON object.`);
  }
  const raw = entry as Record<string, unknown>;
  const id = raw.client_id;
  if (typeof id !== 'string' || !CLIENT_ID.test(id)) {
    throw new ConfigError(
      `OIDC_CLIENTS: ${at} needs a "client_id" of 1 to 128 printable characters without ":" or ",".`,
    );
  }
  const bad = (what: string) => new ConfigError(`OIDC_CLIENTS: client "${id}": ${what}.`);
  if (id === audience) throw bad(`its client_id is TOKEN_AUDIENCE ("${audience}"), the audience of access tokens`);
  const unknown = Object.keys(raw).find((key) => !(MEMBERS as readonly string[]).includes(key));
  if (unknown) throw bad(`"${unknown}" is not a member this server knows (${MEMBERS.join(', ')})`);

  const name = raw.client_name ?? id;
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > 100) {
    throw bad('"client_name" must be a string of 1 to 100 characters');
  }
  const uris = (member: 'redirect_uris' | 'post_logout_redirect_uris', required: boolean): string[] => {
    const list = raw[member] ?? (required ? undefined : []);
    if (!Array.isArray(list) || (required && list.length === 0)) {
      throw bad(`"${member}" must be ${required ? 'a non-empty' : 'an'} array of URLs`);
    }
    list.forEach((uri, i) => {
      const problem = registeredUriProblem(uri);
      if (problem) throw bad(`${member}[${i}] ${JSON.stringify(uri)} ${problem}`);
    });
    return list as string[];
  };
  const logout = raw.backchannel_logout_uri ?? null;
  if (logout !== null) {
    const problem = registeredUriProblem(logout);
    if (problem) throw bad(`backchannel_logout_uri ${JSON.stringify(logout)} ${problem}`);
  }
  const oneOf = <T extends string>(member: string, allowed: readonly T[], fallback: T): T => {
    const value = raw[member] ?? fallback;
    if (!allowed.includes(value as T)) throw bad(`"${member}" must be one of ${allowed.join(', ')}`);
    return value as T;
  };
  const flag = (member: string): boolean => {
    const value = raw[member] ?? false;
    if (typeof value !== 'boolean') throw bad(`"${member}" must be true or false`);
    return value;
  };
  return {
    client_id: id,
    client_name: name.trim(),
    redirect_uris: uris('redirect_uris', true),
    post_logout_redirect_uris: uris('post_logout_redirect_uris', false),
    backchannel_logout_uri: logout as string | null,
    token_endpoint_auth_method: oneOf('token_endpoint_auth_method', AUTH_METHODS, 'client_secret_basic'),
    id_token_signed_response_alg: oneOf('id_token_signed_response_alg', ID_TOKEN_ALGS, 'RS256'),
    require_pushed_authorization_requests: flag('require_pushed_authorization_requests'),
    dpop_bound_access_tokens: flag('dpop_bound_access_tokens'),
    backchannel_logout_session_required: flag('backchannel_logout_session_required'),
  };
}

export interface ClientRegistry {
  clients: Map<string, OidcClient>;
  /** Each confidential client's secret. */
  secrets: Map<string, string>;
}

/** Reads and checks both variables; a `ConfigError` naming the client and the fault otherwise. */
function readRegistry(env: Env): ClientRegistry {
  let list: unknown = [];
  if (env.OIDC_CLIENTS?.trim()) {
    try {
      list = JSON.parse(env.OIDC_CLIENTS);
    } catch {
      throw new ConfigError('OIDC_CLIENTS is not JSON: it must be a JSON array of client objects.');
    }
  }
  if (!Array.isArray(list)) throw new ConfigError('OIDC_CLIENTS must be a JSON array of client objects.');
  // OAUTH_CLIENTS entries are `id` or `id=Name`: only the id can clash.
  const device = commaList(env.OAUTH_CLIENTS).map((entry) => entry.split('=')[0]!.trim());
  const clients = new Map<string, OidcClient>();
  list.forEach((entry, i) => {
    const client = readClient(entry, `entry ${i}`, tokenAudience(env));
    if (clients.has(client.client_id)) {
      throw new ConfigError(`OIDC_CLIENTS: client "${client.client_id}" is registered twice.`);
    }
    if (device.includes(client.client_id)) {
      throw new ConfigError(
        `OIDC_CLIENTS: client "${client.client_id}" is also a device-flow client of OAUTH_CLIENTS: give each its own id.`,
      );
    }
    clients.set(client.client_id, client);
  });
  const secrets = new Map<string, string>();
  for (const pair of commaList(env.OIDC_CLIENT_SECRETS)) {
    const colon = pair.indexOf(':');
    const id = colon > 0 ? pair.slice(0, colon) : '';
    const secret = pair.slice(colon + 1);
    if (!id || !secret) throw new ConfigError('OIDC_CLIENT_SECRETS: every item must be "client_id:secret".');
    const client = clients.get(id);
    if (!client) throw new ConfigError(`OIDC_CLIENT_SECRETS: "${id}" is not a client of OIDC_CLIENTS.`);
    if (client.token_endpoint_auth_method === 'none') {
      throw new ConfigError(
        `OIDC_CLIENT_SECRETS: client "${id}" is public (token_endpoint_auth_method none): it has no secret.`,
      );
    }
    if (secrets.has(id)) throw new ConfigError(`OIDC_CLIENT_SECRETS: client "${id}" has two secrets.`);
    secrets.set(id, secret);
  }
  for (const client of clients.values()) {
    if (client.token_endpoint_auth_method !== 'none' && !secrets.has(client.client_id)) {
      throw new ConfigError(
        `OIDC_CLIENTS: client "${client.client_id}" authenticates with ${client.token_endpoint_auth_method} but has no secret in OIDC_CLIENT_SECRETS.`,
      );
    }
  }
  return { clients, secrets };
}

let cached: {
  clients?: string;
  secrets?: string;
  device?: string;
  audience?: string;
  registry: ClientRegistry;
} | null = null;

/** The registered clients, read once per isolate (and again only when a variable changes). */
export function clientRegistry(env: Env): ClientRegistry {
  if (
    cached &&
    cached.clients === env.OIDC_CLIENTS &&
    cached.secrets === env.OIDC_CLIENT_SECRETS &&
    cached.device === env.OAUTH_CLIENTS &&
    cached.audience === env.TOKEN_AUDIENCE
  ) {
    return cached.registry;
  }
  const registry = readRegistry(env);
  cached = {
    clients: env.OIDC_CLIENTS,
    secrets: env.OIDC_CLIENT_SECRETS,
    device: env.OAUTH_CLIENTS,
    audience: env.TOKEN_AUDIENCE,
    registry,
  };
  return registry;
}

/** The client registered as `clientId`, or null. */
export const oidcClient = (env: Env, clientId: string): OidcClient | null =>
  clientRegistry(env).clients.get(clientId) ?? null;
