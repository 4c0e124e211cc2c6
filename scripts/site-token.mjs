#!/usr/bin/env node
/**
 * `npm run site-token -- [--sub ID] [--username NAME] [--name "Display name"] [--ttl SECONDS]
 *   [--key FILE [--jwks]] [--var KEY:VALUE]...`: prints a JWT as a site's own login would issue
 * it, for developing against a Worker with `IDENTITY=jwt`; a phone or an app sends it as
 * `Authorization: Bearer …`.
 *
 * It signs for the identity settings the local Worker has: `wrangler.toml` [vars], then
 * `.dev.vars`, then the environment (where `IDENTITY_JWT_SECRET` belongs: npm prints a `--var`),
 * then `--var` (the same `--var`s as `npm run dev` took):
 * `IDENTITY_ISSUER` and `IDENTITY_AUDIENCE` become `iss` and `aud`; with
 * `IDENTITY_JWT_SECRET` it signs HS256 with that secret's UTF-8 bytes, as the Worker reads it.
 * With `IDENTITY_JWKS_URL` the site's private key signs: `--key FILE`, a private JWK (RS256,
 * ES256 or EdDSA) or a set of them, whose first key signs (`npm run keygen --silent >
 * site-key.json` makes a set of an EdDSA and an RS256 key), and `--jwks` prints the public
 * JWKS of those keys, to serve at `IDENTITY_JWKS_URL`, instead of a token.
 *
 * The token alone goes to stdout (`TOKEN=$(npm run site-token --silent -- --sub alice)`); a
 * line saying what it is goes to stderr when that is a terminal.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { exportJWK, importJWK, SignJWT } from 'jose';
import { cliVars, localVars } from './project-config.mjs';
import { OperatorError } from './run-wrangler.mjs';
import { secretVarWarnings } from './secrets.mjs';

const USAGE =
  'usage: npm run site-token -- [--sub ID] [--username NAME] [--name "Display name"] [--ttl SECONDS] [--key private-jwk.json [--jwks]] [--var KEY:VALUE]...';
// What the Worker requires of IDENTITY_JWT_SECRET (src/identity/site-jwt.ts).
const MIN_SECRET_BYTES = 32;
const SETTINGS = ['IDENTITY_JWT_SECRET', 'IDENTITY_JWKS_URL', 'IDENTITY_ISSUER', 'IDENTITY_AUDIENCE'];

export function parseArgs(argv) {
  const opts = { sub: 'site-user', username: null, name: null, ttl: 600, key: null, jwks: false, vars: cliVars(argv) };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new OperatorError(`${arg} needs a value\n${USAGE}`);
      return argv[++i];
    };
    if (arg === '--sub') opts.sub = value();
    else if (arg === '--username') opts.username = value();
    else if (arg === '--name') opts.name = value();
    else if (arg === '--key') opts.key = value();
    else if (arg === '--jwks') opts.jwks = true;
    else if (arg === '--var') value();
    else if (arg.startsWith('--var=')) continue;
    else if (arg === '--ttl') {
      opts.ttl = Number(value());
      if (!Number.isInteger(opts.ttl) || opts.ttl <= 0)
        throw new OperatorError('--ttl must be a whole number of seconds');
    } else throw new OperatorError(`unknown argument ${arg}\n${USAGE}`);
  }
  if (opts.jwks && !opts.key) throw new OperatorError('--jwks prints the public half of --key FILE: give the key');
  return opts;
}

/** The identity settings the local Worker would have, with `vars` over them. */
export async function identitySettings(vars = {}) {
  const local = await localVars();
  const env = Object.fromEntries(SETTINGS.filter((k) => process.env[k]).map((k) => [k, process.env[k]]));
  return { ...local, ...env, ...vars };
}

