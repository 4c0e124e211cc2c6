/**
 * Confirming with a passkey (`CONFIRM_WITH`), through the Worker as the phone calls it: the scan
 * that binds the scanner fixes whether a passkey is needed and its answer carries `step_up`
 * (request options, the challenge bound to this QR); the confirm then needs `{ passkey }`. Without
 * it 403 `step_up_required`, with a wrong one 403 `step_up_failed` (400 when it cannot be read),
 * and in both cases nothing changes: the phone tries again until the code expires. `tap` is as
 * it was; `passkey-when-risky` asks when the location warning shows or the code was typed (as the
 * Worker recorded it, never as the phone claims); the device flow's phone side is the same.
 */
import { env } from 'cloudflare:workers';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import type { RequestOptions } from '../../src/passkeys';
import { act, createQr, errorOf, type LoginBody, login, ORIGIN, type QrBody, status, userCodeOf } from '../helpers';
import {
  authorizeDevice,
  CLIENT_ID,
  type DeviceAuthorization,
  oauthErrorOf,
  pollToken,
  postForm,
  qrcodeIdOf,
} from '../oauth/support';
import { inUserObject } from '../sessions/support';
import { type AssertionResponse, Authenticator, FLAG } from './authenticator';
import { addPasskey, call, creationOptions, storedChallenges, storedPasskey } from './support';

type ConfirmWith = 'tap' | 'passkey' | 'passkey-when-risky';

/** The PC asks from this address; a phone on the same network is near, one elsewhere is far. */
const PC_IP = '203.0.113.10';
const NEAR = '203.0.113.77';
const FAR = '192.0.2.44';

interface ScanAnswer {
  status: string;
  version: number;
  location_differs: boolean;
  typed?: boolean;
  step_up?: RequestOptions;
  step_up_reason?: string;
  match_choices?: string[];
}

const pcQr = () => createQr({ 'CF-Connecting-IP': PC_IP });

/** The phone's scan, with `CONFIRM_WITH` set, from `ip`. */
async function scan(qr: QrBody | string, token: string, confirmWith: ConfirmWith, ip = NEAR) {
  const id = typeof qr === 'string' ? qr : qr.qrcode_id;
  const res = await call(`/api/qrcodes/${id}/scan`, {
    method: 'POST',
    token,
    headers: { 'CF-Connecting-IP': ip },
    vars: { CONFIRM_WITH: confirmWith },
  });
  return { res, body: (await res.clone().json()) as ScanAnswer };
}

/** The phone's confirm, with `CONFIRM_WITH` set, carrying `body`. */
function confirm(qr: QrBody | string, token: string, confirmWith: ConfirmWith, body?: unknown, vars = {}) {
  const id = typeof qr === 'string' ? qr : qr.qrcode_id;
  return call(`/api/qrcodes/${id}/confirm`, {
    method: 'POST',
    token,
    body: body ?? {},
    vars: { CONFIRM_WITH: confirmWith, ...vars },
  });
}

/** What the PC sees now, without waiting. */
async function pcSees(qr: QrBody) {
  return (await (await status(qr)).json()) as { status: string; version: number; token?: string };
}

/** A signed-in phone of `user` with a passkey of its own. */
async function phoneWithPasskey(user: [string, string] = ['dong', '111']) {
  const phone = await login(...user);
  return { ...phone, passkey: await addPasskey(phone.token) };
}

/** A login with number matching on (`MATCH_CODE=on`), scanned as `token`'s user: the number on the PC, and a wrong one. */
async function scannedWithNumbers(token: string) {
  const created = await app.fetch(
    new Request(`${ORIGIN}/api/qrcodes`, { method: 'POST', headers: { 'CF-Connecting-IP': PC_IP } }),
    { ...env, MATCH_CODE: 'on' },
  );
  const qr = (await created.json()) as QrBody;
  const { body } = await scan(qr, token, 'passkey');
  const { match_code: code } = (await (await status(qr)).json()) as { match_code: string };
  return { qr, body, code, wrong: body.match_choices!.find((c) => c !== code) };
}

