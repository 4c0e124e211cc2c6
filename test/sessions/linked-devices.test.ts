/**
 * Linked devices: the phone lists its user's sessions and signs one out, with every session it
 * approved.
 */
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { act, api, bearer, createQr, errorOf, login, qrLogin } from '../helpers';

describe('linked devices', () => {
  const sessions = async (token: string) =>
    (await (await api('/api/sessions', { headers: bearer(token) })).json()) as Array<Record<string, unknown>>;

  const pcLogin = (phoneToken: string) => qrLogin(phoneToken, { 'User-Agent': 'PC-under-test' });

  it('every token has a session of its own: password and QR logins are listed', async () => {
    const phone = await login();
    const pc = await pcLogin(phone.token);
    const list = await sessions(phone.token);
    const sidOf = (token: string) => decodeJwt(token).sid;
    const mine = list.find((s) => s.sid === sidOf(phone.token));
    const theirs = list.find((s) => s.sid === sidOf(pc));
    expect(mine).toMatchObject({ via: 'password', current: true });
    expect(theirs).toMatchObject({ via: 'qrcode', current: false, user_agent: 'PC-under-test' });
    expect(theirs).toHaveProperty('created_at');
    expect(theirs).toHaveProperty('place');
    expect(theirs).toHaveProperty('ip');
  });

  it('signing a device out revokes its token at once, everywhere', async () => {
    const phone = await login();
    const pc = await pcLogin(phone.token);
    const pcSid = decodeJwt(pc).sid;
    expect((await api('/api/me', { headers: bearer(pc) })).status).toBe(200);
    const res = await api(`/api/sessions/${pcSid}`, { method: 'DELETE', headers: bearer(phone.token) });
    expect(res.status).toBe(204);
    expect(await errorOf(await api('/api/me', { headers: bearer(pc) }))).toMatchObject({
      status: 401,
      error: 'unauthorized',
    });
    const qr = await createQr();
    expect(await errorOf(await act(qr, 'scan', pc))).toMatchObject({ status: 401, error: 'unauthorized' });
    expect((await sessions(phone.token)).some((s) => s.sid === pcSid)).toBe(false);
  });

  it('a revoked token cannot confirm a scan it made', async () => {
    const phone = await login();
    const qr = await createQr();
    await act(qr, 'scan', phone.token);
    expect((await api('/api/logout', { method: 'POST', headers: bearer(phone.token) })).status).toBe(204);
    expect(await errorOf(await act(qr, 'confirm', phone.token))).toMatchObject({ status: 401 });
    expect(await errorOf(await api('/api/me', { headers: bearer(phone.token) }))).toMatchObject({ status: 401 });
  });

  it("one user cannot sign out another's session: 404, and it stays live", async () => {
    const dong = await login('dong', '111');
    const guang = await login('guang', '222');
    const guangSid = decodeJwt(guang.token).sid;
    const res = await api(`/api/sessions/${guangSid}`, { method: 'DELETE', headers: bearer(dong.token) });
    expect(await errorOf(res)).toMatchObject({ status: 404, error: 'not_found' });
    expect((await api('/api/me', { headers: bearer(guang.token) })).status).toBe(200);
  });
});