/** The signing key and algorithm: the site's private JWK, or the shared secret. */
async function signingKey(settings, keyFile) {
  if (keyFile) {
    let file;
    try {
      file = JSON.parse(readFileSync(keyFile, 'utf8'));
    } catch (err) {
      throw new OperatorError(`--key ${keyFile} is not a JWK file: ${err.message}`);
    }
    // One JWK, or a JWK set (what `npm run keygen` prints): its first key signs.
    const jwks = Array.isArray(file?.keys) ? file.keys : [file];
    const keys = jwks.map((jwk) => {
      if (!jwk?.d) throw new OperatorError(`--key ${keyFile} is a public key: the private JWK (with "d") signs`);
      const alg =
        jwk.alg ??
        { OKP: 'EdDSA', RSA: 'RS256' }[jwk.kty] ??
        (jwk.kty === 'EC' && jwk.crv === 'P-256' ? 'ES256' : null);
      if (!['RS256', 'ES256', 'EdDSA'].includes(alg)) {
        throw new OperatorError(`--key ${keyFile}: the Worker accepts RS256, ES256 and EdDSA, not ${alg ?? jwk.kty}`);
      }
      return { alg, kid: jwk.kid, jwk };
    });
    if (keys.length === 0) throw new OperatorError(`--key ${keyFile} has no key in its "keys"`);
    const [{ alg, kid, jwk }] = keys;
    return { key: await importJWK(jwk, alg), alg, kid, keys };
  }
  if (settings.IDENTITY_JWKS_URL) {
    throw new OperatorError(
      `IDENTITY_JWKS_URL is ${settings.IDENTITY_JWKS_URL}: the site's private key signs, so give it with --key FILE ` +
        '(`npm run keygen --silent > site-key.json` makes one; `--key site-key.json --jwks` prints the JWKS to serve)',
    );
  }
  const secret = settings.IDENTITY_JWT_SECRET;
  if (!secret) {
    throw new OperatorError(
      'neither IDENTITY_JWT_SECRET nor IDENTITY_JWKS_URL is set (in .dev.vars, wrangler.toml [vars], the environment or --var)',
    );
  }
  const bytes = new TextEncoder().encode(secret);
  if (bytes.byteLength < MIN_SECRET_BYTES) {
    throw new OperatorError(
      `IDENTITY_JWT_SECRET is ${bytes.byteLength} bytes; the Worker refuses fewer than ${MIN_SECRET_BYTES}`,
    );
  }
  return { key: bytes, alg: 'HS256', kid: undefined };
}

/** The token (or, with `jwks`, the public JWKS) as text. */
export async function siteToken(opts) {
  const settings = await identitySettings(opts.vars);
  const { key, alg, kid, keys } = await signingKey(settings, opts.key);
  if (opts.jwks) {
    const published = [];
    for (const { alg, kid, jwk } of keys) {
      const { d, p, q, dp, dq, qi, ...rest } = jwk;
      published.push({ ...(await exportJWK(await importJWK(rest, alg))), kid, alg, use: 'sig' });
    }
    return {
      text: JSON.stringify({ keys: published }),
      note: `the public JWKS of ${opts.key}: serve it at IDENTITY_JWKS_URL`,
    };
  }
  for (const name of ['IDENTITY_ISSUER', 'IDENTITY_AUDIENCE']) {
    if (!settings[name]) throw new OperatorError(`${name} is not set; the Worker requires it with IDENTITY=jwt`);
  }
  const claims = { preferred_username: opts.username ?? opts.sub, ...(opts.name ? { name: opts.name } : {}) };
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg, typ: 'JWT', ...(kid ? { kid } : {}) })
    .setSubject(opts.sub)
    .setIssuer(settings.IDENTITY_ISSUER)
    .setAudience(settings.IDENTITY_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${opts.ttl}s`)
    .sign(key);
  return {
    text: token,
    note: `a site token for "${opts.sub}" (${alg}, iss ${settings.IDENTITY_ISSUER}, aud ${settings.IDENTITY_AUDIENCE}), valid ${opts.ttl} s`,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const opts = parseArgs(process.argv.slice(2));
    for (const line of secretVarWarnings(opts.vars, 'npm run site-token')) console.error(line);
    const { text, note } = await siteToken(opts);
    console.log(text);
    if (process.stderr.isTTY) console.error(`# ${note}`);
  } catch (err) {
    if (!(err instanceof OperatorError)) throw err;
    console.error(`npm run site-token: ${err.message}`);
    process.exit(err.message.includes(USAGE) ? 2 : 1);
  }
}
