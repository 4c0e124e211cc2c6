/**
 * @module
 * Request bodies: read at most 8 KB, within 10 seconds, and only as the JSON they claim to be.
 * A body that is not `application/json` is refused with 415 before anything reads it (so another
 * site's page cannot post to the API without a CORS preflight); a body that has not arrived in
 * 10 s is answered 408 and dropped; a body sent without `Content-Length` is read piece by piece
 * and refused as soon as it passes the limit, never buffered whole first.
 */
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { ApiError } from './errors';

/** The largest request body the API reads. */
export const MAX_BODY_BYTES = 8 * 1024;
/** The largest value of any single request header. */
export const MAX_HEADER_BYTES = 8 * 1024;

/** How long a client may take to send its whole body. */
export const BODY_DEADLINE_MS = 10_000;

const JSON_MEDIA = /^application\/([\w.-]+\+)?json$/i;

const tooLarge = () => new ApiError('invalid_request', `The request body is larger than ${MAX_BODY_BYTES / 1024} KB.`);

/** Whether the request says it carries a body. */
export function hasBody(req: Request): boolean {
  const length = req.headers.get('Content-Length');
  if (length !== null) return Number(length) > 0;
  return req.body !== null && req.headers.has('Transfer-Encoding');
}

/** The body's bytes, at most `maxBytes`, arrived within `deadlineMs`; else 400 or 408. */
export async function readBody(
  body: ReadableStream<Uint8Array> | null,
  { maxBytes = MAX_BODY_BYTES, deadlineMs = BODY_DEADLINE_MS } = {},
): Promise<Uint8Array> {
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ApiError('request_timeout', `The request body did not arrive within ${deadlineMs / 1000} s.`)),
      deadlineMs,
    );
  });
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), late]);
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) throw tooLarge();
      chunks.push(value);
    }
  } catch (err) {
    reader.cancel().catch(() => {});
    throw err;
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** The request's media type, without parameters, in lower case. */
export function mediaType(c: Context): string {
  return (c.req.header('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/** On `/api/*`: a body that is not JSON is 415, whichever route it was sent to. */
export const onlyJsonBodies = createMiddleware(async (c, next) => {
  if (hasBody(c.req.raw) && !JSON_MEDIA.test(mediaType(c))) {
    throw new ApiError('unsupported_media_type', 'Send the request body as Content-Type: application/json.');
  }
  await next();
});

/**
 * Reads the JSON body (bounded, on time) and hands it to the validator that follows. With
 * `optional`, an empty body stands for `{}`.
 */
export function jsonBody({ optional = false } = {}) {
  return createMiddleware(async (c, next) => {
    const text = new TextDecoder().decode(await readBody(c.req.raw.body));
    let parsed: unknown;
    if (optional && text.trim() === '') parsed = {};
    else {
      if (!JSON_MEDIA.test(mediaType(c))) {
        throw new ApiError('unsupported_media_type', 'Send the request body as Content-Type: application/json.');
      }
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new ApiError('invalid_request', 'The request body is not valid JSON.');
      }
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ApiError('invalid_request', 'The request body must be a JSON object.');
    }
    // hono's validator reads `c.req.json()`, which answers from this cache.
    c.req.bodyCache.json = Promise.resolve(parsed);
    await next();
  });
}
