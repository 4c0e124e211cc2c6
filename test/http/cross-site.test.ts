/**
 * Another site's page cannot spend a visitor's quotas: `POST /api/qrcodes` and
 * `POST /oauth/device_authorization` need no preflight, so a page anywhere can have a visitor's
 * browser send them (`no-cors`). Sent from an origin that is neither the Worker's own nor in
 * `ALLOWED_ORIGINS` (by `Origin`, or `Sec-Fetch-Site` without one), they answer 403 `forbidden`
 * and count nothing; a CLI (neither header) and the Worker's own pages go on working.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { errorOf, freshIp, ORIGIN, PC_UA } from '../helpers';
import { CLIENT_ID, oauthErrorOf } from '../oauth/support';

const EVIL = 'https://evil.example';
const SITE = 'https://www.site.example';
const config = { ALLOWED_ORIGINS: `${SITE}, https://other.example/`, PUBLIC_ORIGIN: 'http://192.168.1.20:8787' };

function post(path: string, ip: string, headers: Record<string, string>, extra: Partial<typeof env> = {}) {
  const form = path.startsWith('/oauth/');
  return app.fetch(
    new Request(`${ORIGIN}${path}`, {
      method: 'POST',
      headers: {
        'CF-Connecting-IP': ip,
        'User-Agent': PC_UA,
        ...(form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
        ...headers,
      },
      body: form ? `client_id=${CLIENT_ID}` : undefined,
    }),
    { ...env, ...config, ...extra },
  );
}

const newQr = (ip: string, headers: Record<string, string> = {}) => post('/api/qrcodes', ip, headers);
const newDevice = (ip: string, headers: Record<string, string> = {}) =>
  post('/oauth/device_authorization', ip, headers);

describe('another site’s page cannot spend a visitor’s quotas', () => {
  it('130 QR codes asked for by another site’s page are 403 forbidden, and the visitor’s own page still gets one', async () => {
    const visitor = freshIp();
    const answers = await Promise.all(Array.from({ length: 130 }, () => newQr(visitor, { Origin: EVIL })));
    expect([...new Set(answers.map((r) => r.status))]).toEqual([403]);
    expect(await errorOf(answers[0]!)).toMatchObject({ error: 'forbidden' });
    expect(answers[0]!.headers.get('Access-Control-Allow-Origin')).toBeNull();
    // Nothing was counted: the visitor's own QR page is not rate limited.
    expect((await newQr(visitor, { Origin: ORIGIN, 'Sec-Fetch-Site': 'same-origin' })).status).toBe(201);
  });

  it('130 device authorizations sent by another site’s page are 403 forbidden in RFC 6749’s shape, and count nothing', async () => {
    const visitor = freshIp();
    const answers = await Promise.all(Array.from({ length: 130 }, () => newDevice(visitor, { Origin: EVIL })));
    expect([...new Set(answers.map((r) => r.status))]).toEqual([403]);
    const refusal = await oauthErrorOf(answers[0]!);
    expect(refusal).toMatchObject({ status: 403, error: 'forbidden' });
    expect(refusal.error_description).toContain(EVIL);
    expect((await newQr(visitor, { Origin: ORIGIN })).status).toBe(201);
    expect((await newDevice(visitor)).status).toBe(200);
  });

  it('the Worker’s own origin, PUBLIC_ORIGIN and ALLOWED_ORIGINS pass; any other origin, null, or a cross-site fetch without Origin is 403', async () => {
    const cases: [string, Record<string, string>, number][] = [
      ['a CLI (no Origin, no Sec-Fetch-Site)', {}, 201],
      ['the Worker’s own page', { Origin: ORIGIN, 'Sec-Fetch-Site': 'same-origin' }, 201],
      ['a page at PUBLIC_ORIGIN', { Origin: config.PUBLIC_ORIGIN }, 201],
      ['an allowed site (a cross-site fetch)', { Origin: SITE, 'Sec-Fetch-Site': 'cross-site' }, 201],
      ['an allowed site listed with a trailing slash', { Origin: 'https://other.example' }, 201],
      ['the user’s own action (Sec-Fetch-Site: none)', { 'Sec-Fetch-Site': 'none' }, 201],
      ['same-origin without Origin', { 'Sec-Fetch-Site': 'same-origin' }, 201],
      ['another origin', { Origin: EVIL }, 403],
      ['another origin claiming same-origin', { Origin: EVIL, 'Sec-Fetch-Site': 'same-origin' }, 403],
      ['a sibling subdomain not in ALLOWED_ORIGINS', { Origin: 'https://evil.login.example' }, 403],
      ['another port of our host', { Origin: 'https://login.example:8443' }, 403],
      ['an opaque origin (a sandboxed frame)', { Origin: 'null' }, 403],
      ['a cross-site fetch without Origin', { 'Sec-Fetch-Site': 'cross-site' }, 403],
      ['a same-site (sibling) fetch without Origin', { 'Sec-Fetch-Site': 'same-site' }, 403],
    ];
    const wrong: string[] = [];
    for (const [what, headers, expected] of cases) {
      const qr = await newQr(freshIp(), headers);
      const device = await newDevice(freshIp(), headers);
      const got = [qr.status, device.status === 200 ? 201 : device.status];
      if (got.some((s) => s !== expected)) wrong.push(`${what}: ${got.join(', ')}`);
    }
    expect(wrong).toEqual([]);
  });
});
