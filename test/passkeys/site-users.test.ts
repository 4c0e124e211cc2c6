/**
 * Issue 29, item 6: passkeys for a site's own users (`IDENTITY=jwt`). A site's user registers a
 * passkey with the site's token, but only a token from a sign-in with the site of the last 10
 * minutes (`auth_time`, else `iat`) may add or remove one. With it the user signs in by the
 * passkey alone (discoverable: its user handle names the user's object `jwt:<sub>`, which keeps
 * the user's name), as `<qr-login passkey>` does on a computer, and confirms a QR login with it
 * when `CONFIRM_WITH` asks.
 */
import { decodeJwt, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import type { RequestOptions } from '../../src/passkeys';
import { createQr, errorOf, type LoginBody } from '../helpers';
import { Authenticator } from './authenticator';
import { addPasskey, call, creationOptions, passkeysOf, signInOptions } from './support';

const SECRET = 'a shared secret of the site, at least 32 bytes long';
const vars = {
  IDENTITY: 'jwt',
  IDENTITY_ISSUER: 'https://site.example',
  IDENTITY_AUDIENCE: 'qr-login',
  IDENTITY_JWT_SECRET: SECRET,
};
const MINUTE = 60;

/** A token of the site's user `sub`, issued `ageSeconds` ago, with these claims besides. */
function siteToken(sub: string, { ageSeconds = 0, claims = {} as Record<string, unknown>, iat = true } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ sub, preferred_username: `${sub}-name`, name: `Site user ${sub}`, ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(vars.IDENTITY_ISSUER)
    .setAudience(vars.IDENTITY_AUDIENCE)
    .setExpirationTime(now + 3600);
  if (iat) jwt.setIssuedAt(now - ageSeconds);
  return jwt.sign(new TextEncoder().encode(SECRET));
}

const newSub = () => `site-${crypto.randomUUID().slice(0, 8)}`;
const signIn = (body: unknown) => call('/api/passkeys/login', { method: 'POST', body, vars });

describe('a site’s user signs in with a passkey alone', () => {
  it('as the site’s user the token named: a session of ours, its name kept by the user’s object', async () => {
    const sub = newSub();
    const passkey = await addPasskey(await siteToken(sub), { vars });
    const res = await signIn(await passkey.assert(await signInOptions(vars)));
    expect(res.status, await res.clone().text()).toBe(200);
    const body = (await res.json()) as LoginBody;
    const user = { id: sub, username: `${sub}-name`, display_name: `Site user ${sub}` };
    expect(body.user).toEqual(user);
    expect(decodeJwt(body.token)).toMatchObject({ sub, sid: expect.any(String) });
    // Our own token, accepted with IDENTITY=jwt as every token of ours is: a session of its own.
    expect(await (await call('/api/me', { token: body.token, vars })).json()).toEqual(user);
    const sessions = (await (await call('/api/sessions', { token: body.token, vars })).json()) as {
      via: string;
      current: boolean;
    }[];
    expect(sessions).toEqual([expect.objectContaining({ via: 'passkey', current: true })]);
  });

  it('refuses a passkey removed, or another site user’s handle, and changes nothing', async () => {
    const sub = newSub();
    const token = await siteToken(sub);
    const passkey = await addPasskey(token, { vars });
    const [stored] = await passkeysOf(token, vars);
    expect((await call(`/api/passkeys/${stored!.id}`, { method: 'DELETE', token, vars })).status).toBe(204);
    expect(await errorOf(await signIn(await passkey.assert(await signInOptions(vars))))).toMatchObject({
      status: 401,
      error: 'invalid_credentials',
    });
  });
});

describe('a site’s token changes passkeys only from a recent sign-in with the site', () => {
  it('registers and removes with a token of the last 10 minutes, by its auth_time, else its iat', async () => {
    const sub = newSub();
    const stale = [
      ['issued 11 minutes ago', await siteToken(sub, { ageSeconds: 11 * MINUTE })],
      [
        'issued now for a sign-in 11 minutes ago',
        await siteToken(sub, { claims: { auth_time: Math.floor(Date.now() / 1000) - 11 * MINUTE } }),
      ],
      ['that does not say when', await siteToken(sub, { iat: false })],
    ] as const;
    for (const [what, token] of stale) {
      const res = await call('/api/passkeys/register/options', { method: 'POST', token, vars });
      expect(await errorOf(res), what).toMatchObject({
        status: 403,
        error: 'forbidden',
        message: expect.stringContaining('Sign in with the site again'),
      });
    }
    // A sign-in of a minute ago, said by auth_time, in a token issued now: fine.
    const recent = await siteToken(sub, { claims: { auth_time: Math.floor(Date.now() / 1000) - MINUTE } });
    expect((await creationOptions(recent, vars)).user.name).toBe(`${sub}-name`);
    await addPasskey(recent, { vars });
    const [stored] = await passkeysOf(recent, vars);
    // The stale token still lists them, but removes none.
    expect(await passkeysOf(stale[0][1], vars)).toHaveLength(1);
    const removal = await call(`/api/passkeys/${stored!.id}`, { method: 'DELETE', token: stale[0][1], vars });
    expect(await errorOf(removal)).toMatchObject({ status: 403, error: 'forbidden' });
    expect(await passkeysOf(recent, vars)).toHaveLength(1);
  });
});

describe('the step-up of a site’s user', () => {
  it('asks for the passkey registered with the site’s token, and the PC signs in once it holds', async () => {
    const sub = newSub();
    const token = await siteToken(sub);
    const passkey = await addPasskey(token, { vars });
    const stepUpVars = { ...vars, CONFIRM_WITH: 'passkey' };
    const qr = await createQr();
    const scanned = await call(`/api/qrcodes/${qr.qrcode_id}/scan`, { method: 'POST', token, vars: stepUpVars });
    expect(scanned.status).toBe(200);
    const options = ((await scanned.json()) as { step_up: RequestOptions }).step_up;
    expect(options.allowCredentials?.map((c) => c.id)).toEqual([passkey.id]);
    const without = await call(`/api/qrcodes/${qr.qrcode_id}/confirm`, {
      method: 'POST',
      token,
      body: {},
      vars: stepUpVars,
    });
    expect(await errorOf(without)).toMatchObject({ status: 403, error: 'step_up_required' });
    // Another authenticator's assertion is refused; the right one confirms.
    const stranger = await Authenticator.create();
    const wrong = await call(`/api/qrcodes/${qr.qrcode_id}/confirm`, {
      method: 'POST',
      token,
      body: { passkey: await stranger.assert(options) },
      vars: stepUpVars,
    });
    expect(await errorOf(wrong)).toMatchObject({ status: 403, error: 'step_up_failed' });
    const retry = await call(`/api/qrcodes/${qr.qrcode_id}/scan`, { method: 'POST', token, vars: stepUpVars });
    const again = ((await retry.json()) as { step_up: RequestOptions }).step_up;
    const confirmed = await call(`/api/qrcodes/${qr.qrcode_id}/confirm`, {
      method: 'POST',
      token,
      body: { passkey: await passkey.assert(again) },
      vars: stepUpVars,
    });
    expect(confirmed.status, await confirmed.clone().text()).toBe(200);
    const polled = await call(`/api/qrcodes/${qr.qrcode_id}/status`, {
      headers: { 'X-Poll-Token': qr.poll_token },
      vars,
    });
    const pc = (await polled.json()) as { status: string; token: string };
    expect(pc.status).toBe('scan-confirm');
    expect(decodeJwt(pc.token).sub).toBe(sub);
  });
});
