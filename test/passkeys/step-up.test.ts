/**
 * The step-up that confirming a QR login will ask for (`CONFIRM_WITH=passkey`): request options
 * for the user's passkeys with a challenge bound to one QR, and the verification of the
 * assertion, called directly as the confirm route will call them. A wrong, replayed, expired,
 * another user's or another QR's assertion is 403 `step_up_failed`, one that cannot be read 400
 * `invalid_request`, and in every such case the counter and the challenge stay as they were.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { ApiError, ConfigError } from '../../src/http/errors';
import { type AssertionJson, confirmWith, issueStepUp, relyingParty, verifyStepUp } from '../../src/passkeys';
import { login, ORIGIN } from '../helpers';
import { inUserObject } from '../sessions/support';
import { Authenticator, FLAG } from './authenticator';
import { addPasskey, creationOptions, storedChallenges, storedPasskey, userObject } from './support';

const DONG = { id: 'u_dong', username: 'dong', display_name: '东东' };
const GUANG = { id: 'u_guang', username: 'guang', display_name: '光光' };
const rp = relyingParty(env, ORIGIN);

/** A QR id of its own for each test (the step-up binds to it; no QR object is needed here). */
const qrId = () =>
  Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, '0')).join('');

/** The error code `promise` rejects with (null when it resolves). */
async function refusal(promise: Promise<unknown>): Promise<string | null> {
  try {
    await promise;
    return null;
  } catch (err) {
    if (err instanceof ApiError) return err.code;
    throw err;
  }
}

describe('issueStepUp', () => {
  it('asks for one of the user’s passkeys, with user verification, by a challenge bound to the QR', async () => {
    const { token } = await login();
    const passkey = await addPasskey(token);
    const qr = qrId();
    const options = await issueStepUp(env, rp, DONG, qr);
    expect(options).toMatchObject({ rpId: 'login.example', userVerification: 'required', timeout: 300_000 });
    expect(options.allowCredentials).toContainEqual({
      type: 'public-key',
      id: passkey.id,
      transports: ['hybrid', 'internal'],
    });
    const stored = (await storedChallenges()).find((c) => c.challenge === options.challenge);
    expect(stored).toMatchObject({ purpose: 'step-up', binding: qr });
    // A second scan of the same QR makes the first challenge void.
    const again = await issueStepUp(env, rp, DONG, qr);
    const live = (await storedChallenges()).map((c) => c.challenge);
    expect(live).toContain(again.challenge);
    expect(live).not.toContain(options.challenge);
  });

  it('gives a user without a passkey empty allowCredentials, and a challenge a new passkey can answer', async () => {
    const guang = await login('guang', '222');
    const qr = qrId();
    const options = await issueStepUp(env, rp, GUANG, qr);
    expect(options.allowCredentials).toEqual([]);
    // The phone offers to create one there and then, and confirms with it.
    const passkey = await addPasskey(guang.token);
    expect(await verifyStepUp(env, rp, GUANG, qr, await passkey.assert(options))).toEqual({ passkey: passkey.id });
  });
});

