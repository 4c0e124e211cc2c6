/**
 * The request limits: each answers 429 with `Retry-After`, counted by a shared object.
 */
import { describe, expect, it } from 'vitest';
import { act, api, createQr, errorOf, freshIp, login, postJson, status } from './helpers';

describe('limits', () => {
  it('creating QR codes: the 121st in a minute from one IP is 429', async () => {
    const ip = freshIp();
    const create = () => api('/api/qrcodes', { method: 'POST', headers: { 'CF-Connecting-IP': ip } });
    const answers = await Promise.all(Array.from({ length: 120 }, create));
    expect(answers.every((res) => res.status === 201)).toBe(true);
    const refused = await create();
    expect(await errorOf(refused)).toMatchObject({ status: 429, error: 'rate_limited' });
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0);
    // Another client is not affected.
    expect((await api('/api/qrcodes', { method: 'POST', headers: { 'CF-Connecting-IP': freshIp() } })).status).toBe(
      201,
    );
  });

  it('failed logins: after 10 for one username from one IP, even the right password is 429', async () => {
    const ip = freshIp();
    const attempt = (password: string) =>
      postJson('/api/login', { username: 'guang', password }, { 'CF-Connecting-IP': ip });
    for (let i = 0; i < 10; i++) expect((await attempt('wrong')).status).toBe(401);
    const refused = await attempt('222');
    expect(await errorOf(refused)).toMatchObject({ status: 429, error: 'rate_limited' });
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0);
    // The same user from elsewhere still signs in.
    expect(
      (await postJson('/api/login', { username: 'guang', password: '222' }, { 'CF-Connecting-IP': freshIp() })).status,
    ).toBe(200);
  });

  it('polling: a client that ignores the long-poll gets 429 after 30 immediate answers in 10 s', async () => {
    const qr = await createQr();
    const { token } = await login();
    await act(qr, 'scan', token);
    const codes: number[] = [];
    for (let i = 0; i < 31; i++) codes.push((await status(qr, '?after=0')).status);
    expect(codes.slice(0, 30).every((c) => c === 200)).toBe(true);
    const refused = await status(qr, '?after=0');
    expect(await errorOf(refused)).toMatchObject({ status: 429, error: 'rate_limited' });
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0);
  });
});
