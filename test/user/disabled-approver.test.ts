/**
 * The third audit's A4: a disabled account's phone session must not keep approving logins.
 * `npm run accounts -- disable` changes D1 only (it cannot reach the user's object); the first
 * refresh of any of the account's sessions reads D1 (as every refresh does), and then every
 * session of the account ends at once, each with `session.revoked`. From then on a login that
 * one of its phones approved, a QR or a device flow, is handed out to nobody: the hand-out needs
 * its approver alive in the user's object, and reads no D1.
 */
import { env } from 'cloudflare:workers';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/identity/passwords';
import { act, api, bearer, createQr, errorOf, login, status } from '../helpers';
import { authorizeDevice, oauthErrorOf, phoneAnswers, pollToken } from '../oauth/support';
import { formRequest, REFRESH_GRANT, withWebhooks } from '../sessions/support';

const me = (token: string) => api('/api/me', { headers: bearer(token) });
const PASSWORD = 's3cret-pass';

/** A new account, as `npm run accounts -- add` makes it. */
async function newAccount(): Promise<{ id: string; username: string }> {
  const username = `closing-${crypto.randomUUID().slice(0, 8)}`;
  await env.DB.prepare('INSERT INTO users (id, username, display_name, password_hash) VALUES (?, ?, ?, ?)')
    .bind(`u_${username}`, username, 'Closing', await hashPassword(PASSWORD))
    .run();
  return { id: `u_${username}`, username };
}

/** What `npm run accounts -- disable` does: D1 only. */
const disable = (username: string) =>
  env.DB.prepare('UPDATE users SET disabled_at = ? WHERE username = ?').bind(new Date().toISOString(), username).run();

/** Another session of the account refreshes: refused, and what the webhook heard. */
async function refreshElsewhere(refreshToken: string) {
  const { res, events } = await withWebhooks(
    formRequest('/oauth/token', { grant_type: REFRESH_GRANT, refresh_token: refreshToken }),
  );
  expect(await oauthErrorOf(res)).toMatchObject({ status: 400, error: 'invalid_grant' });
  return events.filter((e) => e.type === 'session.revoked').map((e) => e.data.sid);
}

describe('a disabled account', () => {
  it('once any of its sessions refreshes, all of them end: a QR its other phone confirmed is handed out to nobody', async () => {
    const { username } = await newAccount();
    const laptop = await login(username, PASSWORD);
    const phone = await login(username, PASSWORD);
    const qr = await createQr();
    expect((await act(qr, 'scan', phone.token)).status).toBe(200);
    expect((await act(qr, 'confirm', phone.token)).status).toBe(200);

    await disable(username);
    const ended = await refreshElsewhere(laptop.refresh_token);

    // The PC collects nothing; the phone's still-unexpired token is refused everywhere.
    expect(await errorOf(await status(qr, '?after=1'))).toMatchObject({ status: 410, error: 'qrcode_expired' });
    expect(ended.sort()).toEqual([decodeJwt(laptop.token).sid, decodeJwt(phone.token).sid].sort());
    expect((await me(phone.token)).status).toBe(401);
    const next = await createQr();
    expect((await act(next, 'scan', phone.token)).status).toBe(401);
  });

  it('the same for a device flow its phone confirmed: access_denied, no tokens', async () => {
    const { username } = await newAccount();
    const laptop = await login(username, PASSWORD);
    const auth = await authorizeDevice();
    const phone = await phoneAnswers(auth, 'confirm', [username, PASSWORD]);

    await disable(username);
    const ended = await refreshElsewhere(laptop.refresh_token);
    expect(await oauthErrorOf(await pollToken(auth.device_code))).toMatchObject({
      status: 400,
      error: 'access_denied',
    });
    expect(ended).toContain(decodeJwt(phone).sid);
  });
});
