/**
 * Pushed authorization requests (RFC 9126), driven by oauth4webapi as a relying party: the
 * client pushes its parameters from its backend, the browser's authorize request carries only
 * `client_id` and `request_uri`, once; a used, expired, unknown or another client's request URI
 * gets the error page, never a code nor a QR.
 */

import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import * as oauth from 'oauth4webapi';
import { describe, expect, it } from 'vitest';
import {
  authorize,
  authorizeParams,
  basicAuth,
  GRAFANA,
  PUSHY,
  pageStart,
  pkce,
  redirectParams,
  signInByScan,
} from './oidc-support';
import { ORIGIN, oauthErrorOf, postForm, workerFetch } from './support';

const issuer = new URL(ORIGIN);
const options = { [oauth.customFetch]: workerFetch };

async function discover() {
  return oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oidc' }),
  );
}

/** Pushes Pushy's request; its request URI. */
async function push(extra: Record<string, string> = {}) {
  const { challenge } = await pkce();
  const res = await postForm('/oauth/par', authorizeParams(PUSHY, challenge, extra), basicAuth(PUSHY.id, PUSHY.secret));
  expect(res.status).toBe(201);
  return ((await res.json()) as { request_uri: string }).request_uri;
}

describe('oauth4webapi with PAR', () => {
  it('pushes, the browser signs in by scan with only client_id and request_uri, the code is exchanged', async () => {
    const as = await discover();
    expect(as.pushed_authorization_request_endpoint).toBe(`${ORIGIN}/oauth/par`);
    const client: oauth.Client = { client_id: PUSHY.id };
    const auth = oauth.ClientSecretBasic(PUSHY.secret);
    const verifier = oauth.generateRandomCodeVerifier();
    const nonce = oauth.generateRandomNonce();
    const state = oauth.generateRandomState();
    const pushed = await oauth.processPushedAuthorizationResponse(
      as,
      client,
      await oauth.pushedAuthorizationRequest(
        as,
        client,
        auth,
        {
          response_type: 'code',
          redirect_uri: PUSHY.redirect,
          scope: 'openid profile',
          code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          nonce,
          state,
        },
        options,
      ),
    );
    expect(pushed.request_uri).toMatch(/^urn:ietf:params:oauth:request_uri:[0-9a-f]{64}$/);
    expect(pushed.expires_in).toBe(60);

    const query = { client_id: PUSHY.id, request_uri: pushed.request_uri };
    // The authorize endpoint shows the page (without spending it); the page's start spends it.
    expect((await authorize(query)).status).toBe(200);
    const { redirect_to, start } = await signInByScan(query);
    expect(start.client_name).toBe('Pushy');
    const params = oauth.validateAuthResponse(as, client, new URL(redirect_to), state);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      auth,
      params,
      PUSHY.redirect,
      verifier,
      options,
    );
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
      expectedNonce: nonce,
      requireIdToken: true,
    });
    expect(oauth.getValidatedIdTokenClaims(tokens)).toMatchObject({ sub: 'u_dong', aud: PUSHY.id, nonce });

    // One use: the same request URI again is the error page, at the endpoint and for the page.
    const again = await authorize(query);
    expect(again.status).toBe(400);
    expect(again.headers.get('Location')).toBeNull();
    expect(await again.text()).toMatch(/expired or was already used/);
    const page = await pageStart(query);
    expect(page.status).toBe(400);
  });
});

describe('POST /oauth/par', () => {
  it('checks the pushed request as the authorize endpoint would, answering the client in JSON', async () => {
    const { challenge } = await pkce();
    const cases: [Record<string, string | undefined>, string][] = [
      [{ scope: 'profile' }, 'invalid_scope'],
      [{ code_challenge_method: 'plain' }, 'invalid_request'],
      [{ redirect_uri: 'https://evil.example/' }, 'invalid_request'],
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ request_uri: 'urn:ietf:params:oauth:request_uri:x' }, 'invalid_request'],
    ];
    for (const [extra, error] of cases) {
      const res = await postForm(
        '/oauth/par',
        authorizeParams(PUSHY, challenge, extra),
        basicAuth(PUSHY.id, PUSHY.secret),
      );
      expect(await oauthErrorOf(res)).toMatchObject({ status: 400, error });
    }
  });

  it('needs the client’s authentication by its method', async () => {
    const { challenge } = await pkce();
    for (const headers of [{}, basicAuth(PUSHY.id, 'wrong'), basicAuth(GRAFANA.id, GRAFANA.secret)]) {
      const res = await postForm('/oauth/par', authorizeParams(PUSHY, challenge), headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('WWW-Authenticate')).toMatch(/^Basic /);
    }
    // Grafana pushes its own requests fine (it may, it need not).
    const res = await postForm(
      '/oauth/par',
      authorizeParams(GRAFANA, challenge),
      basicAuth(GRAFANA.id, GRAFANA.secret),
    );
    expect(res.status).toBe(201);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
  });

  it('a request URI that is unknown, another client’s or expired gets the error page', async () => {
    const requestUri = await push();
    const unknown = `urn:ietf:params:oauth:request_uri:${env.PUSHED_REQUEST.newUniqueId().toString()}`;
    for (const query of [
      { client_id: PUSHY.id, request_uri: unknown },
      { client_id: PUSHY.id, request_uri: 'urn:ietf:params:oauth:request_uri:forged' },
      { client_id: GRAFANA.id, request_uri: requestUri },
    ]) {
      const res = await authorize(query);
      expect(res.status).toBe(400);
      expect(res.headers.get('Location')).toBeNull();
    }
    // A minute later it is gone.
    const id = requestUri.split(':').pop()!;
    await runInDurableObject(env.PUSHED_REQUEST.get(env.PUSHED_REQUEST.idFromString(id)), (_instance, state) => {
      const stored = state.storage.kv.get<{ expires_at: number }>('request')!;
      state.storage.kv.put('request', { ...stored, expires_at: Date.now() - 1 });
    });
    expect((await authorize({ client_id: PUSHY.id, request_uri: requestUri })).status).toBe(400);
  });

  it('prompt=none through a pushed request answers at once (and spends it)', async () => {
    const requestUri = await push({ prompt: 'none' });
    const res = await authorize({ client_id: PUSHY.id, request_uri: requestUri });
    expect(res.status).toBe(302);
    expect(redirectParams(res)).toMatchObject({ error: 'login_required', state: 'st-123', iss: ORIGIN });
    expect((await authorize({ client_id: PUSHY.id, request_uri: requestUri })).status).toBe(400);
  });
});
