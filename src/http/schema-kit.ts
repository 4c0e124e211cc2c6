/**
 * @module
 * The building blocks of the API's schemas (each capability's `schemas.ts`): an object whose
 * missing keys say so in words, a text field without control characters, an ISO time. A module
 * of its own so that a feature's schemas and the shared ones can use each other.
 */
import * as v from 'valibot';

/** An object whose missing keys and wrong type say so in words. */
export function object<T extends v.ObjectEntries>(entries: T, what = 'The request body') {
  return v.object(entries, (issue) => {
    const key = issue.expected?.startsWith('"') ? issue.expected.slice(1, -1) : null;
    return key ? `\`${key}\` is required.` : `${what} must be a JSON object.`;
  });
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$/;

/** A string field of 1 to `max` characters with no control characters. */
export const text = (name: string, max: number) =>
  v.pipe(
    v.string(`\`${name}\` is required and must be a string.`),
    v.minLength(1, `\`${name}\` is required and must be a string.`),
    v.maxLength(max, `\`${name}\` is longer than ${max} characters.`),
    v.regex(NO_CONTROL_CHARACTERS, `\`${name}\` contains control characters.`),
  );

/** An ISO 8601 time, as every answer writes times. */
export const isoTime = v.pipe(v.string(), v.isoTimestamp());

/** What a schema's validation gives a route. */
export type Input<T extends v.GenericSchema> = v.InferOutput<T>;
