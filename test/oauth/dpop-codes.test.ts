/**
 * DPoP in the authorization code flow (RFC 9449 §10): `dpop_jkt` at `/oauth/authorize` (or a
 * proof at `/oauth/par`) binds the code to a key; the exchange must prove it, and a copied code
 * without it collects nothing and revokes nothing. A client registered with
 * `dpop_bound_access_tokens` must send a proof with every token request.
 */
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { api } from '../helpers';
import { dpopAuth, dpopKey, proof } from '../tokens/dpop-support';
import {
  authorizeParams,
  BOUND,
  basicAuth,
  exchange,
  PUSHY,
  pkce,
  redirectParams,
  SPA,
  signInByScan,
} from './oidc-support';
import { oauthErrorOf, postForm } from './support';

const tokenProof = (key: Awaited<ReturnType<typeof dpopKey>>) => proof(key, 'POST', '/oauth/token');

describe('a code bound to a key (dpop_jkt)', () => {
  it('is exchanged only with a proof of that key; without it nothing is spent, and the tokens are bound', async () => {
    const key = await dpopKey();
    const { verifier, challenge } = await pkce();
    const { redirect_to } = await signInByScan(authorizeParams(SPA, challenge, { dpop_jkt: key.jkt }));
    const { code } = redirectParams(redirect_to);

    const without = await exchange(code ?? '', verifier, SPA, { client_id: SPA.id });
    expect(await oauthErrorOf(without)).toMatchObject({ status: 400, error: 'invalid_grant' });
    const thief = await dpopKey();
    const other = await exchange(code ?? '', verifier, SPA, { client_id: SPA.id }, { DPoP: await tokenProof(thief) });
    expect(await oauthErrorOf(other)).toMatchObject({ status: 400, error: 'invalid_grant' });

    const res = await exchange(code ?? '', verifier, SPA, { client_id: SPA.id }, { DPoP: await tokenProof(key) });
    expect(res.status).toBe(200);
    const tokens = (await res.json()) as { access_token: string; token_type: string; refresh_token: string };
    expect(tokens.token_type).toBe('DPoP');
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: key.jkt });
    const info = await api('/oauth/userinfo', {
      headers: await dpopAuth(key, tokens.access_token, 'GET', '/oauth/userinfo'),
    });
    expect(info.status).toBe(200);
  });

  it('refuses a dpop_jkt that is not a thumbprint, back at the redirect URI', async () => {
    const { challenge } = await pkce();
    const res = await api(
      `/oauth/authorize?${new URLSearchParams(authorizeParams(SPA, challenge, { dpop_jkt: 'short' }))}`,
      { redirect: 'manual' },
    );
    expect(res.status).toBe(302);
    expect(redirectParams(res)).toMatchObject({ error: 'invalid_request' });
  });

  it('binds a code through PAR: the pushed request’s proof is the key the exchange must prove', async () => {
    const key = await dpopKey('EdDSA');
    const { verifier, challenge } = await pkce();
    const pushed = await postForm('/oauth/par', authorizeParams(PUSHY, challenge), {
      ...basicAuth(PUSHY.id, PUSHY.secret),
      DPoP: await proof(key, 'POST', '/oauth/par'),
    });
    expect(pushed.status).toBe(201);
    const { request_uri } = (await pushed.json()) as { request_uri: string };
    const { redirect_to } = await signInByScan({ client_id: PUSHY.id, request_uri });
    const { code } = redirectParams(redirect_to);
    const without = await exchange(code ?? '', verifier, PUSHY);
    expect(await oauthErrorOf(without)).toMatchObject({ error: 'invalid_grant' });
    const res = await exchange(
      code ?? '',
      verifier,
      PUSHY,
      {},
      {
        ...basicAuth(PUSHY.id, PUSHY.secret),
        DPoP: await tokenProof(key),
      },
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { token_type: string }).token_type).toBe('DPoP');
  });

  it('refuses a pushed request whose dpop_jkt is not its proof’s key', async () => {
    const key = await dpopKey();
    const other = await dpopKey();
    const { challenge } = await pkce();
    const res = await postForm('/oauth/par', authorizeParams(PUSHY, challenge, { dpop_jkt: other.jkt }), {
      ...basicAuth(PUSHY.id, PUSHY.secret),
      DPoP: await proof(key, 'POST', '/oauth/par'),
    });
    expect(await oauthErrorOf(res)).toMatchObject({ status: 400, error: 'invalid_dpop_proof' });
  });
});

describe('a client registered with dpop_bound_access_tokens', () => {
  it('gets no token without a proof (and the code is not spent), and a DPoP token with one', async () => {
    const key = await dpopKey();
    const { verifier, challenge } = await pkce();
    const { redirect_to } = await signInByScan(authorizeParams(BOUND, challenge));
    const { code } = redirectParams(redirect_to);
    const without = await exchange(code ?? '', verifier, BOUND, { client_id: BOUND.id });
    expect(await oauthErrorOf(without)).toMatchObject({ status: 400, error: 'invalid_dpop_proof' });
    const res = await exchange(code ?? '', verifier, BOUND, { client_id: BOUND.id }, { DPoP: await tokenProof(key) });
    expect(res.status).toBe(200);
    const tokens = (await res.json()) as { token_type: string; refresh_token: string };
    expect(tokens.token_type).toBe('DPoP');

    // Its refresh needs one too.
    const refresh = (headers: Record<string, string>) =>
      postForm(
        '/oauth/token',
        { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: BOUND.id },
        headers,
      );
    expect(await oauthErrorOf(await refresh({}))).toMatchObject({ error: 'invalid_dpop_proof' });
    expect((await refresh({ DPoP: await tokenProof(key) })).status).toBe(200);
  });
});
