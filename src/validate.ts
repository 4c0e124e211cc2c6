/**
 * @module
 * Input validation for the API: ids, tokens in headers, query values and JSON bodies. Every
 * check fails with the contract's error (400 `invalid_request`, 400 `invalid_qrcode_id` or
 * 401 `unauthorized`) before any Durable Object is touched.
 */
import type { Context } from 'hono';
import type { Env } from './env';
import { ApiError } from './errors';

/** The largest request body the API reads. */
export const MAX_BODY_BYTES = 8 * 1024;
/** The largest value of any single request header. */
export const MAX_HEADER_BYTES = 8 * 1024;
/** The longest `wait` a long-poll may ask for, in seconds. */
export const MAX_WAIT_SECONDS = 30;
export const DEFAULT_WAIT_SECONDS = 25;

/** The session object for a QR id, if this namespace issued it: never wakes one for a forged id. */
export function sessionStub(env: Env, id: string) {
  if (!/^[0-9a-f]{64}$/.test(id)) throw new ApiError('invalid_qrcode_id');
  let objectId: DurableObjectId;
  try {
    objectId = env.LOGIN_SESSION.idFromString(id);
  } catch {
    throw new ApiError('invalid_qrcode_id');
  }
  return env.LOGIN_SESSION.get(objectId);
}

/** The Bearer token of the `Authorization` header, or 401. */
export function bearerToken(c: Context): string {
  const header = c.req.header('Authorization') ?? '';
  const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(header);
  if (!match?.[1] || header.length > 4096)
    throw new ApiError('unauthorized', 'Sign in first: a valid Bearer token is required.');
  return match[1];
}

/** The `X-Poll-Token` header (32 random bytes, base64url), or 401. */
export function pollToken(c: Context): string {
  const token = c.req.header('X-Poll-Token') ?? '';
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) {
    throw new ApiError('unauthorized', 'The X-Poll-Token header is missing or malformed.');
  }
  return token;
}

/** `after`: absent, or a whole non-negative number. */
export function afterParam(value: string | undefined): number | null {
  if (value === undefined) return null;
  if (!/^\d{1,15}$/.test(value)) throw new ApiError('invalid_request', '`after` must be a whole number of 0 or more.');
  return Number(value);
}

/** `wait` in milliseconds: default 25 s, at most 30 s, fractions of a second allowed. */
export function waitParam(value: string | undefined): number {
  if (value === undefined) return DEFAULT_WAIT_SECONDS * 1000;
  if (!/^\d{1,15}(\.\d{1,6})?$/.test(value))
    throw new ApiError('invalid_request', '`wait` must be a number of seconds, 0 or more.');
  return Math.round(Math.min(Number(value), MAX_WAIT_SECONDS) * 1000);
}

const bodyTooLarge = () =>
  new ApiError('invalid_request', `The request body is larger than ${MAX_BODY_BYTES / 1024} KB.`);

/**
 * The body as text, refused as soon as it passes `MAX_BODY_BYTES`. A body sent without
 * `Content-Length` is read piece by piece: reading it whole first would buffer whatever a
 * client streams, and wait forever for a body that never ends.
 */
export async function boundedText(req: Request): Promise<string> {
  if (!req.body) return '';
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      reader.cancel().catch(() => {});
      throw bodyTooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/** The request body as a JSON object (an empty body is `{}` when `optional`), at most 8 KB. */
export async function jsonBody(c: Context, optional = false): Promise<Record<string, unknown>> {
  const text = await boundedText(c.req.raw);
  if (optional && text.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError('invalid_request', 'The request body is not valid JSON.');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError('invalid_request', 'The request body must be a JSON object.');
  }
  return body as Record<string, unknown>;
}

/** A string field of `body`, 1 to `max` characters, with no control characters. */
export function textField(body: Record<string, unknown>, name: string, max: number): string {
  const value = body[name];
  if (typeof value !== 'string' || value.length === 0) {
    throw new ApiError('invalid_request', `\`${name}\` is required and must be a string.`);
  }
  if (value.length > max) throw new ApiError('invalid_request', `\`${name}\` is longer than ${max} characters.`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(value)) {
    throw new ApiError('invalid_request', `\`${name}\` contains control characters.`);
  }
  return value;
}