describe('CONFIRM_WITH=passkey', () => {
  it('the scan carries step_up for the user’s passkeys, bound to this QR; the confirm needs it', async () => {
    const { token, passkey } = await phoneWithPasskey();
    const qr = await pcQr();
    const { res, body } = await scan(qr, token, 'passkey');
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ status: 'scan-wait-confirm', step_up_reason: 'always' });
    expect(body.step_up).toMatchObject({ rpId: 'login.example', userVerification: 'required', timeout: 300_000 });
    expect(body.step_up?.allowCredentials?.map((c) => c.id)).toContain(passkey.id);
    const stored = (await storedChallenges()).find((c) => c.challenge === body.step_up?.challenge);
    expect(stored).toMatchObject({ purpose: 'step-up', binding: qr.qrcode_id });

    // Without the passkey: 403 step_up_required, and the login waits as it was.
    expect(await errorOf(await confirm(qr, token, 'passkey'))).toMatchObject({
      status: 403,
      error: 'step_up_required',
    });
    expect(await pcSees(qr)).toMatchObject({ status: 'scan-wait-confirm', version: 1 });

    // With it: confirmed, and the PC gets its token.
    const assertion = await passkey.assert(body.step_up!);
    const done = await confirm(qr, token, 'passkey', { passkey: assertion });
    expect(done.status, await done.clone().text()).toBe(200);
    expect(await done.json()).toMatchObject({ status: 'scan-confirm', version: 2 });
    expect(await pcSees(qr)).toMatchObject({ status: 'scan-confirm', token: expect.any(String) });
    expect(await storedPasskey(passkey.id)).toMatchObject({
      counter: passkey.counter,
      last_used_at: expect.any(Number),
    });
  });

  it('refuses a wrong, replayed, expired or another user’s assertion with step_up_failed, and nothing changes', async () => {
    const dong = await phoneWithPasskey();
    const guang = await phoneWithPasskey(['guang', '222']);
    // An assertion captured on another QR, and one replayed from a confirmed login.
    const other = await pcQr();
    const otherScan = await scan(other, dong.token, 'passkey');
    const captured = await dong.passkey.assert(otherScan.body.step_up!);
    expect((await confirm(other, dong.token, 'passkey', { passkey: captured })).status).toBe(200);

    const qr = await pcQr();
    const { body } = await scan(qr, dong.token, 'passkey');
    const options = body.step_up!;
    const before = await storedPasskey(dong.passkey.id);
    const counter = dong.passkey.counter;
    const cases: [string, AssertionResponse][] = [
      ['replayed from another QR', captured],
      ['another QR’s challenge', await dong.passkey.assert({ challenge: otherScan.body.step_up!.challenge })],
      ['another user’s passkey', await guang.passkey.assert(options)],
      ['another user’s passkey, without its user handle', await guang.passkey.assert(options, { userHandle: null })],
      ['a page of another site', await dong.passkey.assert(options, { origin: 'https://evil.example' })],
      ['another RP ID', await dong.passkey.assert(options, { rpId: 'evil.example' })],
      ['no user verification', await dong.passkey.assert(options, { flags: FLAG.UP })],
      ['a counter that went backwards', await dong.passkey.assert(options, { counter: counter - 1 })],
      ['a passkey never registered', await (await Authenticator.create()).assert(options)],
    ];
    for (const [what, passkey] of cases) {
      expect(await errorOf(await confirm(qr, dong.token, 'passkey', { passkey })), what).toMatchObject({
        status: 403,
        error: 'step_up_failed',
      });
    }
    expect(await pcSees(qr)).toMatchObject({ status: 'scan-wait-confirm', version: 1 });
    expect(await storedPasskey(dong.passkey.id)).toEqual(before);

    // Guang, who did not scan, cannot confirm with his own passkey either.
    expect((await confirm(qr, guang.token, 'passkey', { passkey: await guang.passkey.assert(options) })).status).toBe(
      403,
    );

    // Five minutes later the challenge has expired: refused, and a repeated scan issues a fresh one.
    await inUserObject(
      'u_dong',
      'UPDATE challenges SET expires_at = ? WHERE challenge = ?',
      Date.now() - 1,
      options.challenge,
    );
    dong.passkey.counter = counter;
    expect(
      await errorOf(await confirm(qr, dong.token, 'passkey', { passkey: await dong.passkey.assert(options) })),
    ).toMatchObject({ status: 403, error: 'step_up_failed' });
    const again = await scan(qr, dong.token, 'passkey');
    expect(again.body).toMatchObject({ status: 'scan-wait-confirm', version: 1 });
    expect(again.body.step_up?.challenge).not.toBe(options.challenge);
    const ok = await confirm(qr, dong.token, 'passkey', { passkey: await dong.passkey.assert(again.body.step_up!) });
    expect(ok.status, await ok.clone().text()).toBe(200);
    // The assertion that confirmed, sent again: its challenge is spent (and the login has moved on).
    expect(
      (await confirm(qr, dong.token, 'passkey', { passkey: await dong.passkey.assert(again.body.step_up!) })).status,
    ).toBe(403);
  });

  it('answers 400 for an assertion that cannot be read, and nothing changes', async () => {
    const { token, passkey } = await phoneWithPasskey();
    const qr = await pcQr();
    const options = (await scan(qr, token, 'passkey')).body.step_up!;
    const good = await passkey.assert(options);
    const bad: [string, unknown][] = [
      ['not an object', 'a passkey'],
      ['no response', { id: good.id, type: 'public-key' }],
      ['clientDataJSON not JSON', { ...good, response: { ...good.response, clientDataJSON: 'bm90IGpzb24' } }],
      ['authenticatorData too short', { ...good, response: { ...good.response, authenticatorData: 'AAAA' } }],
      ['not base64url', { ...good, response: { ...good.response, signature: 'a+b/c=' } }],
    ];
    for (const [what, passkey] of bad) {
      expect(await errorOf(await confirm(qr, token, 'passkey', { passkey })), what).toMatchObject({
        status: 400,
        error: 'invalid_request',
      });
    }
    expect(await pcSees(qr)).toMatchObject({ status: 'scan-wait-confirm', version: 1 });
    expect((await confirm(qr, token, 'passkey', { passkey: good })).status).toBe(200);
  });

  it('a user without a passkey gets empty allowCredentials, creates one there, and confirms with it', async () => {
    const phone = await login('guang', '222');
    await inUserObject('u_guang', 'DELETE FROM passkeys');
    const qr = await pcQr();
    const { body } = await scan(qr, phone.token, 'passkey');
    expect(body.step_up?.allowCredentials).toEqual([]);
    const passkey = await Authenticator.create();
    const created = await call('/api/passkeys/register', {
      method: 'POST',
      token: phone.token,
      body: await passkey.register(await creationOptions(phone.token)),
    });
    expect(created.status).toBe(201);
    const done = await confirm(qr, phone.token, 'passkey', { passkey: await passkey.assert(body.step_up!) });
    expect(done.status, await done.clone().text()).toBe(200);
  });

  it('with number matching too: a missing passkey is refused before a wrong number is judged', async () => {
    const { token, passkey } = await phoneWithPasskey();
    const { qr, body, code, wrong } = await scannedWithNumbers(token);
    expect(await errorOf(await confirm(qr, token, 'passkey', { match_code: wrong }))).toMatchObject({
      status: 403,
      error: 'step_up_required',
    });
    expect(await pcSees(qr)).toMatchObject({ status: 'scan-wait-confirm', version: 1 });
    // The passkey with a missing number: 400, as without passkeys.
    expect(
      await errorOf(await confirm(qr, token, 'passkey', { passkey: await passkey.assert(body.step_up!) })),
    ).toMatchObject({ status: 400, error: 'invalid_request' });
    expect(await pcSees(qr)).toMatchObject({ status: 'scan-wait-confirm', version: 1 });
    // The passkey (a fresh challenge: the last one was spent) with the right number confirms.
    const fresh = (await scan(qr, token, 'passkey')).body.step_up!;
    const ok = await confirm(qr, token, 'passkey', { match_code: code, passkey: await passkey.assert(fresh) });
    expect(ok.status, await ok.clone().text()).toBe(200);
  });

  it('a wrong number with a good passkey still ends the login as scan-cancel with match_failed', async () => {
    const { token, passkey } = await phoneWithPasskey();
    const { qr, body, wrong } = await scannedWithNumbers(token);
    const res = await confirm(qr, token, 'passkey', {
      match_code: wrong,
      passkey: await passkey.assert(body.step_up!),
    });
    expect(await errorOf(res)).toMatchObject({ status: 409, error: 'match_failed' });
    expect(await pcSees(qr)).toMatchObject({ status: 'scan-cancel', version: 2 });
  });
});

