/**
 * Signing in with a passkey alone (`IDENTITY=accounts`): discoverable request options, the
 * assertion that names its user by its user handle, the same answer as a password sign-in, a
 * session of its own (`via: "passkey"`); every bad assertion answers 401 (400 when it cannot be
 * read) and changes nothing; an allowed site's page under the RP ID signs in cross-origin.
 */
import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { issueStepUp, relyingParty } from '../../src/passkeys';
import { signInChallengeObject } from '../../src/passkeys/passkey-challenge';
import { errorOf, type LoginBody, login, ORIGIN } from '../helpers';
import { type AssertionResponse, Authenticator, FLAG } from './authenticator';
import { addPasskey, type Call, call, creationOptions, signInOptions, storedPasskey } from './support';

const signIn = (body: unknown, headers: Record<string, string> = {}, vars?: Call['vars']) =>
  call('/api/passkeys/login', { method: 'POST', body, headers, vars });

const DONG = { id: 'u_dong', username: 'dong', display_name: '东东' };

describe('sign-in with a passkey alone', () => {
  it('offers discoverable options: no credentials listed, user verification required', async () => {
    const options = await signInOptions();
    expect(options).toEqual({
      challenge: expect.any(String),
      rpId: 'login.example',
      timeout: 300_000,
      userVerification: 'required',
    });
    expect(options).not.toHaveProperty('allowCredentials');
  });

  it('signs in: the same answer as /api/login, a session of its own, the passkey’s use recorded', async () => {
    const phone = await login();
    const passkey = await addPasskey(phone.token);
    const res = await signIn(await passkey.assert(await signInOptions()));
    expect(res.status).toBe(200);
    const body = (await res.json()) as LoginBody;
    expect(body).toEqual({
      token: expect.any(String),
      refresh_token: expect.any(String),
      expires_in: 900,
      user: { id: 'u_dong', username: 'dong', display_name: '东东' },
    });
    expect(decodeJwt(body.token)).toMatchObject({ sub: 'u_dong', sid: expect.any(String) });
    const me = await call('/api/me', { token: body.token });
    expect(await me.json()).toEqual(body.user);
    const sessions = (await (await call('/api/sessions', { token: body.token })).json()) as {
      via: string;
      current: boolean;
    }[];
    expect(sessions.find((s) => s.current)).toMatchObject({ via: 'passkey' });
    // A passkey sign-in is the phone's own: it may approve logins and add passkeys.
    expect((await call('/api/passkeys/register/options', { method: 'POST', token: body.token })).status).toBe(200);
    expect(await storedPasskey(passkey.id)).toMatchObject({
      counter: passkey.counter,
      last_used_at: expect.any(Number),
    });
  });

  it('signs in with a synced passkey whose counter stays 0, and with an RS256 one', async () => {
    const phone = await login();
    const synced = await addPasskey(phone.token, { synced: true, counts: false });
    const first = await signIn(await synced.assert(await signInOptions()));
    expect(first.status).toBe(200);
    expect((await signIn(await synced.assert(await signInOptions()))).status).toBe(200);
    expect(await storedPasskey(synced.id)).toMatchObject({ counter: 0, backed_up: 1 });
    const rsa = await addPasskey(phone.token, { algorithm: 'RS256' });
    expect((await signIn(await rsa.assert(await signInOptions()))).status).toBe(200);
  });

  it('verifies an ES256 signature whose r or s DER shortened (about one in 128)', async () => {
    const phone = await login();
    const passkey = await addPasskey(phone.token);
    const assertion = await passkey.assert(await signInOptions(), { shortInteger: true });
    const signature = Uint8Array.from(atob(assertion.response.signature.replace(/-/g, '+').replace(/_/g, '/')), (c) =>
      c.charCodeAt(0),
    );
    // DER: 30 len 02 lr r 02 ls s; without its sign byte, one of the two integers is under 32 bytes.
    const rLength = signature[3]!;
    const integers = [signature.subarray(4, 4 + rLength), signature.subarray(6 + rLength)];
    const lengths = integers.map((int) => int.byteLength - (int[0] === 0 && (int[1] ?? 0) >= 0x80 ? 1 : 0));
    expect(Math.min(...lengths)).toBeLessThan(32);
    expect((await signIn(assertion)).status).toBe(200);
  });

  it('refuses a replayed assertion, and nothing changes', async () => {
    const phone = await login();
    const passkey = await addPasskey(phone.token);
    const assertion = await passkey.assert(await signInOptions());
    expect((await signIn(assertion)).status).toBe(200);
    const before = await storedPasskey(passkey.id);
    expect(await errorOf(await signIn(assertion))).toMatchObject({ status: 401, error: 'invalid_credentials' });
    expect(await storedPasskey(passkey.id)).toEqual(before);
  });

  it('refuses every bad assertion with 401, and none spends the challenge or moves the counter', async () => {
    const dong = await login();
    const passkey = await addPasskey(dong.token);
    const guang = await login('guang', '222');
    const theirs = await addPasskey(guang.token);
    // One sign-in first, so that the stored counter is not zero.
    expect((await signIn(await passkey.assert(await signInOptions()))).status).toBe(200);
    const options = await signInOptions();
    const before = await storedPasskey(passkey.id);
    const counterNow = passkey.counter;
    const handle = (id: string) => btoa(id).replace(/=+$/, '');
    const [first, second] = [await passkey.assert(options), await passkey.assert(options)];
    const cases: [string, AssertionResponse][] = [
      ['a page of another site', await passkey.assert(options, { origin: 'https://evil.example' })],
      ['another RP ID', await passkey.assert(options, { rpId: 'evil.example' })],
      ['no user verification', await passkey.assert(options, { flags: FLAG.UP })],
      ['nobody present', await passkey.assert(options, { flags: FLAG.UV })],
      ['backup eligibility changed', await passkey.assert(options, { flags: FLAG.UP | FLAG.UV | FLAG.BE })],
      ['inside a frame of another site', await passkey.assert(options, { crossOrigin: true })],
      ['a registration instead', await passkey.assert(options, { type: 'webauthn.create' })],
      ['the counter went backwards', await passkey.assert(options, { counter: counterNow - 1 })],
      ['the counter did not move', await passkey.assert(options, { counter: counterNow })],
      ['another user’s handle', await passkey.assert(options, { userHandle: handle('u_guang') })],
      ['an account that does not exist', await passkey.assert(options, { userHandle: handle('u_nobody') })],
      ['no user handle', await passkey.assert(options, { userHandle: null })],
      [
        'another user’s passkey with this user’s handle',
        await theirs.assert(options, { userHandle: handle('u_dong') }),
      ],
      [
        'a passkey never registered',
        await (await Authenticator.create()).assert(options, { userHandle: handle('u_dong') }),
      ],
      ['a challenge this Worker did not make', await passkey.assert(options, { challenge: handle('x'.repeat(48)) })],
      [
        'a signature over other data',
        { ...first, response: { ...first.response, authenticatorData: second.response.authenticatorData } },
      ],
    ];
    for (const [what, assertion] of cases) {
      expect(await errorOf(await signIn(assertion)), what).toMatchObject({ status: 401, error: 'invalid_credentials' });
    }
    expect(await storedPasskey(passkey.id), 'the counter and last use').toEqual(before);
    // The challenge is still there: a good assertion signs in with it.
    passkey.counter = counterNow;
    expect((await signIn(await passkey.assert(options))).status).toBe(200);
  });

  it('refuses an expired challenge, and a challenge made for registration or a step-up', async () => {
    const phone = await login();
    const passkey = await addPasskey(phone.token);
    const options = await signInOptions();
    // Five minutes have passed (the object's alarm has not come yet).
    const object = signInChallengeObject(env, options.challenge)!;
    await runInDurableObject(object, (_i, state) => {
      const stored = state.storage.kv.get<{ challenge: string; expires_at: number }>('challenge')!;
      state.storage.kv.put('challenge', { ...stored, expires_at: Date.now() - 1 });
    });
    expect(await errorOf(await signIn(await passkey.assert(options)))).toMatchObject({ status: 401 });
    const registration = await creationOptions(phone.token);
    expect((await signIn(await passkey.assert({ challenge: registration.challenge }))).status).toBe(401);
    const stepUp = await issueStepUp(env, relyingParty(env, ORIGIN), DONG, 'f'.repeat(64));
    expect((await signIn(await passkey.assert(stepUp))).status).toBe(401);
  });

  it('answers 400 for JSON that cannot be read', async () => {
    const phone = await login();
    const passkey = await addPasskey(phone.token);
    const good = await passkey.assert(await signInOptions());
    const bodies: [string, unknown][] = [
      ['not JSON', '{"id":'],
      ['no response', { ...good, response: undefined }],
      ['a signature that is not base64url', { ...good, response: { ...good.response, signature: 'not base64!' } }],
      ['clientDataJSON that is not JSON', { ...good, response: { ...good.response, clientDataJSON: 'bm90IGpzb24' } }],
      ['authenticator data too short', { ...good, response: { ...good.response, authenticatorData: 'AAAA' } }],
      ['a wrong type', { ...good, type: 'otp' }],
    ];
    for (const [what, body] of bodies) {
      expect(await errorOf(await signIn(body)), what).toMatchObject({ status: 400, error: 'invalid_request' });
    }
    // Nothing was spent: the good one still signs in.
    expect((await signIn(good)).status).toBe(200);
  });

  it('cannot sign in with a passkey its user removed', async () => {
    const phone = await login();
    const passkey = await addPasskey(phone.token);
    expect((await call(`/api/passkeys/${passkey.id}`, { method: 'DELETE', token: phone.token })).status).toBe(204);
    expect((await signIn(await passkey.assert(await signInOptions()))).status).toBe(401);
  });

  it('cannot sign in to a disabled account; it can again once the account is enabled', async () => {
    const phone = await login('guang', '222');
    const passkey = await addPasskey(phone.token);
    const setDisabled = (at: string | null) =>
      env.DB.prepare('UPDATE users SET disabled_at = ? WHERE id = ?').bind(at, 'u_guang').run();
    await setDisabled(new Date().toISOString());
    try {
      expect(await errorOf(await signIn(await passkey.assert(await signInOptions())))).toMatchObject({
        status: 401,
        error: 'invalid_credentials',
        message: expect.stringContaining('its account does not exist any more, or is disabled'),
      });
    } finally {
      await setDisabled(null);
    }
    expect((await signIn(await passkey.assert(await signInOptions()))).status).toBe(200);
  });

  it('exists with IDENTITY=jwt too, for the site’s users who registered a passkey (site-users.test.ts)', async () => {
    const vars = {
      IDENTITY: 'jwt',
      IDENTITY_ISSUER: 'https://site.example',
      IDENTITY_AUDIENCE: 'x',
      IDENTITY_JWT_SECRET: 's'.repeat(32),
    };
    const options = await call('/api/passkeys/login/options', { method: 'POST', vars });
    expect(options.status).toBe(200);
    // A passkey registered for one of our accounts names no site user: refused.
    const phone = await login();
    const passkey = await addPasskey(phone.token);
    expect(await errorOf(await signIn(await passkey.assert(await options.json()), {}, vars))).toMatchObject({
      status: 401,
      error: 'invalid_credentials',
    });
  });
});

