/**
 * Requests that meet at the same moment: the login's object decides each race once, and
 * what every party hears agrees with the state it ends in.
 */
import { runDurableObjectAlarm } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { act, ageSession, createQr, errorOf, login, type QrBody, sessionObject, status } from '../helpers';

const ROUNDS = 5;

async function scannedBy(token: string): Promise<QrBody> {
  const qr = await createQr();
  expect((await act(qr, 'scan', token)).status).toBe(200);
  return qr;
}

describe('races', () => {
  it('two phones scanning at once (one of them twice): exactly one user wins, the other gets 409', async () => {
    const dong = await login('dong', '111');
    const guang = await login('guang', '222');
    for (let i = 0; i < ROUNDS; i++) {
      const qr = await createQr();
      const [a1, b, a2] = await Promise.all([
        act(qr, 'scan', dong.token),
        act(qr, 'scan', guang.token),
        act(qr, 'scan', dong.token),
      ]);
      const winner = b.status === 200 ? 'guang' : 'dong';
      // The winner's repeated scan is harmless (200); every scan of the loser is 409.
      if (winner === 'guang') expect([a1.status, a2.status]).toEqual([409, 409]);
      else expect([a1.status, a2.status, b.status]).toEqual([200, 200, 409]);
      const polled = (await (await status(qr)).json()) as { version: number; scanner: { display_name: string } };
      const name = winner === 'guang' ? '光光' : '东东';
      expect(polled).toMatchObject({ status: 'scan-wait-confirm', version: 1, scanner: { display_name: name } });
    }
  });

  it('confirm against cancel: exactly one wins and the final state is the winner’s', async () => {
    const { token } = await login('dong', '111');
    for (let i = 0; i < ROUNDS; i++) {
      const qr = await scannedBy(token);
      const [c, x] = await Promise.all([act(qr, 'confirm', token), act(qr, 'cancel', token)]);
      expect([c.status, x.status].sort()).toEqual([200, 409]);
      const expected = c.status === 200 ? 'scan-confirm' : 'scan-cancel';
      const polled = (await (await status(qr)).json()) as { status: string; version: number; token?: string };
      expect(polled).toMatchObject({ status: expected, version: 2 });
      expect('token' in polled).toBe(expected === 'scan-confirm');
    }
  });

  it('confirm against the expiry alarm once expires_at has passed: always 410 and expired, never a mix', async () => {
    const { token } = await login('dong', '111');
    for (let i = 0; i < ROUNDS; i++) {
      const qr = await scannedBy(token);
      await ageSession(qr, 121_000);
      const [res, ran] = await Promise.all([act(qr, 'confirm', token), runDurableObjectAlarm(sessionObject(qr))]);
      // Whoever runs first, expiry is due: the confirm checks expires_at itself, so it can
      // never sneak in after the deadline just because the alarm has not fired yet.
      expect(ran).toBe(true);
      expect(await errorOf(res)).toMatchObject({ status: 410, error: 'qrcode_expired' });
      const polled = (await (await status(qr)).json()) as { status: string; version: number; token?: string };
      expect(polled).toMatchObject({ status: 'expired', version: 2 });
      expect(polled.token).toBeUndefined();
    }
  });

  it('confirm racing the alarm just before expiry: the confirm wins and the alarm changes nothing', async () => {
    const { token } = await login('dong', '111');
    for (let i = 0; i < ROUNDS; i++) {
      const qr = await scannedBy(token);
      await ageSession(qr, 110_000);
      const [res] = await Promise.all([act(qr, 'confirm', token), runDurableObjectAlarm(sessionObject(qr))]);
      expect(res.status).toBe(200);
      expect(await (await status(qr)).json()).toMatchObject({ status: 'scan-confirm', version: 2 });
    }
  });

  it('several PCs polling one code at the moment of confirm: exactly one gets the token', async () => {
    const { token } = await login('dong', '111');
    for (let i = 0; i < ROUNDS; i++) {
      const qr = await scannedBy(token);
      const polls = Array.from({ length: 4 }, () => status(qr, '?after=1&wait=5'));
      // Immediate pollers too, arriving together with the confirm.
      const [confirmed, ...answers] = await Promise.all([act(qr, 'confirm', token), ...polls, status(qr), status(qr)]);
      expect(confirmed.status).toBe(200);
      let tokens = 0;
      for (const res of answers) {
        expect([200, 410]).toContain(res.status);
        if (res.status === 200 && 'token' in ((await res.json()) as object)) tokens++;
      }
      // Whoever did not see it yet and asks now gets nothing more.
      const later = await status(qr);
      if (later.status === 200) {
        if ('token' in ((await later.json()) as object)) tokens++;
      } else expect(later.status).toBe(410);
      expect(tokens).toBe(1);
    }
  });
});