describe('CONFIRM_WITH=tap (the default)', () => {
  it('asks for no passkey: no step_up in the scan, a bare confirm signs in, a passkey sent anyway is ignored', async () => {
    const { token, passkey } = await phoneWithPasskey();
    const qr = await pcQr();
    const { body } = await scan(qr, token, 'tap', FAR);
    expect(body).not.toHaveProperty('step_up');
    expect(body).not.toHaveProperty('step_up_reason');
    expect(body.location_differs).toBe(true);
    expect((await act(qr, 'confirm', token)).status).toBe(200);

    const second = await pcQr();
    await scan(second, token, 'tap');
    const stray = await passkey.assert({ challenge: 'bm90LWEtY2hhbGxlbmdl' });
    expect((await confirm(second, token, 'tap', { passkey: stray })).status).toBe(200);
    expect(await pcSees(second)).toMatchObject({ status: 'scan-confirm' });
  });

  it('keeps to the requirement fixed at the scan, whatever the variable says at confirm', async () => {
    const { token, passkey } = await phoneWithPasskey();
    const qr = await pcQr();
    const { body } = await scan(qr, token, 'passkey');
    expect((await confirm(qr, token, 'tap')).status).toBe(403);
    const ok = await confirm(qr, token, 'passkey', { passkey: await passkey.assert(body.step_up!) });
    expect(ok.status).toBe(200);
    const later = await pcQr();
    await scan(later, token, 'tap');
    expect((await confirm(later, token, 'passkey')).status).toBe(200);
  });
});

