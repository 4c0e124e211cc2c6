/**
 * What a session may do depends on how it signed in (the second audit's F1 and F2): a stolen PC
 * token must not keep the account. Only a session that signed in on the phone itself approves
 * logins and signs other devices out; signing a session out signs out everything it approved;
 * a login whose approver was signed out before the PC collected it is not handed out.
 */
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { act, api, bearer, createQr, errorOf, login, postJson, status, userCodeOf } from '../helpers';
import { authorizeDevice, oauthErrorOf, phoneAnswers, pollToken } from '../oauth/support';
import { ageRotations, type Refreshed, refresh } from './support';

const me = (token: string) => api('/api/me', { headers: bearer(token) });
const signOut = (sid: unknown, token: string) =>
  api(`/api/sessions/${sid}`, { method: 'DELETE', headers: bearer(token) });

/** A whole QR login approved by `phoneToken`: the PC's status answer. */
async function qrLogin(phoneToken: string): Promise<Refreshed & { token: string }> {
  const qr = await createQr();
  expect((await act(qr, 'scan', phoneToken)).status).toBe(200);
  expect((await act(qr, 'confirm', phoneToken)).status).toBe(200);
  const res = await status(qr, '?after=1');
  if (res.status !== 200) throw new Error(`no token: ${res.status} ${await res.text()}`);
  return res.json();
}

describe('F1: a login is handed out only while the session that confirmed it is alive', () => {
  it('the phone signs out between confirm and collection: the PC gets 410, nobody is signed in', async () => {
    const phone = await login();
    const qr = await createQr();
    await act(qr, 'scan', phone.token);
    await act(qr, 'confirm', phone.token);
    expect((await api('/api/logout', { method: 'POST', headers: bearer(phone.token) })).status).toBe(204);
    expect(await errorOf(await status(qr, '?after=1'))).toMatchObject({ status: 410, error: 'qrcode_expired' });
    // The login is over, not waiting for a retry.
    expect(await errorOf(await status(qr, '?after=1'))).toMatchObject({ status: 410 });
    const other = await login();
    const devices = (await (await api('/api/sessions', { headers: bearer(other.token) })).json()) as { via: string }[];
    expect(devices.filter((d) => d.via === 'qrcode')).toEqual([]);
  });

  it('the same for the device flow: access_denied, no tokens', async () => {
    const auth = await authorizeDevice();
    const phone = await phoneAnswers(auth, 'confirm', ['guang', '222']);
    await api('/api/logout', { method: 'POST', headers: bearer(phone) });
    expect(await oauthErrorOf(await pollToken(auth.device_code))).toMatchObject({
      status: 400,
      error: 'access_denied',
    });
    expect(await oauthErrorOf(await pollToken(auth.device_code))).toMatchObject({
      status: 400,
      error: 'invalid_grant',
    });
  });

  it('a live approver still gets its PC signed in (the check does not refuse the normal case)', async () => {
    const phone = await login();
    const pc = await qrLogin(phone.token);
    expect((await me(pc.token)).status).toBe(200);
    expect(pc).toMatchObject({ expires_in: 900, refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{107}$/) });
  });
});

describe('F2: a session that a login made may only list the devices and sign itself out', () => {
  it('a PC’s token cannot scan, confirm, cancel or resolve a typed code: 403, nothing changes', async () => {
    const phone = await login();
    const pc = await qrLogin(phone.token);
    const victim = await createQr();
    for (const step of ['scan', 'confirm', 'cancel'] as const) {
      expect(await errorOf(await act(victim, step, pc.token))).toMatchObject({ status: 403, error: 'forbidden' });
    }
    const code = await userCodeOf(victim);
    expect(await errorOf(await postJson('/api/codes/resolve', { user_code: code }, bearer(pc.token)))).toMatchObject({
      status: 403,
      error: 'forbidden',
    });
    expect(await (await status(victim)).json()).toMatchObject({ status: 'noscan', version: 0 });
  });

  it('a device-flow token is refused the same way', async () => {
    const auth = await authorizeDevice();
    await phoneAnswers(auth, 'confirm');
    const { access_token } = (await (await pollToken(auth.device_code)).json()) as Refreshed;
    expect(await errorOf(await act(await createQr(), 'scan', access_token))).toMatchObject({ status: 403 });
  });

  it('a PC’s token cannot sign the phone out, but lists the devices and signs itself out', async () => {
    const phone = await login();
    const pc = await qrLogin(phone.token);
    const phoneSid = decodeJwt(phone.token).sid;
    expect(await errorOf(await signOut(phoneSid, pc.token))).toMatchObject({ status: 403, error: 'forbidden' });
    expect((await me(phone.token)).status).toBe(200);
    const list = (await (await api('/api/sessions', { headers: bearer(pc.token) })).json()) as { sid: string }[];
    expect(list.map((d) => d.sid)).toContain(phoneSid);
    expect((await signOut(decodeJwt(pc.token).sid, pc.token)).status).toBe(204);
    expect((await me(pc.token)).status).toBe(401);
    expect((await me(phone.token)).status).toBe(200);
  });

  it('the phone signs the PC out, whatever the PC did with its refresh token', async () => {
    const phone = await login();
    const pc = await qrLogin(phone.token);
    const renewed = (await (await refresh(pc.refresh_token)).json()) as Refreshed;
    expect((await signOut(decodeJwt(pc.token).sid, phone.token)).status).toBe(204);
    expect((await me(renewed.access_token)).status).toBe(401);
    expect(await oauthErrorOf(await refresh(renewed.refresh_token))).toMatchObject({ error: 'invalid_grant' });
  });
});

describe('signing a session out signs out everything it approved', () => {
  it('the phone’s sign-out ends the PCs and CLIs it approved, not the other phone’s', async () => {
    const phone = await login('guang', '222');
    const otherPhone = await login('guang', '222');
    const pcA = await qrLogin(phone.token);
    const pcB = await qrLogin(phone.token);
    const pcOfOther = await qrLogin(otherPhone.token);
    expect((await api('/api/logout', { method: 'POST', headers: bearer(phone.token) })).status).toBe(204);
    for (const token of [phone.token, pcA.token, pcB.token]) expect((await me(token)).status).toBe(401);
    for (const token of [otherPhone.token, pcOfOther.token]) expect((await me(token)).status).toBe(200);
  });

  it('so does a reused refresh token of the phone (theft): its PCs go with it', async () => {
    const phone = await login('guang', '222');
    const pc = await qrLogin(phone.token);
    await refresh(phone.refresh_token);
    await ageRotations('u_guang', 11_000);
    expect(await oauthErrorOf(await refresh(phone.refresh_token))).toMatchObject({ error: 'invalid_grant' });
    expect((await me(pc.token)).status).toBe(401);
  });
});
