/**
 * @module
 * The OAuth endpoints' request bodies (RFC 6749 §3.2, Appendix B): only
 * `application/x-www-form-urlencoded`, at most 8 KB, each parameter at most once, and a
 * parameter sent without a value treated as absent (RFC 6749 §3.1). Which clients may use
 * the device flow (`OAUTH_CLIENTS`) is checked here too.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../app-env';
import type { Env } from '../env';
import { boundedText } from '../validate';
import { OAuthError } from './errors';

const MAX_PARAM_LENGTH = 1024;

/** The parameters of a form body, by name. */
export type FormParams = ReadonlyMap<string, string>;

/** Reads the body as a form; anything else (JSON included) is `invalid_request`. */
export async function formParams(c: Context<AppEnv>): Promise<FormParams> {
  const mediaType = (c.req.header('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/x-www-form-urlencoded') {
    throw new OAuthError(
      'invalid_request',
      'Send the parameters as an application/x-www-form-urlencoded body (RFC 6749 §3.2), not as JSON or a query.',
    );
  }
  const params = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(await boundedText(c.req.raw))) {
    if (params.has(name)) throw new OAuthError('invalid_request', `\`${name}\` is repeated: send each parameter once.`);
    params.set(name, value);
  }
  return params;
}

/** A parameter's value, or undefined when absent or empty. */
export function optionalParam(params: FormParams, name: string): string | undefined {
  const value = params.get(name);
  if (!value) return undefined;
  if (value.length > MAX_PARAM_LENGTH) {
    throw new OAuthError('invalid_request', `\`${name}\` is longer than ${MAX_PARAM_LENGTH} characters.`);
  }
  return value;
}

/** A parameter that must be there. */
export function requiredParam(params: FormParams, name: string): string {
  const value = optionalParam(params, name);
  if (value === undefined) throw new OAuthError('invalid_request', `\`${name}\` is required.`);
  return value;
}

/** The client ids allowed to use the device flow. */
export function allowedClients(env: Env): string[] {
  return (env.OAUTH_CLIENTS ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
}

/** The request's `client_id`: required, and one of `OAUTH_CLIENTS` (else 401 `invalid_client`). */
export function publicClient(env: Env, params: FormParams): string {
  const clientId = requiredParam(params, 'client_id');
  if (!allowedClients(env).includes(clientId)) {
    throw new OAuthError('invalid_client', 'This client_id is not registered with this server.', 401);
  }
  return clientId;
}