describe('CONFIRM_WITH=passkey-when-risky', () => {
  it('asks when the location warning shows, not when the phone is on the PC’s network', async () => {
    const { token, passkey } = await phoneWithPasskey();
    const near = await pcQr();
    const calm = await scan(near, token, 'passkey-when-risky', NEAR);
    expect(calm.body.location_differs).toBe(false);
    expect(calm.body).not.toHaveProperty('step_up');
    expect((await confirm(near, token, 'passkey-when-risky')).status).toBe(200);

    const far = await pcQr();
    const risky = await scan(far, token, 'passkey-when-risky', FAR);
    expect(risky.body).toMatchObject({ location_differs: true, step_up_reason: 'location' });
    expect(risky.body.step_up?.allowCredentials?.map((c) => c.id)).toContain(passkey.id);
    expect(await errorOf(await confirm(far, token, 'passkey-when-risky'))).toMatchObject({
      status: 403,
      error: 'step_up_required',
    });
    // The requirement was fixed at the scan: a repeated scan from the PC's network keeps it.
    const again = await scan(far, token, 'passkey-when-risky', NEAR);
    expect(again.body).toMatchObject({ location_differs: false, step_up_reason: 'location' });
    const ok = await confirm(far, token, 'passkey-when-risky', { passkey: await passkey.assert(again.body.step_up!) });
    expect(ok.status, await ok.clone().text()).toBe(200);
  });

  it('asks when the scanner typed the code (as the Worker recorded it), not for another user who did', async () => {
    const { token, passkey } = await phoneWithPasskey();
    const guang = await login('guang', '222');
    const resolve = (t: string, code: string) =>
      call('/api/codes/resolve', { method: 'POST', token: t, body: { user_code: code } });

    const qr = await pcQr();
    const code = await userCodeOf(qr);
    expect((await resolve(token, code)).status).toBe(200);
    const typed = await scan(qr, token, 'passkey-when-risky');
    expect(typed.body).toMatchObject({ typed: true, step_up_reason: 'typed', location_differs: false });
    expect((await confirm(qr, token, 'passkey-when-risky')).status).toBe(403);
    const ok = await confirm(qr, token, 'passkey-when-risky', { passkey: await passkey.assert(typed.body.step_up!) });
    expect(ok.status).toBe(200);

    // Guang typed this one, but dong scanned it: dong did not type it.
    const other = await pcQr();
    expect((await resolve(guang.token, await userCodeOf(other))).status).toBe(200);
    const scanned = await scan(other, token, 'passkey-when-risky');
    expect(scanned.body).not.toHaveProperty('typed');
    expect(scanned.body).not.toHaveProperty('step_up');
    // The phone's word that it typed the code is nothing: the body has no such field to trust.
    expect((await confirm(other, token, 'passkey-when-risky', { typed: false })).status).toBe(200);
  });
});

