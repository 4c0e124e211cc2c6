#!/usr/bin/env node
/**
 * `npm run doctor`: what is wrong in the configuration, before a request trips over it.
 *
 *   npm run doctor -- [--var KEY:VALUE]... [--origin URL] [--config wrangler.toml]
 *
 * Reads the variables as `npm run dev` gives them to the Worker (wrangler.toml `[vars]`, then
 * `.dev.vars`), then those of the environment whose names the Worker reads (as `SIGNING_KEY`
 * for `npm start`), then `--var`; checks them with the Worker's own checks
 * (`scripts/config-check.mjs`), and names each mistake's variable, where it was set, and what
 * would be right. A secret's value is never printed. `--origin` is the Worker's public origin,
 * for the checks that need it (the passkeys' domain), when `PUBLIC_ORIGIN` does not say it
 * (default `http://localhost:8787`). Exits 1 when anything is wrong, else 0.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { configProblems, knownNames, loadChecks } from './config-check.mjs';
import { cliVars, localVars } from './project-config.mjs';
import { ROOT, shortPath } from './run-wrangler.mjs';
import { secretVarWarnings } from './secrets.mjs';

function usage(message) {
  if (message) console.error(`npm run doctor: ${message}`);
  console.error('usage: npm run doctor -- [--var KEY:VALUE]... [--origin URL] [--config wrangler.toml]');
  process.exit(2);
}

export function parseArgs(argv) {
  const opts = { vars: cliVars(argv), origin: 'http://localhost:8787', config: path.join(ROOT, 'wrangler.toml') };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].includes('=') ? argv[i].split(/=(.*)/s) : [argv[i], undefined];
    const value = () => inline ?? argv[++i] ?? usage(`${flag} needs a value`);
    if (flag === '--var') value();
    else if (flag === '--origin') opts.origin = value();
    else if (flag === '--config') opts.config = path.resolve(value());
    else if (flag === '--help' || flag === '-h') usage();
    else usage(`unknown argument ${argv[i]}`);
  }
  return opts;
}

/** The names `.dev.vars` (beside `configPath`) sets, to say where a value came from. */
function devVarNames(configPath) {
  const file = path.join(path.dirname(configPath), '.dev.vars');
  if (!existsSync(file)) return new Set();
  return new Set(
    [...readFileSync(file, 'utf8').matchAll(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/gm)].map((m) => m[1]),
  );
}

/** The variables to check, and where each came from. */
export async function gather({ vars = {}, config = path.join(ROOT, 'wrangler.toml') } = {}) {
  const files = await localVars(config);
  const dev = devVarNames(config);
  const known = new Set(knownNames());
  const fromEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => known.has(name) && /^[A-Z][A-Z0-9_]*$/.test(name)),
  );
  const all = { ...files, ...fromEnv, ...vars };
  const where = (name) =>
    name in vars
      ? '--var'
      : name in fromEnv
        ? 'the environment'
        : dev.has(name)
          ? `${shortPath(path.join(path.dirname(config), '.dev.vars'))}`
          : `${shortPath(config)} [vars]`;
  const values = Object.fromEntries(Object.entries(all).filter(([, v]) => typeof v === 'string'));
  return { values, where };
}

export async function doctor(opts, { log = console.log } = {}) {
  loadChecks();
  for (const line of secretVarWarnings(opts.vars, 'npm run doctor')) console.error(line);
  const { values, where } = await gather(opts);
  const problems = await configProblems(values, { origin: opts.origin });
  const checked = Object.keys(values).length;
  if (!problems.length) {
    log(`npm run doctor: nothing wrong in the configuration (${checked} variables checked).`);
    return 0;
  }
  log(`npm run doctor: ${problems.length === 1 ? 'a problem' : `${problems.length} problems`} in the configuration:`);
  for (const p of problems) log(`  - ${p.message} [${where(p.name)}]`);
  return 1;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const opts = parseArgs(process.argv.slice(2));
  try {
    process.exitCode = await doctor(opts);
  } catch (err) {
    // A configuration file that cannot be read at all (wrangler says why).
    console.error(
      `npm run doctor: ${err.text ?? err.message}${err.location ? ` (${err.location.file}:${err.location.line})` : ''}`,
    );
    process.exitCode = 2;
  } finally {
    // esbuild's service must not be left mid-build as the process ends.
    await loadChecks().catch(() => {});
  }
}
