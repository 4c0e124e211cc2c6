/**
 * @module
 * Stands in for zod in the Worker bundle (see `[alias]` in wrangler.toml). hono-openapi's
 * schema converter imports zod's only for zod schemas; ours are valibot, so this is never
 * called, and the bundle does not carry 700 KB of a library it does not use.
 */
export function toJSONSchema(): never {
  throw new Error('zod is not part of this Worker: its schemas are valibot');
}
export default { toJSONSchema };