describe('the device flow', () => {
  it('asks the same of the phone: step_up at the scan, the passkey at the confirm, then the device’s tokens', async () => {
    const { token, passkey } = await phoneWithPasskey();
    const device = await authorizeDevice();
    const id = qrcodeIdOf(device);
    const { body } = await scan(id, token, 'passkey');
    expect(body).toMatchObject({ status: 'scan-wait-confirm', step_up_reason: 'always' });
    expect(await errorOf(await confirm(id, token, 'passkey'))).toMatchObject({
      status: 403,
      error: 'step_up_required',
    });
    expect(await oauthErrorOf(await pollToken(device.device_code))).toMatchObject({ error: 'authorization_pending' });
    const ok = await confirm(id, token, 'passkey', { passkey: await passkey.assert(body.step_up!) });
    expect(ok.status, await ok.clone().text()).toBe(200);
    const tokens = await pollToken(device.device_code);
    expect(tokens.status).toBe(200);
    expect(await tokens.json()).toMatchObject({ access_token: expect.any(String), refresh_token: expect.any(String) });
  });

  it('with the typed code of passkey-when-risky', async () => {
    const { token, passkey } = await phoneWithPasskey();
    // The device asks from the phone's network: only the typed code makes the login risky.
    const started = await postForm(
      '/oauth/device_authorization',
      { client_id: CLIENT_ID },
      { 'CF-Connecting-IP': PC_IP },
    );
    const device = (await started.json()) as DeviceAuthorization;
    const resolved = await call('/api/codes/resolve', { method: 'POST', token, body: { user_code: device.user_code } });
    expect(await resolved.json()).toEqual({ qrcode_id: qrcodeIdOf(device) });
    const { body } = await scan(qrcodeIdOf(device), token, 'passkey-when-risky');
    expect(body).toMatchObject({ step_up_reason: 'typed', typed: true });
    const ok = await confirm(qrcodeIdOf(device), token, 'passkey-when-risky', {
      passkey: await passkey.assert(body.step_up!),
    });
    expect(ok.status).toBe(200);
    expect((await pollToken(device.device_code)).status).toBe(200);
  });
});

describe('the PC’s own passkey sign-in (<qr-login passkey>)', () => {
  it('works from an allowed page under the RP ID, with CORS, and gives the PC a session of its own', async () => {
    const { token, passkey } = await phoneWithPasskey();
    const site = 'https://shop.login.example';
    const vars = { ALLOWED_ORIGINS: site };
    const preflight = await call('/api/passkeys/login', {
      method: 'OPTIONS',
      headers: {
        Origin: site,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
      vars,
    });
    expect(preflight.headers.get('Access-Control-Allow-Origin')).toBe(site);
    const options = await call('/api/passkeys/login/options', { method: 'POST', headers: { Origin: site }, vars });
    expect(options.headers.get('Access-Control-Allow-Origin')).toBe(site);
    const assertion = await passkey.assert((await options.json()) as RequestOptions, { origin: site });
    const pc = await call('/api/passkeys/login', {
      method: 'POST',
      body: assertion,
      headers: { Origin: site, 'User-Agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0 Safari/537.36' },
      vars,
    });
    expect(pc.status, await pc.clone().text()).toBe(200);
    const signedIn = (await pc.json()) as LoginBody;
    const sessions = (await (await call('/api/sessions', { token })).json()) as { via: string; sid: string }[];
    const pcSid = decodeJwt(signedIn.token).sid;
    expect(sessions.find((s) => s.sid === pcSid)).toMatchObject({ via: 'passkey' });
    // The same assertion from a page that is not allowed is refused.
    const stranger = await call('/api/passkeys/login', {
      method: 'POST',
      body: await passkey.assert(
        (await (await call('/api/passkeys/login/options', { method: 'POST' })).json()) as RequestOptions,
        {
          origin: 'https://stranger.example',
        },
      ),
      vars,
    });
    expect(stranger.status).toBe(401);
  });
});

describe('what the pages are told (/api/config)', () => {
  it('names the RP ID, so that a page offers passkeys only on a host under it; null when it is unusable', async () => {
    const rpId = async (vars = {}) =>
      ((await (await call('/api/config', { vars })).json()) as { passkey_rp_id: string | null }).passkey_rp_id;
    expect(await rpId()).toBe('login.example');
    expect(await rpId({ PASSKEY_RP_ID: 'example' })).toBe('example');
    expect(await rpId({ PASSKEY_RP_ID: 'evil.example' })).toBeNull();
  });
});