describe('verifyStepUp', () => {
  it('accepts the user’s passkey once: the challenge is spent, the use recorded', async () => {
    const { token } = await login();
    const passkey = await addPasskey(token);
    const qr = qrId();
    const assertion = await passkey.assert(await issueStepUp(env, rp, DONG, qr));
    expect(await verifyStepUp(env, rp, DONG, qr, assertion)).toEqual({ passkey: passkey.id });
    expect(await storedPasskey(passkey.id)).toMatchObject({
      counter: passkey.counter,
      last_used_at: expect.any(Number),
    });
    // Replayed: refused, and nothing changes.
    const after = await storedPasskey(passkey.id);
    expect(await refusal(verifyStepUp(env, rp, DONG, qr, assertion))).toBe('step_up_failed');
    expect(await storedPasskey(passkey.id)).toEqual(after);
  });

  it('of two concurrent uses of one assertion, exactly one holds', async () => {
    const { token } = await login();
    const passkey = await addPasskey(token, { synced: true, counts: false });
    const qr = qrId();
    const assertion = await passkey.assert(await issueStepUp(env, rp, DONG, qr));
    const outcomes = await Promise.all(
      Array.from({ length: 4 }, () => refusal(verifyStepUp(env, rp, DONG, qr, assertion))),
    );
    expect(outcomes.filter((o) => o === null)).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'step_up_failed')).toHaveLength(3);
  });

  it('refuses every wrong assertion with step_up_failed, and none moves the counter or spends the challenge', async () => {
    const dong = await login();
    const passkey = await addPasskey(dong.token);
    const guang = await login('guang', '222');
    const theirs = await addPasskey(guang.token);
    const qr = qrId();
    // One step-up first, so that the stored counter is not zero.
    const warmUp = qrId();
    await verifyStepUp(env, rp, DONG, warmUp, await passkey.assert(await issueStepUp(env, rp, DONG, warmUp)));
    const options = await issueStepUp(env, rp, DONG, qr);
    const otherQr = qrId();
    const otherOptions = await issueStepUp(env, rp, DONG, otherQr);
    const registration = await creationOptions(dong.token);
    const guangs = await issueStepUp(env, rp, GUANG, qr);
    const before = await storedPasskey(passkey.id);
    const counterNow = passkey.counter;
    const [first, second] = [await passkey.assert(options), await passkey.assert(options)];
    const cases: [string, AssertionJson][] = [
      ['another QR’s challenge', await passkey.assert(otherOptions)],
      ['a registration challenge', await passkey.assert({ challenge: registration.challenge })],
      ['another user’s step-up challenge', await passkey.assert(guangs)],
      ['a page of another site', await passkey.assert(options, { origin: 'https://evil.example' })],
      ['another RP ID', await passkey.assert(options, { rpId: 'evil.example' })],
      ['no user verification', await passkey.assert(options, { flags: FLAG.UP })],
      ['inside a frame of another site', await passkey.assert(options, { crossOrigin: true })],
      ['the counter went backwards', await passkey.assert(options, { counter: counterNow - 1 })],
      ['the counter did not move', await passkey.assert(options, { counter: counterNow })],
      ['another user’s passkey', await theirs.assert(options)],
      ['another user’s passkey, without its handle', await theirs.assert(options, { userHandle: null })],
      ['a passkey never registered', await (await Authenticator.create()).assert(options)],
      ['a registration instead', await passkey.assert(options, { type: 'webauthn.create' })],
      [
        'a signature over other data',
        { ...first, response: { ...first.response, authenticatorData: second.response.authenticatorData } },
      ],
    ];
    for (const [what, assertion] of cases) {
      expect(await refusal(verifyStepUp(env, rp, DONG, qr, assertion)), what).toBe('step_up_failed');
    }
    expect(await storedPasskey(passkey.id)).toEqual(before);
    expect((await storedChallenges()).map((c) => c.challenge)).toEqual(
      expect.arrayContaining([options.challenge, otherOptions.challenge, registration.challenge]),
    );
    // Each challenge still serves its own QR.
    passkey.counter = counterNow;
    expect(await verifyStepUp(env, rp, DONG, qr, await passkey.assert(options))).toEqual({ passkey: passkey.id });
    expect(await verifyStepUp(env, rp, DONG, otherQr, await passkey.assert(otherOptions))).toEqual({
      passkey: passkey.id,
    });
  });

  it('is recorded only while the counter still moves forward (another use may have come first)', async () => {
    const { token } = await login();
    const passkey = await addPasskey(token);
    const [qr1, qr2] = [qrId(), qrId()];
    const [o1, o2] = [await issueStepUp(env, rp, DONG, qr1), await issueStepUp(env, rp, DONG, qr2)];
    // Two step-ups at once: the first assertion is verified (its counter against the stored one) …
    await passkey.assert(o1);
    const earlier = passkey.counter;
    const later = await passkey.assert(o2);
    await verifyStepUp(env, rp, DONG, qr2, later);
    // … the second is recorded first; then the first comes to be recorded.
    const expected = { value: o1.challenge, purpose: 'step-up' as const, binding: qr1 };
    expect(await userObject().usePasskey(passkey.id, { counter: earlier, backed_up: false }, expected)).toBe('counter');
    expect(await storedPasskey(passkey.id)).toMatchObject({ counter: passkey.counter });
    expect((await storedChallenges()).map((c) => c.challenge)).toContain(o1.challenge);
  });

  it('refuses an expired challenge, and nothing changes', async () => {
    const { token } = await login();
    const passkey = await addPasskey(token);
    const qr = qrId();
    const options = await issueStepUp(env, rp, DONG, qr);
    const before = await storedPasskey(passkey.id);
    // Five minutes have passed.
    await inUserObject(
      'u_dong',
      'UPDATE challenges SET expires_at = ? WHERE challenge = ?',
      Date.now() - 1,
      options.challenge,
    );
    expect(await refusal(verifyStepUp(env, rp, DONG, qr, await passkey.assert(options)))).toBe('step_up_failed');
    expect(await storedPasskey(passkey.id)).toEqual(before);
  });

  it('answers invalid_request for an assertion that cannot be read', async () => {
    const { token } = await login();
    const passkey = await addPasskey(token);
    const qr = qrId();
    const good = await passkey.assert(await issueStepUp(env, rp, DONG, qr));
    const bad: [string, AssertionJson][] = [
      ['clientDataJSON not JSON', { ...good, response: { ...good.response, clientDataJSON: 'bm90IGpzb24' } }],
      ['authenticatorData too short', { ...good, response: { ...good.response, authenticatorData: 'AAAA' } }],
      ['rawId unlike id', { ...good, rawId: 'AAAA' }],
      ['a user handle that is not base64url', { ...good, response: { ...good.response, userHandle: '***' } }],
    ];
    for (const [what, assertion] of bad) {
      expect(await refusal(verifyStepUp(env, rp, DONG, qr, assertion)), what).toBe('invalid_request');
    }
    expect(await verifyStepUp(env, rp, DONG, qr, good)).toEqual({ passkey: passkey.id });
  });

  it('accepts an allowed origin under the RP ID, and a PASSKEY_RP_ID that is a parent of the host', async () => {
    const { token } = await login();
    const passkey = await addPasskey(token);
    const wider = relyingParty({ ...env, ALLOWED_ORIGINS: 'https://shop.login.example,https://other.example' }, ORIGIN);
    expect(wider.origins).toEqual([ORIGIN, 'https://shop.login.example']);
    const qr = qrId();
    const options = await issueStepUp(env, wider, DONG, qr);
    const assertion = await passkey.assert(options, { origin: 'https://shop.login.example' });
    expect(await verifyStepUp(env, wider, DONG, qr, assertion)).toEqual({ passkey: passkey.id });
    const parent = relyingParty({ ...env, PASSKEY_RP_ID: 'Example', PASSKEY_RP_NAME: 'Example Inc.' }, ORIGIN);
    expect(parent).toMatchObject({ id: 'example', name: 'Example Inc.' });
  });
});

describe('configuration', () => {
  it('refuses a PASSKEY_RP_ID that does not cover the public host, and an unknown CONFIRM_WITH', () => {
    for (const id of ['evil.example', 'gin.example', '.example']) {
      expect(() => relyingParty({ ...env, PASSKEY_RP_ID: id }, ORIGIN), id).toThrow(ConfigError);
    }
    expect(confirmWith(env)).toBe('tap');
    for (const value of ['tap', 'passkey', 'passkey-when-risky'] as const) {
      expect(confirmWith({ ...env, CONFIRM_WITH: value })).toBe(value);
    }
    expect(() => confirmWith({ ...env, CONFIRM_WITH: 'sometimes' })).toThrow(ConfigError);
  });
});
