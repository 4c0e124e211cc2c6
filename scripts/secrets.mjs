/**
 * @module
 * Secrets stay off command lines and out of what the scripts print. npm prints the command it
 * runs with its arguments (`> node scripts/dev.mjs --var WEBHOOK_SECRET:whsec_…`), and a shell
 * keeps them in its history, so a secret comes from `.dev.vars` or the environment
 * (`WEBHOOK_SECRET=… npm run dev`), which the local servers read for every secret's name; and a
 * command the scripts show (`$ npx wrangler deploy --var …`) has each secret's value redacted.
 */

/** The variables that hold secrets (as src/http/log-safe.ts lists them). */
export const SECRET_NAMES = [
  'SIGNING_KEY',
  'SIGNING_KEY_PREVIOUS',
  'WEBHOOK_SECRET',
  'IDENTITY_JWT_SECRET',
  'INTROSPECTION_CLIENTS',
  'OIDC_CLIENT_SECRETS',
  'LOCAL_FRONT_SECRET',
];

/** The secrets an operator may set in the environment (the front's own is the scripts' to make). */
const OPERATOR_SECRETS = SECRET_NAMES.filter((name) => name !== 'LOCAL_FRONT_SECRET');

/** The secrets set in `env` (default this process's), by name. */
export function secretsFromEnv(env = process.env) {
  return Object.fromEntries(OPERATOR_SECRETS.filter((name) => env[name]).map((name) => [name, env[name]]));
}

const VAR = /^(--var(?:=|$))?([A-Za-z_][A-Za-z0-9_]*):/;

/**
 * `args` as they may be shown: the value of each `--var NAME:value` (or `--var=NAME:value`) whose
 * name is a secret's replaced by `[redacted]`.
 */
export function redactArgs(args) {
  return args.map((arg, i) => {
    const inline = arg.startsWith('--var=');
    if (!inline && args[i - 1] !== '--var') return arg;
    const text = inline ? arg.slice('--var='.length) : arg;
    const name = VAR.exec(text)?.[2];
    return name && SECRET_NAMES.includes(name) ? `${inline ? '--var=' : ''}${name}:[redacted]` : arg;
  });
}

/**
 * What to say when secrets came on the command line (`vars`, the `--var`s by name): npm has
 * printed them and the shell keeps them. Names only, never a value.
 */
export function secretVarWarnings(vars, who) {
  const given = Object.keys(vars).filter((name) => OPERATOR_SECRETS.includes(name));
  if (!given.length) return [];
  const names = given.join(', ');
  return [
    `${who}: ${names} came with --var, so npm has printed ${given.length === 1 ? 'it' : 'them'} above and your shell keeps ${given.length === 1 ? 'it' : 'them'} in its history.`,
    `${who}: put ${given.length === 1 ? 'it' : 'them'} in .dev.vars, or in the environment (${given[0]}=… ${who}), instead.`,
  ];
}
