/**
 * The authorize page's phishing-resistant path (`POST /api/authorize/passkey`): a passkey from
 * the phone signs the browser in for the client as a scan would (a browser session with its
 * cookie, a code for the client, never a token), with every check of a passkey sign-in; a bad
 * assertion changes nothing, and accounts of a site (`IDENTITY=jwt`) have no such path.
 */
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { errorOf, login, PC_UA } from '../helpers';
import { Authenticator } from '../passkeys/authenticator';
import { addPasskey, type Call, call, signInOptions } from '../passkeys/support';
import {
  authorizeParams,
  cookieOf,
  exchange,
  GRAFANA,
  type PageStart,
  pageStart,
  pkce,
  redirectParams,
} from './oidc-support';

/** A site's own accounts (`IDENTITY=jwt`). */
const SITE_ACCOUNTS = {
  IDENTITY: 'jwt',
  IDENTITY_ISSUER: 'https://site.example',
  IDENTITY_AUDIENCE: 'x',
  IDENTITY_JWT_SECRET: 's'.repeat(32),
};

const ORIGIN_HEADERS = { 'User-Agent': PC_UA };

async function started(challenge: string): Promise<PageStart> {
  const res = await pageStart(authorizeParams(GRAFANA, challenge));
  expect(res.status).toBe(200);
  return res.json();
}

const withPasskey = (authorization: string, assertion: unknown, vars?: Call['vars']) =>
  call('/api/authorize/passkey', {
    method: 'POST',
    body: { authorization, assertion },
    headers: ORIGIN_HEADERS,
    vars,
  });

describe('a passkey from the phone, on the authorize page', () => {
  it('signs the browser in for the client: its cookie and a code, no token; the code gives the user’s id_token', async () => {
    const phone = await login();
    const passkey = await addPasskey(phone.token);
    const { verifier, challenge } = await pkce();
    const start = await started(challenge);
    const res = await withPasskey(start.authorization, await passkey.assert(await signInOptions()));
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toMatch(/token/i);
    const body = JSON.parse(text) as { redirect_to: string };
    expect(Object.keys(body)).toEqual(['redirect_to']);
    const back = redirectParams(body.redirect_to);
    expect(body.redirect_to.startsWith(`${GRAFANA.redirect}?`)).toBe(true);
    expect(back).toMatchObject({ code: expect.any(String), state: 'st-123', iss: 'https://login.example' });
    expect(res.headers.get('Set-Cookie')).toMatch(/^__Host-sso=[^;]+; Path=\/;.*HttpOnly; SameSite=Lax; Secure$/);

    const tokens = await exchange(back.code!, verifier);
    expect(tokens.status).toBe(200);
    const { id_token } = (await tokens.json()) as { id_token: string };
    expect(decodeJwt(id_token)).toMatchObject({
      sub: 'u_dong',
      aud: GRAFANA.id,
      nonce: 'n-456',
      preferred_username: 'dong',
      sid: expect.any(String),
    });
    // The browser's session is listed on the phone as any other sign-in by the authorize page.
    const sessions = (await (await call('/api/sessions', { token: phone.token })).json()) as {
      via: string;
      clients?: { client_id: string }[];
    }[];
    expect(sessions).toContainEqual(
      expect.objectContaining({ via: 'oidc', clients: [expect.objectContaining({ client_id: GRAFANA.id })] }),
    );
    // "Continue as" works from that cookie, as after a scan.
    const again = await pageStart(authorizeParams(GRAFANA, challenge), cookieOf(res));
    expect(((await again.json()) as PageStart).continue_as).toEqual({ display_name: '东东' });
  });

  it('refuses an assertion that does not hold (another origin’s challenge, a passkey nobody registered): 401, nothing made', async () => {
    const { challenge } = await pkce();
    const start = await started(challenge);
    const stranger = await Authenticator.create();
    const res = await withPasskey(start.authorization, await stranger.assert(await signInOptions()));
    expect(await errorOf(res)).toMatchObject({ status: 401, error: 'invalid_credentials' });
    expect(res.headers.get('Set-Cookie')).toBeNull();
  });

  it('needs the page’s authorization, and has no passkey path for a site’s accounts (IDENTITY=jwt)', async () => {
    const phone = await login();
    const passkey = await addPasskey(phone.token);
    const assertion = await passkey.assert(await signInOptions());
    expect(await errorOf(await withPasskey('forged', assertion))).toMatchObject({
      status: 400,
      error: 'invalid_request',
    });
    const { challenge } = await pkce();
    const start = await started(challenge);
    expect(await errorOf(await withPasskey(start.authorization, assertion, SITE_ACCOUNTS))).toMatchObject({
      status: 404,
      error: 'not_found',
    });
  });
});
