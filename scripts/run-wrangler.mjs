/**
 * @module
 * How the operator scripts (`provision`, `deploy`, `accounts`) run wrangler and show what they
 * run: the project's own wrangler under the Node that runs the script (npm scripts run the
 * `node` devDependency, which wrangler needs), with usage metrics off, from the project's root.
 *
 * `QR_LOGIN_WRANGLER` names another wrangler entry point (a JavaScript file run with the same
 * Node): the tests put a stand-in Cloudflare account there, since they have no real one.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { redactArgs } from './secrets.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const ENTRY = process.env.QR_LOGIN_WRANGLER || path.join(ROOT, 'node_modules/wrangler/bin/wrangler.js');

/** `file` as a person reads it: from the project's root when it lies inside, else as it is. */
export const shortPath = (file) => (file.startsWith(`${ROOT}${path.sep}`) ? path.relative(ROOT, file) : file);

/** A reason to stop that the user can act on: printed without a stack. */
export class OperatorError extends Error {}

/** An argument as a POSIX shell would need it written. */
const quote = (arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`);

/** The command line a person would type for `args`, a secret's `--var` value redacted. */
export const shown = (args) => ['npx', 'wrangler', ...redactArgs(args)].map(quote).join(' ');

/**
 * Runs `wrangler args`. With `capture`, its output is returned (and stays off the terminal);
 * otherwise the user sees it (and answers its prompts) as if they had typed the command.
 * `input` is written to its stdin: a secret goes there, never onto a command line.
 */
export function wrangler(args, { capture = false, input } = {}) {
  const run = spawnSync(process.execPath, [ENTRY, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    input,
    stdio: [input === undefined ? 'inherit' : 'pipe', capture ? 'pipe' : 'inherit', capture ? 'pipe' : 'inherit'],
    env: { ...process.env, WRANGLER_SEND_METRICS: process.env.WRANGLER_SEND_METRICS ?? 'false' },
  });
  if (run.error) throw run.error;
  return { ok: run.status === 0, stdout: run.stdout ?? '', stderr: run.stderr ?? '' };
}

/** `wrangler args` must succeed: otherwise an `OperatorError` that shows the command and what it said. */
export function mustRun(args, options = {}) {
  const result = wrangler(args, options);
  if (!result.ok) {
    const said = `${result.stderr}${result.stdout}`.trim();
    throw new OperatorError(`this failed: ${shown(args)}${said ? `\n${said}` : ''}`);
  }
  return result;
}

/** The JSON that a `--json` wrangler command printed (after any banner or warning line). */
export function jsonOf(stdout, args) {
  const start = stdout.search(/^\s*[[{]/m);
  try {
    return JSON.parse(stdout.slice(Math.max(start, 0)));
  } catch {
    throw new OperatorError(`${shown(args)} did not print the JSON expected:\n${stdout.trim()}`);
  }
}
