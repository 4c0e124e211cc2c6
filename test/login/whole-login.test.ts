/**
 * One whole login exactly as a PC and a phone make it, through the Worker's front door.
 */
import { expect, it } from 'vitest';
import { api, bearer, postJson } from '../helpers';

it('a phone signs a PC in: create, long-poll, sign in on the phone, scan, confirm, token', async () => {
  // The PC asks for a QR code and starts waiting for it to change.
  const created = await api('/api/qrcodes', {
    method: 'POST',
    headers: { 'User-Agent': 'PC browser', 'CF-Connecting-IP': '192.0.2.10' },
  });
  expect(created.status).toBe(201);
  const qr = (await created.json()) as { qrcode_id: string; poll_token: string; scan_url: string; version: number };
  const poll = (after: number) =>
    api(`/api/qrcodes/${qr.qrcode_id}/status?after=${after}&wait=30`, { headers: { 'X-Poll-Token': qr.poll_token } });
  let waiting = poll(qr.version);

  // The phone opens the scan URL, signs in and scans.
  const id = new URL(qr.scan_url).searchParams.get('id');
  expect(id).toBe(qr.qrcode_id);
  const phone = (await (
    await postJson('/api/login', { username: 'dong', password: '111' }, { 'CF-Connecting-IP': '192.0.2.20' })
  ).json()) as {
    token: string;
  };
  const scan = await api(`/api/qrcodes/${id}/scan`, { method: 'POST', headers: bearer(phone.token) });
  expect(await scan.json()).toMatchObject({
    status: 'scan-wait-confirm',
    requester: { user_agent: 'PC browser', ip: '192.0.2.10' },
  });

  // The PC learns who scanned.
  const scanned = (await (await waiting).json()) as {
    status: string;
    version: number;
    scanner: { display_name: string };
  };
  expect(scanned).toMatchObject({ status: 'scan-wait-confirm', scanner: { display_name: '东东' } });
  waiting = poll(scanned.version);

  // The phone confirms; the waiting PC is signed in at that moment with a token of its own.
  expect((await api(`/api/qrcodes/${id}/confirm`, { method: 'POST', headers: bearer(phone.token) })).status).toBe(200);
  const done = (await (await waiting).json()) as { status: string; token: string; user: { username: string } };
  expect(done).toMatchObject({ status: 'scan-confirm', user: { username: 'dong' } });
  const me = await api('/api/me', { headers: bearer(done.token) });
  expect(await me.json()).toMatchObject({ username: 'dong', display_name: '东东' });
});
