/**
 * @module
 * What `identity/` contributes to the configuration check (`http/config-check.ts`): `IDENTITY`,
 * and with `jwt` what verifying a site's token needs, parsed as a request parses it
 * (`siteVerifier`); the site's variables set while `IDENTITY` is not `jwt` (they do nothing).
 */
import { type ConfigCheck, type ConfigProblem, parsed, problem, quoted } from '../http/config-check';
import { identityMode } from '../user/identity-source';
import { siteVerifier } from './site-jwt';

/** The variables only `IDENTITY=jwt` reads. */
const SITE_VARS = [
  'IDENTITY_JWKS_URL',
  'IDENTITY_JWT_SECRET',
  'IDENTITY_ISSUER',
  'IDENTITY_AUDIENCE',
  'IDENTITY_LOGIN_URL',
] as const;

export const identityChecks: ConfigCheck = (env) => {
  const mode = parsed(() => identityMode(env));
  if (mode.length) return mode;
  const found: ConfigProblem[] = [];
  if (identityMode(env) !== 'jwt') {
    for (const name of SITE_VARS) {
      if (env[name])
        found.push(
          problem(
            name,
            'is set, but IDENTITY is not "jwt": it is ignored. Set IDENTITY=jwt to sign the phone in with the site’s tokens, or remove it.',
          ),
        );
    }
    return found;
  }
  for (const name of ['IDENTITY_ISSUER', 'IDENTITY_AUDIENCE'] as const) {
    if (!env[name]?.trim()) {
      found.push(
        problem(
          name,
          `is not set: IDENTITY=jwt needs the "${name === 'IDENTITY_ISSUER' ? 'iss' : 'aud'}" that the site’s tokens carry.`,
        ),
      );
    }
  }
  if (!found.length) found.push(...parsed(() => siteVerifier(env)));
  if (env.IDENTITY_JWKS_URL && env.IDENTITY_JWT_SECRET) {
    found.push(
      problem(
        'IDENTITY_JWT_SECRET',
        'is set beside IDENTITY_JWKS_URL, which wins: the secret is ignored. Keep one of them.',
      ),
    );
  }
  const login = env.IDENTITY_LOGIN_URL?.trim();
  if (login) {
    let url: URL | null = null;
    try {
      url = new URL(login, 'https://worker.invalid');
    } catch {
      // said below
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      found.push(
        problem(
          'IDENTITY_LOGIN_URL',
          `is ${quoted(login)}: it must be the address of the site’s sign-in page, such as "https://shop.example/login".`,
        ),
      );
    }
  }
  return found;
};
