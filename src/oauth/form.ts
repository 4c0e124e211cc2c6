/**
 * @module
 * The OAuth endpoints' request bodies (RFC 6749 §3.2, Appendix B): only
 * `application/x-www-form-urlencoded`, at most 8 KB arrived within 10 s, each parameter at most
 * once, a parameter sent without a value treated as absent (RFC 6749 §3.1), then validated by
 * the schemas of `oauth/schemas.ts` with RFC 6749's errors. Which clients may use the device flow
 * (`OAUTH_CLIENTS`) is checked here too, and what each is called: an entry is a client id, or
 * `id=Name` (the name the phone and the linked devices show; without one, the id).
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Env as HonoEnv } from 'hono';
import { createMiddleware } from 'hono/factory';
import { validator } from 'hono-openapi';
import type { BaseIssue } from 'valibot';
import { commaList, type Env } from '../env';
import type { AppEnv } from '../http/app-env';
import { mediaType, readBody } from '../http/body';
import { OAuthError, type OAuthErrorCode } from './errors';

const FORM_MEDIA = 'application/x-www-form-urlencoded';

/** Reads the form body, refusing anything else (JSON included) and repeated parameters. */
export const formBody = createMiddleware<AppEnv>(async (c, next) => {
  if (mediaType(c) !== FORM_MEDIA) {
    throw new OAuthError(
      'invalid_request',
      `Send the parameters as an ${FORM_MEDIA} body (RFC 6749 §3.2), not as JSON or in the query.`,
    );
  }
  const seen = new Set<string>();
  const form = new FormData();
  for (const [name, value] of new URLSearchParams(new TextDecoder().decode(await readBody(c.req.raw.body)))) {
    if (seen.has(name)) throw new OAuthError('invalid_request', `\`${name}\` is repeated: send each parameter once.`);
    seen.add(name);
    if (value !== '') form.append(name, value);
  }
  // hono's form validator reads the body from this cache.
  c.req.bodyCache.formData = form;
  await next();
});

/** The OAuth error a schema issue stands for: a wrong grant type or scope has its own code. */
function codeOf(issue: BaseIssue<unknown>): OAuthErrorCode {
  const key = issue.path?.[0]?.key;
  if (key === 'grant_type' && issue.type === 'picklist') return 'unsupported_grant_type';
  if (key === 'scope' && issue.type === 'regex') return 'invalid_scope';
  return 'invalid_request';
}

/** Validates the form with `schema` (which also documents it); a malformed request before a refused value. */
export function formInput<S extends StandardSchemaV1, E extends HonoEnv, P extends string>(schema: S) {
  return validator<S, 'form', E, P>(
    'form',
    schema,
    (result) => {
      if (result.success) return;
      const issues = result.error as unknown as BaseIssue<unknown>[];
      const first = issues.find((i) => codeOf(i) === 'invalid_request') ?? issues[0];
      throw new OAuthError(first ? codeOf(first) : 'invalid_request', first?.message ?? 'The request is malformed.');
    },
    { media: FORM_MEDIA },
  );
}

/** An entry of `OAUTH_CLIENTS`: the client's id, and its registered name (null: none). */
export interface DeviceClient {
  id: string;
  name: string | null;
}

/** `OAUTH_CLIENTS` as its entries: `id`, or `id=Name` (split at the first `=`; a name has no comma). */
export function deviceClients(env: Env): DeviceClient[] {
  return commaList(env.OAUTH_CLIENTS).map((entry) => {
    const at = entry.indexOf('=');
    if (at < 0) return { id: entry, name: null };
    return { id: entry.slice(0, at).trim(), name: entry.slice(at + 1).trim() || null };
  });
}

/** The client ids allowed to use the device flow. */
export const allowedClients = (env: Env): string[] => deviceClients(env).map((client) => client.id);

/** The registered name of device-flow client `clientId`, or null (none registered: its id is shown). */
export const deviceClientName = (env: Env, clientId: string): string | null =>
  deviceClients(env).find((client) => client.id === clientId)?.name ?? null;

/** A `client_id` of `OAUTH_CLIENTS`, else 401 `invalid_client`. */
export function publicClient(env: Env, clientId: string): string {
  if (!allowedClients(env).includes(clientId)) {
    throw new OAuthError('invalid_client', 'This client_id is not registered with this server.', 401);
  }
  return clientId;
}
