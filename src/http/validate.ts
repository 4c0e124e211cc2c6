/**
 * @module
 * Request validation with the contract's errors: `input()` runs a valibot schema of
 * a capability's `schemas.ts` through hono-openapi's validator (so the same schema documents the route), and
 * turns the first issue into 400 `invalid_request`, 400 `invalid_qrcode_id` (a path id) or 401
 * `unauthorized` (a header credential), before any Durable Object is touched.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Context, Env as HonoEnv, ValidationTargets } from 'hono';
import { validator } from 'hono-openapi';
import type { Env } from '../env';
import { ApiError, type ErrorCode } from './errors';
import { namedObject } from './named-object';

const CODE_BY_TARGET: Partial<Record<keyof ValidationTargets, ErrorCode>> = {
  param: 'invalid_qrcode_id',
  header: 'unauthorized',
};

/** The first issue, said in words (a missing key says which). */
function describe(issues: readonly StandardSchemaV1.Issue[]): string {
  return issues[0]?.message ?? 'The request is malformed.';
}

/** A validator middleware for `target` that answers the contract's error on failure. */
export function input<
  S extends StandardSchemaV1,
  T extends keyof ValidationTargets,
  E extends HonoEnv,
  P extends string,
>(target: T, schema: S, code: ErrorCode = CODE_BY_TARGET[target] ?? 'invalid_request') {
  return validator<S, T, E, P>(target, schema, (result) => {
    if (!result.success) throw new ApiError(code, describe(result.error));
  });
}

/** The login's object for a QR id, if this namespace issued it: never wakes one for a forged id. */
export function loginStub(env: Env, id: string) {
  const login = namedObject(env.LOGIN_SESSION, id);
  if (!login) throw new ApiError('invalid_qrcode_id');
  return login;
}

/** How an access token is presented: `Bearer` (RFC 6750), or `DPoP` with a proof beside it (RFC 9449 §7.1). */
export type AuthScheme = 'Bearer' | 'DPoP';

/** The access token of an `Authorization` header and its scheme, or null for anything else. */
export function readCredential(header: string | undefined): { scheme: AuthScheme; token: string } | null {
  if (!header || header.length > 4096) return null;
  const match = /^(Bearer|DPoP) ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/i.exec(header);
  if (!match?.[1] || !match[2]) return null;
  return { scheme: match[1].toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: match[2] };
}

/** The access token of the `Authorization` header (`Bearer` or `DPoP`) and its scheme, or 401. */
export function accessCredential(c: Context): { scheme: AuthScheme; token: string } {
  const credential = readCredential(c.req.header('Authorization'));
  if (!credential) throw new ApiError('unauthorized', 'Sign in first: a valid Bearer (or DPoP) token is required.');
  return credential;
}
