/**
 * A QR login or a device code bound to a DPoP key (RFC 9449): created with a proof, it answers
 * only a poll that proves the same key (a copied poll token or device code alone collects
 * nothing), and what it hands out is bound to that key.
 */
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { act, api, bearer, createQr, freshIp, login, type QrBody } from '../helpers';
import { CLIENT_ID, DEVICE_CODE_GRANT, oauthErrorOf, phoneAnswers, postForm, storedRecord } from '../oauth/support';
import { type DpopKey, dpopAuth, dpopKey, proof } from '../tokens/dpop-support';

const statusPath = (qr: QrBody) => `/api/qrcodes/${qr.qrcode_id}/status`;

async function poll(qr: QrBody, key?: DpopKey): Promise<Response> {
  return api(statusPath(qr), {
    headers: {
      'X-Poll-Token': qr.poll_token,
      ...(key ? { DPoP: await proof(key, 'GET', statusPath(qr)) } : {}),
    },
  });
}

describe('a QR login created with a DPoP proof', () => {
  it('hands out a DPoP-bound token only to a poll that proves the same key', async () => {
    const key = await dpopKey();
    const qr = await createQr({ DPoP: await proof(key, 'POST', '/api/qrcodes') });
    const waiting = await poll(qr, key);
    expect(await waiting.json()).toMatchObject({ status: 'noscan', token_type: 'DPoP' });

    const { token: phone } = await login();
    await act(qr, 'scan', phone);
    await act(qr, 'confirm', phone);

    // The poll token alone, or with another key's proof: 401 with a DPoP challenge, nothing handed out.
    const copied = await poll(qr);
    expect(copied.status).toBe(401);
    expect(copied.headers.get('WWW-Authenticate')).toMatch(/^DPoP error="invalid_dpop_proof"/);
    const thief = await poll(qr, await dpopKey());
    expect(thief.status).toBe(401);

    const mine = await poll(qr, key);
    expect(mine.status).toBe(200);
    const body = (await mine.json()) as { status: string; token: string; token_type: string };
    expect(body).toMatchObject({ status: 'scan-confirm', token_type: 'DPoP' });
    expect(decodeJwt(body.token).cnf).toEqual({ jkt: key.jkt });
    expect((await api('/api/me', { headers: bearer(body.token) })).status).toBe(401);
    expect((await api('/api/me', { headers: await dpopAuth(key, body.token, 'GET', '/api/me') })).status).toBe(200);
  });

  it('refuses a bad proof at creation with 400 invalid_dpop_proof, and makes no login', async () => {
    const key = await dpopKey();
    const res = await api('/api/qrcodes', {
      method: 'POST',
      headers: { DPoP: await proof(key, 'POST', '/api/qrcodes', { iatOffset: -300 }) },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_dpop_proof' });
  });

  it('leaves a login created without a proof as it was: a Bearer token for a plain poll', async () => {
    const qr = await createQr();
    const { token: phone } = await login();
    await act(qr, 'scan', phone);
    await act(qr, 'confirm', phone);
    const body = (await (await poll(qr)).json()) as { token: string; token_type?: string };
    expect(body.token_type).toBeUndefined();
    expect((await api('/api/me', { headers: bearer(body.token) })).status).toBe(200);
  });
});

describe('a device code bound by a proof at /oauth/device_authorization', () => {
  const pollDevice = async (deviceCode: string, key?: DpopKey) =>
    postForm(
      '/oauth/token',
      { grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, client_id: CLIENT_ID },
      key ? { DPoP: await proof(key, 'POST', '/oauth/token') } : {},
    );

  it('collects nothing without the key (not counted as a poll) and a bound token with it', async () => {
    const key = await dpopKey('EdDSA');
    const res = await postForm(
      '/oauth/device_authorization',
      { client_id: CLIENT_ID },
      {
        'CF-Connecting-IP': freshIp(),
        DPoP: await proof(key, 'POST', '/oauth/device_authorization'),
      },
    );
    expect(res.status).toBe(200);
    const auth = (await res.json()) as { device_code: string; verification_uri_complete: string };
    await phoneAnswers(auth, 'confirm');

    expect(await oauthErrorOf(await pollDevice(auth.device_code))).toMatchObject({ error: 'invalid_grant' });
    expect(await oauthErrorOf(await pollDevice(auth.device_code, await dpopKey()))).toMatchObject({
      error: 'invalid_grant',
    });
    // A stale proof is the proof's fault: refused before the login is asked.
    const stale = await postForm(
      '/oauth/token',
      { grant_type: DEVICE_CODE_GRANT, device_code: auth.device_code, client_id: CLIENT_ID },
      { DPoP: await proof(key, 'POST', '/oauth/token', { iatOffset: -90 }) },
    );
    expect(await oauthErrorOf(stale)).toMatchObject({ error: 'invalid_dpop_proof' });
    expect((await storedRecord(auth))?.device?.last_poll_at).toBeNull();

    const granted = await pollDevice(auth.device_code, key);
    expect(granted.status).toBe(200);
    const tokens = (await granted.json()) as { access_token: string; token_type: string };
    expect(tokens.token_type).toBe('DPoP');
    expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: key.jkt });
  });
});
