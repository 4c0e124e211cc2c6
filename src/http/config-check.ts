/**
 * @module
 * Every configuration value checked at once, so that a mistake is said when the Worker starts and
 * not only when a request trips over it (or never: `ALLOWED_ORIGINS=localhost:41100` matches no
 * page and used to say nothing). Each variable's owner contributes a `ConfigCheck` beside the
 * parser it checks with (origins here, keys and lifetimes in `tokens/`, the identity source in
 * `identity/`, …), so that the rule lives once; `app.ts` lists them (`CONFIG_CHECKS`).
 *
 * They run on the first request of each isolate on Cloudflare (each problem logged once, as
 * `configuration: <NAME> …`), before `npm start` and `npm run dev` listen, and in
 * `npm run doctor`, which bundles this and the checks for Node (`scripts/config-check.mjs`).
 * A problem names its variable and what would be right, and never a secret's value.
 */
import type { Env } from '../env';
import { ConfigError } from './errors';
import { redact } from './log-safe';

/** One mistake: the variable, and a sentence that starts with its name and says what would be right. */
export interface ConfigProblem {
  name: string;
  message: string;
}

/** What a check knows besides the variables: the Worker's public origin, when it is known. */
export interface CheckContext {
  origin: string | null;
}

/** A check of one owner's variables: each problem it finds. */
export type ConfigCheck = (env: Env, context: CheckContext) => ConfigProblem[];

/** A problem of `name`: `message` starts with the name. */
export const problem = (name: string, message: string): ConfigProblem => ({ name, message: `${name} ${message}` });

/** A value as a message quotes it: JSON-quoted, cut short (a value was chosen by whoever set it). */
export const quoted = (value: string): string => JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);

/**
 * The problem that `parse` (an owner's parser, which throws a `ConfigError` whose message starts
 * with the variable's name) finds, or none. The parser's own words are the message.
 */
export function parsed(parse: () => unknown): ConfigProblem[] {
  try {
    parse();
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return [{ name: /^[A-Z][A-Z0-9_]+/.exec(err.message)?.[0] ?? '(configuration)', message: err.message }];
  }
}

/** Every problem the checks find in `env`; a check that fails itself is a problem too. */
export function configProblems(env: Env, checks: readonly ConfigCheck[], context: CheckContext): ConfigProblem[] {
  return checks.flatMap((check) => {
    try {
      return check(env, context);
    } catch (err) {
      return [
        { name: '(check)', message: `a configuration check failed: ${err instanceof Error ? err.message : err}` },
      ];
    }
  });
}

/** Lines already logged by this isolate (a problem is said once, not once per request). */
const logged = new Set<string>();
/** The variables already checked (the same object on every request of an isolate). */
const checked = new WeakSet<object>();

/** Logs `line` (with the configuration's secrets taken out) once per isolate. */
export function logOnce(line: string, env?: Env): void {
  const safe = redact(line, env);
  if (logged.has(safe)) return;
  logged.add(safe);
  console.error(safe);
}

/**
 * On a request: the first time this isolate sees `env`, checks it and logs each problem once
 * (`configuration: <message>`). Never throws: a request goes on, and meets the problem, if it
 * must, where the variable is used.
 */
export function checkConfigurationOnce(env: Env, checks: readonly ConfigCheck[], context: CheckContext): void {
  if (checked.has(env)) return;
  checked.add(env);
  try {
    for (const p of configProblems(env, checks, context)) logOnce(`configuration: ${p.message}`, env);
  } catch (err) {
    logOnce(`configuration: the check failed: ${err instanceof Error ? err.message : err}`, env);
  }
}

/**
 * A switch read as `on` exactly (`MATCH_CODE`) or `off` exactly (`RATE_LIMIT`): anything else is
 * taken for `fallback` without a word, so say it.
 */
export function switchProblem(name: string, value: string | undefined, fallback: 'on' | 'off'): ConfigProblem[] {
  if (value === undefined || value === '' || value === 'on' || value === 'off') return [];
  return [problem(name, `is ${quoted(value)}: it must be "on" or "off" (it is taken for "${fallback}", the default).`)];
}

/** `value` as an origin (`scheme://host[:port]`, a trailing slash forgiven), or what would be right. */
export function originProblem(value: string): string | null {
  const suggestion = (fixed: string) => `write it as scheme://host[:port], such as ${quoted(fixed)}`;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    const local = /^(localhost|127\.|\[::1\])/i.test(value);
    return `${quoted(value)} is not an origin (no scheme): ${suggestion(`${local ? 'http' : 'https'}://${value.replace(/\/+$/, '')}`)}`;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${quoted(value)} is not an origin: ${suggestion('https://app.example.com')}`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return `${quoted(value)} is not an http(s) origin: ${suggestion(`https://${url.host || 'app.example.com'}`)}`;
  }
  if (value.replace(/\/+$/, '') !== url.origin) {
    return `${quoted(value)} is not an origin (an origin has no path, query or upper case): ${suggestion(url.origin)}`;
  }
  return null;
}
