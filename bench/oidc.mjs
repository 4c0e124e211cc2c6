/**
 * @module
 * The benchmark's OpenID Connect client (`npm run bench`, `npm run bench:profile`): a site that
 * signs its users in by scan through the code flow (`/api/authorize` as the authorize page calls
 * it, the phone's scan and confirm, the page's poll that carries the code, the site's code
 * exchange at `/oauth/token`), registered on the app's servers by these variables.
 */
import { createHash, randomBytes } from 'node:crypto';

export const BENCH_CLIENT = {
  id: 'bench-site',
  secret: 'bench-site-secret-not-for-anything-else',
  redirect: 'http://127.0.0.1/bench/callback',
};

/** `OIDC_CLIENTS` of the app's servers. */
export const OIDC_CLIENTS = JSON.stringify([
  { client_id: BENCH_CLIENT.id, client_name: 'Bench site', redirect_uris: [BENCH_CLIENT.redirect] },
]);

/** `OIDC_CLIENT_SECRETS` of the app's servers (a secret: from the environment, not a `--var`). */
export const OIDC_CLIENT_SECRETS = `${BENCH_CLIENT.id}:${BENCH_CLIENT.secret}`;

/** A PKCE verifier and its S256 challenge. */
export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The authorize request's parameters, as the page's address carries them. */
export const authorizeParams = (challenge) => ({
  response_type: 'code',
  client_id: BENCH_CLIENT.id,
  redirect_uri: BENCH_CLIENT.redirect,
  scope: 'openid profile',
  state: 'bench-state',
  nonce: 'bench-nonce',
  code_challenge: challenge,
  code_challenge_method: 'S256',
});

/** The site's code exchange: its form body and Basic authentication. */
export const tokenRequest = (code, verifier) => ({
  headers: {
    'content-type': 'application/x-www-form-urlencoded',
    authorization: `Basic ${Buffer.from(`${BENCH_CLIENT.id}:${BENCH_CLIENT.secret}`).toString('base64')}`,
  },
  body: new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    redirect_uri: BENCH_CLIENT.redirect,
    code_verifier: verifier,
  }).toString(),
});

/** The code of a `redirect_to` (null when it carries an error). */
export const codeOf = (redirectTo) => new URL(redirectTo).searchParams.get('code');
