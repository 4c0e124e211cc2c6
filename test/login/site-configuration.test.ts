/**
 * What a site sets to adopt the Worker by configuration: its own scan URL and name, a code to
 * type only when asked, a phone that sees where the request comes from, and a PC that learns
 * only the scanner's display name until it is signed in. (CORS and bodies: test/http/.)
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { ipNetwork, placesDiffer } from '../../src/http/request-info';
import {
  act,
  api,
  bearer,
  createQr,
  errorOf,
  freshIp,
  login,
  ORIGIN,
  postJson,
  type QrBody,
  status,
  userCodeOf,
} from '../helpers';

const _SITE = 'https://www.site.example';

function withEnv(path: string, init: RequestInit, extra: Partial<typeof env>) {
  return app.fetch(new Request(`${ORIGIN}${path}`, init), { ...env, ...extra });
}

describe('SCAN_URL_TEMPLATE and SITE_NAME', () => {
  it('the QR opens the site’s own page or app link, with {id} replaced', async () => {
    const res = await withEnv(
      '/api/qrcodes',
      { method: 'POST', headers: { 'CF-Connecting-IP': freshIp() } },
      { SCAN_URL_TEMPLATE: 'https://app.site.example/qr/{id}?src=qr' },
    );
    const qr = (await res.json()) as QrBody;
    expect(qr.scan_url).toBe(`https://app.site.example/qr/${qr.qrcode_id}?src=qr`);
    expect(decodeURIComponent(qr.img)).toMatch(/^data:image\/svg\+xml,/);
  });

  it('a template without {id} is a logged 500 that starts no session', async () => {
    const res = await withEnv(
      '/api/qrcodes',
      { method: 'POST', headers: { 'CF-Connecting-IP': freshIp() } },
      { SCAN_URL_TEMPLATE: 'https://app.site.example/qr' },
    );
    expect(await errorOf(res)).toMatchObject({ status: 500, error: 'server_error' });
  });

  it('GET /api/config tells the pages the site name and the identity source', async () => {
    expect(await (await api('/api/config')).json()).toEqual({
      development: false,
      match_code: false,
      site_name: 'QR Login',
      identity: 'accounts',
      identity_login_url: null,
      site_accent: null,
      site_logo: null,
      passkey_rp_id: 'login.example',
    });
    const custom = await withEnv(
      '/api/config',
      {},
      { SITE_NAME: 'Acme', IDENTITY: 'jwt', IDENTITY_LOGIN_URL: 'https://acme.example/login' },
    );
    expect(await custom.json()).toMatchObject({
      site_name: 'Acme',
      identity: 'jwt',
      identity_login_url: 'https://acme.example/login',
    });
  });
});

describe('what the phone learns when it scans', () => {
  it('the site name, its own place, and whether the requester is elsewhere', async () => {
    const { token } = await login();
    const scanFrom = async (pcIp: string, phoneIp: string) => {
      const qr = await createQr({ 'CF-Connecting-IP': pcIp });
      const res = await api(`/api/qrcodes/${qr.qrcode_id}/scan`, {
        method: 'POST',
        headers: { ...bearer(token), 'CF-Connecting-IP': phoneIp },
      });
      return (await res.json()) as Record<string, unknown>;
    };
    const near = await scanFrom('203.0.113.10', '203.0.113.77');
    expect(near).toMatchObject({
      site_name: 'QR Login',
      phone: { ip: '203.0.113.77' },
      requester: { ip: '203.0.113.10' },
      location_differs: false,
    });
    expect((await scanFrom('198.51.100.10', '203.0.113.77')).location_differs).toBe(true);
  });

  it('compares countries when both are known, else IP networks (/24, /48)', () => {
    expect(placesDiffer({ country: 'CN', ip: '1.2.3.4' }, { country: 'CN', ip: '9.9.9.9' })).toBe(false);
    expect(placesDiffer({ country: 'CN', ip: '1.2.3.4' }, { country: 'US', ip: '1.2.3.5' })).toBe(true);
    expect(placesDiffer({ country: null, ip: '2001:db8:1::5' }, { country: 'US', ip: '2001:db8:1:ff::9' })).toBe(false);
    expect(placesDiffer({ country: null, ip: '2001:db8:1::5' }, { country: null, ip: '2001:db8:2::5' })).toBe(true);
    expect(placesDiffer({ country: null, ip: '' }, { country: null, ip: '10.0.0.1' })).toBe(false);
    expect(ipNetwork('::1')).toBe('0:0:0');
    expect(ipNetwork('2001:DB8::1')).toBe('2001:db8:0');
  });
});

describe('what the PC learns', () => {
  it('only the scanner’s display name until confirm; the whole user with its token', async () => {
    const { token } = await login('dong', '111');
    const qr = await createQr();
    await act(qr, 'scan', token);
    const scanned = (await (await status(qr)).json()) as Record<string, unknown>;
    expect(scanned.scanner).toEqual({ display_name: '东东' });
    expect(JSON.stringify(scanned)).not.toMatch(/u_dong|"dong"/);
    await act(qr, 'confirm', token);
    const done = (await (await status(qr, '?after=1')).json()) as Record<string, unknown>;
    expect(done.user).toEqual({ id: 'u_dong', username: 'dong', display_name: '东东' });
  });

  it('why a session was cancelled: by the phone, or a wrong number pick', async () => {
    const { token } = await login();
    const qr = await createQr();
    await act(qr, 'scan', token);
    await act(qr, 'cancel', token);
    expect(await (await status(qr)).json()).toMatchObject({ status: 'scan-cancel', reason: 'cancelled' });

    const res = await withEnv(
      '/api/qrcodes',
      { method: 'POST', headers: { 'CF-Connecting-IP': freshIp() } },
      {
        MATCH_CODE: 'on',
      },
    );
    const matching = (await res.json()) as QrBody;
    const scan = (await (await act(matching, 'scan', token)).json()) as { match_choices: string[] };
    const { match_code } = (await (await status(matching)).json()) as { match_code: string };
    await act(matching, 'confirm', token, { match_code: scan.match_choices.find((c) => c !== match_code) });
    expect(await (await status(matching)).json()).toMatchObject({ status: 'scan-cancel', reason: 'match_failed' });
  });
});

describe('POST /api/qrcodes/:id/user-code', () => {
  const ask = (qr: QrBody, pollToken = qr.poll_token) =>
    api(`/api/qrcodes/${qr.qrcode_id}/user-code`, { method: 'POST', headers: { 'X-Poll-Token': pollToken } });

  it('makes the code only when asked, and answers the same one again, even to concurrent asks', async () => {
    const qr = await createQr();
    const [a, b, c] = await Promise.all([ask(qr), ask(qr), ask(qr)]);
    const bodies = (await Promise.all([a, b, c].map((r) => r.json()))) as { user_code: string }[];
    expect(new Set(bodies.map((x) => x.user_code)).size).toBe(1);
    expect(bodies[0]).toEqual({
      user_code: expect.stringMatching(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/),
      verification_url: `${ORIGIN}/link`,
    });
    expect(await userCodeOf(qr)).toBe(bodies[0]!.user_code);
    // The code leads to this QR.
    const { token } = await login();
    const resolved = await postJson('/api/codes/resolve', { user_code: bodies[0]!.user_code }, bearer(token));
    expect(await resolved.json()).toEqual({ qrcode_id: qr.qrcode_id });
  });

  it('is 401 without the poll token, 409 once scanned, 410 once ended', async () => {
    const qr = await createQr();
    const other = await createQr();
    expect(await errorOf(await ask(qr, other.poll_token))).toMatchObject({ status: 401, error: 'unauthorized' });
    expect(await errorOf(await ask(qr, 'short'))).toMatchObject({ status: 401, error: 'unauthorized' });
    const { token } = await login();
    await act(qr, 'scan', token);
    expect(await errorOf(await ask(qr))).toMatchObject({ status: 409, error: 'invalid_transition' });
    await act(qr, 'cancel', token);
    expect(await errorOf(await ask(qr))).toMatchObject({ status: 410, error: 'qrcode_expired' });
    expect(await errorOf(await ask({ ...qr, qrcode_id: 'f'.repeat(64) }))).toMatchObject({
      status: 400,
      error: 'invalid_qrcode_id',
    });
  });
});
