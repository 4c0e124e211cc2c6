/**
 * `GET /api/origin-check`: any page may ask whether its origin may call the API, so that
 * `<qr-login>` on a page missing from `ALLOWED_ORIGINS` can say so instead of retrying forever.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { ORIGIN } from '../helpers';

const SITE = 'https://shop.example';

async function check(headers: Record<string, string>, extra: Record<string, string> = {}) {
  const res = await app.fetch(new Request(`${ORIGIN}/api/origin-check`, { headers }), { ...env, ...extra });
  expect(res.status).toBe(200);
  return { res, body: (await res.json()) as { origin: string | null; allowed: boolean } };
}

describe('GET /api/origin-check', () => {
  it('tells a page whose origin is not in ALLOWED_ORIGINS so, readable from that page', async () => {
    for (const extra of [{}, { ALLOWED_ORIGINS: 'https://other.example' }] as Record<string, string>[]) {
      const { res, body } = await check({ Origin: SITE }, extra);
      expect(body).toEqual({ origin: SITE, allowed: false });
      expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
      expect(res.headers.get('Cache-Control')).toBe('no-store');
    }
    // A sandboxed frame or a file says `null`.
    expect((await check({ Origin: 'null' }, { ALLOWED_ORIGINS: SITE })).body).toEqual({
      origin: 'null',
      allowed: false,
    });
  });

  it('says allowed for an origin in ALLOWED_ORIGINS (a trailing slash there ignored)', async () => {
    const { res, body } = await check({ Origin: SITE }, { ALLOWED_ORIGINS: `https://other.example, ${SITE}/` });
    expect(body).toEqual({ origin: SITE, allowed: true });
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('*');
    // Only the exact origin: another port or a longer host is another origin.
    for (const origin of [`${SITE}:8443`, `${SITE}.evil.example`, 'http://shop.example']) {
      expect((await check({ Origin: origin }, { ALLOWED_ORIGINS: SITE })).body.allowed, origin).toBe(false);
    }
  });

  it("says allowed for the Worker's own pages, as reached or as PUBLIC_ORIGIN names them", async () => {
    expect((await check({ Origin: ORIGIN })).body).toEqual({ origin: ORIGIN, allowed: true });
    const lan = 'http://192.168.1.23:8787';
    expect((await check({ Origin: lan }, { PUBLIC_ORIGIN: lan })).body.allowed).toBe(true);
  });

  it('answers a request without Origin (not a cross-origin page) with null, allowed', async () => {
    expect((await check({})).body).toEqual({ origin: null, allowed: true });
  });

  it('answers GET only', async () => {
    const res = await app.fetch(new Request(`${ORIGIN}/api/origin-check`, { method: 'POST' }), env);
    expect(res.status).toBe(405);
    expect(res.headers.get('Allow')).toBe('GET');
  });
});
