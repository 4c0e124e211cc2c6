/**
 * CORS for a site's pages (ALLOWED_ORIGINS) and what request bodies the API accepts.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { api, bearer, createQr, errorOf, freshIp, login, ORIGIN, postJson, status } from '../helpers';

const SITE = 'https://www.site.example';

function withEnv(path: string, init: RequestInit, extra: Partial<typeof env>) {
  return app.fetch(new Request(`${ORIGIN}${path}`, init), { ...env, ...extra });
}

describe('CORS (ALLOWED_ORIGINS)', () => {
  const allowed = { ALLOWED_ORIGINS: `${SITE}, https://other.example` };

  it('answers a preflight from an allowed origin with 204 and exactly the contract’s headers', async () => {
    const res = await withEnv(
      '/api/qrcodes/abc/status',
      {
        method: 'OPTIONS',
        headers: {
          Origin: SITE,
          'Access-Control-Request-Method': 'GET',
          'Access-Control-Request-Headers': 'x-poll-token',
        },
      },
      allowed,
    );
    expect(res.status).toBe(204);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe(SITE);
    expect(res.headers.get('Access-Control-Allow-Methods')).toBe('GET, POST, DELETE');
    expect(res.headers.get('Access-Control-Allow-Headers')).toBe('Authorization, Content-Type, X-Poll-Token');
    expect(res.headers.get('Access-Control-Max-Age')).toBe('600');
    expect(res.headers.get('Access-Control-Allow-Credentials')).toBeNull();
    expect(res.headers.get('Vary')).toContain('Origin');
  });

  it('allows the DPoP header to a preflight that asks for it, and exposes the DPoP challenge and nonce', async () => {
    const res = await withEnv(
      '/api/qrcodes',
      {
        method: 'OPTIONS',
        headers: {
          Origin: SITE,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'content-type, dpop',
        },
      },
      allowed,
    );
    expect(res.status).toBe(204);
    expect(res.headers.get('Access-Control-Allow-Headers')).toBe('Authorization, Content-Type, X-Poll-Token, DPoP');
    const created = await withEnv('/api/qrcodes', { method: 'POST', headers: { Origin: SITE } }, allowed);
    expect(created.headers.get('Access-Control-Expose-Headers')).toBe('Retry-After, DPoP-Nonce, WWW-Authenticate');
  });

  it('names an allowed origin on every API answer, errors included', async () => {
    const created = await withEnv('/api/qrcodes', { method: 'POST', headers: { Origin: SITE } }, allowed);
    expect(created.status).toBe(201);
    expect(created.headers.get('Access-Control-Allow-Origin')).toBe(SITE);
    expect(created.headers.get('Vary')).toContain('Origin');
    const refused = await withEnv('/api/me', { headers: { Origin: SITE } }, allowed);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('Access-Control-Allow-Origin')).toBe(SITE);
  });

  it('gives any other origin no Access-Control-Allow-Origin at all', async () => {
    for (const extra of [allowed, {}]) {
      for (const origin of ['https://evil.example', 'null', `${SITE}.evil.example`]) {
        const pre = await withEnv(
          '/api/qrcodes',
          { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' } },
          extra,
        );
        expect(pre.headers.get('Access-Control-Allow-Origin')).toBeNull();
        expect(pre.headers.get('Access-Control-Allow-Methods')).toBeNull();
        const res = await withEnv('/api/config', { headers: { Origin: origin } }, extra);
        expect(res.headers.get('Access-Control-Allow-Origin')).toBeNull();
      }
    }
  });
});

describe('request bodies', () => {
  it('a JSON endpoint answers 415 to a body that is not application/json (a cross-site simple POST)', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '']) {
      const res = await api('/api/login', {
        method: 'POST',
        headers: { 'Content-Type': type, 'CF-Connecting-IP': freshIp() },
        body: '{"username":"dong","password":"111"}',
      });
      expect(await errorOf(res)).toMatchObject({ status: 415, error: 'unsupported_media_type' });
    }
    const { token } = await login();
    const qr = await createQr();
    const res = await api(`/api/qrcodes/${qr.qrcode_id}/scan`, {
      method: 'POST',
      headers: { ...bearer(token), 'Content-Type': 'text/plain' },
      body: 'x',
    });
    expect(await errorOf(res)).toMatchObject({ status: 415 });
    // Nothing changed: the QR was not scanned.
    expect(await (await status(qr)).json()).toMatchObject({ status: 'noscan' });
  });

  it('accepts JSON with a charset, and steps without a body', async () => {
    const res = await postJson(
      '/api/login',
      { username: 'dong', password: '111' },
      { 'Content-Type': 'application/json; charset=utf-8', 'CF-Connecting-IP': freshIp() },
    );
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    const qr = await createQr();
    expect((await api(`/api/qrcodes/${qr.qrcode_id}/scan`, { method: 'POST', headers: bearer(token) })).status).toBe(
      200,
    );
  });
});
