/**
 * The 10-minute rule for changing passkeys holds when the passkey is stored, not only when its
 * options are issued (issue 25, A5): a user who already has a passkey and whose sign-in is 9.5
 * minutes old gets creation options, but a registration that arrives when it is 10.3 minutes old
 * is 403 `forbidden` and stores nothing.
 */
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { errorOf, login } from '../helpers';
import { inUserObject } from '../sessions/support';
import { Authenticator } from './authenticator';
import { addPasskey, call, creationOptions, passkeysOf } from './support';

const MINUTE = 60_000;

/** The phone of `token`'s user signed in `minutes` ago (as its session says). */
async function signedInAgo(user: string, token: string, minutes: number) {
  const sid = decodeJwt(token).sid as string;
  await inUserObject(user, 'UPDATE sessions SET created_at = ? WHERE sid = ?', Date.now() - minutes * MINUTE, sid);
}

describe('a new passkey needs a recent sign-in when it is stored', () => {
  it('options at 9.5 minutes, registration at 10.3 minutes: 403, nothing stored', async () => {
    const phone = await login('dong', '111');
    const first = await addPasskey(phone.token);

    await signedInAgo('u_dong', phone.token, 9.5);
    const options = await creationOptions(phone.token);
    const credential = await (await Authenticator.create()).register(options);

    await signedInAgo('u_dong', phone.token, 10.3);
    const late = await call('/api/passkeys/register', { method: 'POST', token: phone.token, body: credential });
    expect(await errorOf(late)).toMatchObject({ status: 403, error: 'forbidden' });
    expect((await passkeysOf(phone.token)).map((p) => p.id)).toEqual([first.id]);
  });

  it('options at 9.5 minutes, registration at 9.9 minutes: 201', async () => {
    const phone = await login('dong', '111');
    await addPasskey(phone.token);

    await signedInAgo('u_dong', phone.token, 9.5);
    const options = await creationOptions(phone.token);
    const credential = await (await Authenticator.create()).register(options);

    await signedInAgo('u_dong', phone.token, 9.9);
    const res = await call('/api/passkeys/register', { method: 'POST', token: phone.token, body: credential });
    expect(res.status, await res.clone().text()).toBe(201);
    expect((await passkeysOf(phone.token)).map((p) => p.id)).toContain(((await res.json()) as { id: string }).id);
  });
});
