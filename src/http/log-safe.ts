/**
 * @module
 * What may be written to the log: text that the Worker did not write itself (an error's message,
 * its stack, a backing service's complaint) with every secret of the configuration and anything
 * shaped like a credential taken out. A log is read by more people, and kept longer, than a
 * secret should be; an error's text can carry what its code was handed (a D1 error names the
 * value it could not bind, a test's fake error carries the signing key).
 */
import type { Env } from '../env';

const REDACTED = '[redacted]';

/** The variables that hold secrets; a JWK's private members and `id:secret` pairs count in part too. */
const SECRET_VARS = [
  'SIGNING_KEY',
  'SIGNING_KEY_PREVIOUS',
  'WEBHOOK_SECRET',
  'IDENTITY_JWT_SECRET',
  'INTROSPECTION_CLIENTS',
  'OIDC_CLIENT_SECRETS',
  'LOCAL_FRONT_SECRET',
];

/** A JWK's members that are private (RFC 7518 §6.2.2, §6.3.2, §6.4). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

/** Shorter pieces are not hunted for in logs: they would match ordinary words. */
const MIN_SECRET_LENGTH = 8;

/** Credentials recognised by their shape, whoever's they are. */
const SHAPES: [RegExp, string][] = [
  // A JWS or JWT (ours, a site's, a forged one): its header always starts `{"` → `eyJ`.
  [/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, '[token]'],
  // A private JWK member written out as JSON.
  [new RegExp(`("(?:${PRIVATE_JWK_MEMBERS.join('|')})"\\s*:\\s*)"[^"]*"`, 'g'), `$1"${REDACTED}"`],
  // An opaque token of ours: 32 random bytes in base64url (a poll token, a device code's secret),
  // after an object's hex id in a refresh token. A run of hex alone (an id, a hash) stays.
  [/(?<![\w-])(?![0-9a-f]+(?![\w-]))[\w-]{43,}(?![\w-])/g, '[token]'],
  [/(Bearer\s+)\S+/gi, `$1${REDACTED}`],
  [/whsec_[A-Za-z0-9+/=]+/g, `whsec_${REDACTED}`],
];

/** The secret strings a variable's value holds: itself, its JWKs' private members, each `id:secret`'s secret. */
function piecesOf(value: string): string[] {
  const pieces = [value, value.replace(/^whsec_/, '')];
  try {
    const parsed = JSON.parse(value) as { keys?: unknown } & Record<string, unknown>;
    // One JWK, or a JWK set (`{"keys": […]}`) whose every key counts.
    const jwks = (Array.isArray(parsed?.keys) ? parsed.keys : [parsed]) as (Record<string, unknown> | null)[];
    for (const jwk of jwks) {
      for (const member of PRIVATE_JWK_MEMBERS) if (typeof jwk?.[member] === 'string') pieces.push(jwk[member]);
    }
  } catch {
    for (const pair of value.split(',')) pieces.push(pair.trim(), pair.slice(pair.indexOf(':') + 1).trim());
  }
  return pieces.filter((p) => p.length >= MIN_SECRET_LENGTH);
}

/** `text` without the configuration's secrets (when `env` is known) nor anything shaped like a credential. */
export function redact(text: string, env?: Env): string {
  let out = text;
  const vars = (env ?? {}) as Record<string, unknown>;
  const secrets = SECRET_VARS.flatMap((name) => (typeof vars[name] === 'string' ? piecesOf(vars[name]) : []));
  // Longest first, so that a whole value goes before the parts inside it.
  for (const secret of secrets.sort((a, b) => b.length - a.length)) out = out.split(secret).join(REDACTED);
  for (const [shape, replacement] of SHAPES) out = out.replace(shape, replacement);
  return out;
}

/** An error as one loggable text: its name, message and stack, redacted. */
export function describeError(err: unknown, env?: Env): string {
  const text = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
  return redact(text, env);
}
