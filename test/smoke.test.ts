import { expect, it } from 'vitest';
import { act, createQr, login, status } from './helpers';

it('smoke', async () => {
  const qr = await createQr();
  const { token } = await login();
  expect((await act(qr, 'scan', token)).status).toBe(200);
  expect((await act(qr, 'confirm', token)).status).toBe(200);
  const res = await status(qr);
  const body = await res.json();
  expect(body).toMatchObject({ status: 'scan-confirm' });
});
