/**
 * A code to type (`/api/codes/resolve`) and number matching (`MATCH_CODE=on`).
 */

import { runDurableObjectAlarm } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import {
  act,
  ageSession,
  bearer,
  createQr,
  errorOf,
  freshIp,
  login,
  ORIGIN,
  postJson,
  type QrBody,
  sessionObject,
  status,
  userCodeOf,
} from '../helpers';
import { CLIENT_ID, pollToken } from '../oauth/support';

const resolve = (token: string, userCode: unknown) =>
  postJson('/api/codes/resolve', { user_code: userCode }, bearer(token));

describe('a code to type', () => {
  it('resolves, in any case and with or without the dash, to the QR id', async () => {
    const qr = await createQr();
    const userCode = await userCodeOf(qr);
    const { token } = await login();
    for (const typed of [userCode, userCode.toLowerCase(), userCode.replace('-', ''), ` ${userCode} `]) {
      const res = await resolve(token, typed);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ qrcode_id: qr.qrcode_id });
    }
    // …and the phone continues exactly as if it had scanned.
    expect((await act(qr, 'scan', token)).status).toBe(200);
  });

  it('is unknown once its QR has ended', async () => {
    const { token } = await login();
    const cancelled = await createQr();
    const userCode = await userCodeOf(cancelled);
    await act(cancelled, 'scan', token);
    await act(cancelled, 'cancel', token);
    await ageSession(cancelled, 31_000);
    await runDurableObjectAlarm(sessionObject(cancelled));
    expect(await errorOf(await resolve(token, userCode))).toMatchObject({
      status: 404,
      error: 'invalid_user_code',
    });
  });

  it('is unknown once its QR has expired', async () => {
    const { token } = await login('dong', '111');
    const qr = await createQr();
    const userCode = await userCodeOf(qr);
    const codeObject = env.USER_CODE.get(env.USER_CODE.idFromName(userCode.replace('-', '')));
    expect(await runDurableObjectAlarm(codeObject)).toBe(true);
    expect(await errorOf(await resolve(token, userCode))).toMatchObject({
      status: 404,
      error: 'invalid_user_code',
    });
  });

  it('needs a signed-in user', async () => {
    const qr = await createQr();
    const userCode = await userCodeOf(qr);
    expect(await errorOf(await postJson('/api/codes/resolve', { user_code: userCode }))).toMatchObject({
      status: 401,
    });
  });

  it('after five wrong guesses by one user, every code is 429, even the right one', async () => {
    const qr = await createQr();
    const userCode = await userCodeOf(qr);
    const { token } = await login('guang', '222');
    for (const guess of ['BCDF-GHJK', 'ZZZZ-ZZZZ', 'not a code', 'BBBB-BBBB', 'CCCC-CCCC']) {
      expect(await errorOf(await resolve(token, guess))).toMatchObject({ status: 404, error: 'invalid_user_code' });
    }
    const refused = await resolve(token, userCode);
    expect(await errorOf(refused)).toMatchObject({ status: 429, error: 'rate_limited' });
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0);
    // Another user is not locked out.
    const other = await login('dong', '111');
    expect((await resolve(other.token, userCode)).status).toBe(200);
  });

  it('refuses a body without a string code', async () => {
    const { token } = await login();
    for (const value of [undefined, 42, 'X'.repeat(100)]) {
      expect(await errorOf(await resolve(token, value))).toMatchObject({ status: 400, error: 'invalid_request' });
    }
  });
});

describe('number matching (MATCH_CODE=on)', () => {
  async function matchingQr(): Promise<QrBody> {
    const res = await app.fetch(
      new Request(`${ORIGIN}/api/qrcodes`, { method: 'POST', headers: { 'CF-Connecting-IP': freshIp() } }),
      { ...env, MATCH_CODE: 'on' },
    );
    return res.json();
  }

  async function scannedWithChoices() {
    const qr = await matchingQr();
    const { token } = await login();
    const scan = (await (await act(qr, 'scan', token)).json()) as { match_choices: string[] };
    const pc = (await (await status(qr)).json()) as { match_code: string };
    return { qr, token, choices: scan.match_choices, code: pc.match_code };
  }

  it('the PC shows two digits after the scan, the phone is offered three that include them', async () => {
    const qr = await matchingQr();
    expect(await (await status(qr)).json()).not.toHaveProperty('match_code');
    const { token } = await login();
    await act(qr, 'scan', token);
    const { choices, code } = await scannedWithChoices();
    expect(code).toMatch(/^\d\d$/);
    expect(choices).toHaveLength(3);
    expect(new Set(choices).size).toBe(3);
    expect(choices).toContain(code);
    for (const choice of choices) expect(choice).toMatch(/^\d\d$/);
  });

  it('the right pick confirms', async () => {
    const { qr, token, code } = await scannedWithChoices();
    expect(await (await act(qr, 'confirm', token, { match_code: code })).json()).toMatchObject({
      status: 'scan-confirm',
    });
    expect(await (await status(qr)).json()).toHaveProperty('token');
  });

  it('a wrong pick ends the login as scan-cancel with 409 match_failed', async () => {
    const { qr, token, code, choices } = await scannedWithChoices();
    const wrong = choices.find((c) => c !== code);
    expect(await errorOf(await act(qr, 'confirm', token, { match_code: wrong }))).toMatchObject({
      status: 409,
      error: 'match_failed',
    });
    expect(await (await status(qr)).json()).toMatchObject({ status: 'scan-cancel', version: 2 });
    expect(await errorOf(await act(qr, 'confirm', token, { match_code: code }))).toMatchObject({ status: 409 });
  });

  it('a missing pick is 400 and leaves the login as it was', async () => {
    const { qr, token, code } = await scannedWithChoices();
    expect(await errorOf(await act(qr, 'confirm', token))).toMatchObject({ status: 400, error: 'invalid_request' });
    expect(await errorOf(await act(qr, 'confirm', token, { match_code: 47 }))).toMatchObject({ status: 400 });
    expect(await (await status(qr)).json()).toMatchObject({ status: 'scan-wait-confirm', version: 1 });
    expect((await act(qr, 'confirm', token, { match_code: code })).status).toBe(200);
  });

  it('does not apply to a device-flow login: no choices on the phone, and a confirm without a number signs the device in', async () => {
    const res = await app.fetch(
      new Request(`${ORIGIN}/oauth/device_authorization`, {
        method: 'POST',
        headers: { 'CF-Connecting-IP': freshIp(), 'Content-Type': 'application/x-www-form-urlencoded' },
        body: `client_id=${CLIENT_ID}`,
      }),
      { ...env, MATCH_CODE: 'on' },
    );
    const device = (await res.json()) as { device_code: string; verification_uri_complete: string };
    const id = new URL(device.verification_uri_complete).searchParams.get('id') ?? '';
    const { token } = await login();
    const scan = (await (await act(id, 'scan', token)).json()) as Record<string, unknown>;
    expect(scan).toMatchObject({ status: 'scan-wait-confirm' });
    expect(scan).not.toHaveProperty('match_choices');
    expect((await act(id, 'confirm', token)).status).toBe(200);
    const poll = await pollToken(device.device_code);
    expect(poll.status).toBe(200);
    expect(await poll.json()).toHaveProperty('access_token');
  });

  it('the order of the choices does not give the answer away', async () => {
    const positions = new Set<number>();
    for (let i = 0; i < 12 && positions.size < 2; i++) {
      const { choices, code } = await scannedWithChoices();
      positions.add(choices.indexOf(code));
    }
    expect(positions.size).toBeGreaterThan(1);
  });
});