describe('from an allowed site’s page (CORS)', () => {
  const vars = { ALLOWED_ORIGINS: 'https://shop.login.example, https://partner.example' };

  it('answers the preflight of an allowed origin', async () => {
    for (const path of ['/api/passkeys/login/options', '/api/passkeys/login']) {
      const res = await call(path, {
        method: 'OPTIONS',
        headers: {
          Origin: 'https://shop.login.example',
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'content-type',
        },
        vars,
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('Access-Control-Allow-Origin')).toBe('https://shop.login.example');
      expect(res.headers.get('Access-Control-Allow-Methods')).toContain('POST');
      expect(res.headers.get('Access-Control-Allow-Headers')?.toLowerCase()).toContain('content-type');
    }
  });

  it('signs in from an allowed page under the RP ID; not from one outside it', async () => {
    const phone = await login();
    const passkey = await addPasskey(phone.token);
    const from = { Origin: 'https://shop.login.example' };
    const options = await call('/api/passkeys/login/options', { method: 'POST', headers: from, vars });
    expect(options.headers.get('Access-Control-Allow-Origin')).toBe('https://shop.login.example');
    const { challenge, rpId } = (await options.json()) as { challenge: string; rpId: string };
    const res = await signIn(
      await passkey.assert({ challenge, rpId }, { origin: 'https://shop.login.example' }),
      from,
      vars,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('Access-Control-Allow-Origin')).toBe('https://shop.login.example');
    // An allowed origin that is not under the RP ID may embed the QR, not use the passkeys.
    const outside = await signInOptions(vars);
    const refused = await signIn(await passkey.assert(outside, { origin: 'https://partner.example' }), {}, vars);
    expect(refused.status).toBe(401);
  });
});
