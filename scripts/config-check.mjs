/**
 * @module
 * The Worker's own configuration checks (`CONFIG_CHECKS` of src/app.ts, each from the folder that
 * owns its variable: src/http/config-check.ts) run in Node, for `npm run doctor`, `npm start`
 * and `npm run dev`: the TypeScript is bundled on the fly with the esbuild that wrangler brings
 * (as `npm run accounts` does for `hashPassword`), so the rules are the Worker's, not a copy.
 * Besides, a variable this Worker does not read (a typo: `ALLOWED_ORIGIN`) is named, with the
 * one it may have meant; the names are the members of `Env` in src/env.ts.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ROOT } from './run-wrangler.mjs';
import { SECRET_NAMES } from './secrets.mjs';

/** The checks' entry, bundled for Node; `cloudflare:workers` is a stub (only the objects' classes use it). */
async function bundledChecks() {
  const esbuild = createRequire(path.join(ROOT, 'node_modules/wrangler/package.json'))('esbuild');
  const { outputFiles } = await esbuild.build({
    stdin: {
      contents:
        "export { CONFIG_CHECKS } from './src/app';\nexport { configProblems } from './src/http/config-check';\n",
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'import'],
    logLevel: 'silent',
    // As wrangler.toml's [alias] has it for the Worker.
    alias: { 'zod/v4/core': './src/http/no-zod.ts', 'zod-to-json-schema': './src/http/no-zod.ts' },
    plugins: [
      {
        name: 'cloudflare-stub',
        setup(build) {
          build.onResolve({ filter: /^cloudflare:/ }, (args) => ({ path: args.path, namespace: 'stub' }));
          build.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
            contents: 'export class DurableObject {}\nexport class WorkerEntrypoint {}\nexport const env = {};\n',
          }));
        },
      },
    ],
  });
  const source = Buffer.from(outputFiles[0].contents).toString('base64');
  return import(`data:text/javascript;base64,${source}`);
}

let loaded = null;
/** Starts bundling the checks now (it takes a second), to be awaited by `configProblems`. */
export const loadChecks = () => {
  loaded ??= bundledChecks();
  return loaded;
};

/** The variables `Env` declares (src/env.ts), bindings included. */
export function knownNames() {
  const source = readFileSync(path.join(ROOT, 'src/env.ts'), 'utf8');
  const body = /export interface Env \{([\s\S]*?)\n\}/.exec(source)?.[1] ?? '';
  return [...body.matchAll(/^ {2}([A-Z][A-Z0-9_]*)\??:/gm)].map((m) => m[1]);
}

/** Levenshtein distance, for "did you mean". */
function distance(a, b) {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** A problem for each name in `names` that the Worker does not read. */
export function unknownNameProblems(names) {
  const known = knownNames();
  return names
    .filter((name) => !known.includes(name))
    .map((name) => {
      const near = known
        .map((k) => [k, distance(name, k)])
        .filter(([, d]) => d <= 3)
        .sort((a, b) => a[1] - b[1])[0]?.[0];
      return {
        name,
        message: `${name} is not a variable this Worker reads${near ? `: did you mean ${near}?` : ' (see "Configuration" in the README)'}`,
      };
    });
}

/** `text` with the values of `vars`' secrets taken out (belt and braces: no check quotes them). */
export function redactSecrets(text, vars) {
  let out = text;
  for (const name of SECRET_NAMES) {
    const value = vars[name];
    if (typeof value === 'string' && value.length >= 8) out = out.split(value).join('[redacted]');
  }
  return out;
}

/**
 * Every problem in `vars` (a name → string map, as the Worker gets them): the Worker's checks,
 * with `origin` the Worker's public origin when known (`PUBLIC_ORIGIN` wins), and the names it
 * does not read. Each `{ name, message }`.
 */
export async function configProblems(vars, { origin = null } = {}) {
  const strings = Object.fromEntries(Object.entries(vars).filter(([, v]) => typeof v === 'string'));
  const { CONFIG_CHECKS, configProblems: check } = await loadChecks();
  const publicOrigin = strings.PUBLIC_ORIGIN?.replace(/\/+$/, '') || origin;
  const found = [
    ...check(strings, CONFIG_CHECKS, { origin: publicOrigin }),
    ...unknownNameProblems(Object.keys(strings)),
  ];
  return found.map((p) => ({ name: p.name, message: redactSecrets(p.message, strings) }));
}

/** Lines that say `problems`, for a terminal (nothing when there are none). */
export function describeProblems(problems, who) {
  if (!problems.length) return [];
  return [
    `${who}: ${problems.length === 1 ? 'a problem' : `${problems.length} problems`} in the configuration (\`npm run doctor\` lists them too):`,
    ...problems.map((p) => `  - ${p.message}`),
  ];
}
