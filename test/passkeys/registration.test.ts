/**
 * A signed-in phone registers passkeys, lists them and removes them: the creation options, the
 * browser's JSON of the new credential (a real one, made by a software authenticator), and what
 * each bad registration answers (nothing stored, the challenge still open).
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { decodeJwt, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { errorOf, login, qrLogin } from '../helpers';
import { inUserObject } from '../sessions/support';
import { Authenticator, type Cbor, cbor, FLAG, type RegistrationResponse } from './authenticator';
import {
  addPasskey,
  call,
  creationOptions,
  inObject,
  passkeysOf,
  storedChallenges,
  storedPasskey,
  userObject,
} from './support';

const register = (token: string, body: unknown) => call('/api/passkeys/register', { method: 'POST', token, body });

describe('registration', () => {
  it('offers creation options for a discoverable, user-verified passkey without attestation', async () => {
    const { token } = await login('guang', '222');
    const options = await creationOptions(token);
    expect(options).toMatchObject({
      rp: { id: 'login.example', name: 'QR Login' },
      user: { id: btoa('u_guang').replace(/=+$/, ''), name: 'guang', displayName: '光光' },
      authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
      attestation: 'none',
      timeout: 300_000,
    });
    expect(options.pubKeyCredParams.map((p) => p.alg)).toEqual(expect.arrayContaining([-7, -257]));
    expect(options.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Kept on the server, for five minutes at most.
    const [stored] = (await storedChallenges('accounts:u_guang')).filter((c) => c.challenge === options.challenge);
    expect(stored).toMatchObject({ purpose: 'register' });
    expect(stored!.expires_at - Date.now()).toBeLessThanOrEqual(300_000);
  });

  it('registers the browser’s new credential, named after the device, and lists it', async () => {
    const { token } = await login();
    const authenticator = await Authenticator.create();
    const credential = await authenticator.register(await creationOptions(token));
    const res = await register(token, credential);
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; name: string; created_at: string };
    expect(created).toEqual({ id: authenticator.id, name: 'Chrome on Android', created_at: expect.any(String) });
    const listed = (await passkeysOf(token)).find((p) => p.id === authenticator.id);
    expect(listed).toEqual({ ...created, last_used_at: null });
    // The next options exclude it, so the same authenticator is not registered twice.
    const next = await creationOptions(token);
    expect(next.excludeCredentials).toContainEqual({
      type: 'public-key',
      id: authenticator.id,
      transports: ['hybrid', 'internal'],
    });
  });

  it('keeps the name the user gives, and an RS256 key (Windows Hello)', async () => {
    const { token } = await login();
    const rsa = await addPasskey(token, { algorithm: 'RS256', name: '  My laptop  ' });
    expect((await passkeysOf(token)).find((p) => p.id === rsa.id)?.name).toBe('My laptop');
  });

  it('spends the challenge: the same response a second time, or another session’s challenge, is refused', async () => {
    const phone = await login();
    const other = await login();
    const authenticator = await Authenticator.create();
    const credential = await authenticator.register(await creationOptions(phone.token));
    // Another session of the same user cannot use this session's challenge.
    expect(await errorOf(await register(other.token, credential))).toMatchObject({
      status: 400,
      error: 'invalid_request',
    });
    expect((await register(phone.token, credential)).status).toBe(201);
    const again = await errorOf(await register(phone.token, credential));
    expect(again).toMatchObject({ status: 400, error: 'invalid_request' });
  });

  it('refuses a bad registration with 400 and changes nothing: the challenge still registers afterwards', async () => {
    const { token } = await login('guang', '222');
    const options = await creationOptions(token);
    const authenticator = await Authenticator.create();
    const good = await authenticator.register(options);
    const reads = (r: RegistrationResponse) => r.response;
    const cases: [string, unknown][] = [
      ['a page of another site', await authenticator.register(options, { origin: 'https://evil.example' })],
      ['another RP ID', await authenticator.register(options, { rpId: 'evil.example' })],
      ['no user verification', await authenticator.register(options, { flags: FLAG.UP })],
      ['nobody present', await authenticator.register(options, { flags: FLAG.UV })],
      ['backed up but not eligible', await authenticator.register(options, { flags: FLAG.UP | FLAG.UV | FLAG.BS })],
      ['inside a frame of another site', await authenticator.register(options, { crossOrigin: true })],
      ['an assertion instead', await authenticator.register(options, { type: 'webauthn.get' })],
      [
        'another challenge',
        await authenticator.register(options, { challenge: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }),
      ],
      [
        'a credential id that is not the one made',
        { ...good, id: (await Authenticator.create()).id, rawId: undefined },
      ],
      ['rawId unlike id', { ...good, rawId: (await Authenticator.create()).id }],
      [
        'an EdDSA key',
        await authenticator.register(options, {
          coseKey: cbor(
            new Map<number, Cbor>([
              [1, 1],
              [3, -8],
              [-1, 6],
              [-2, new Uint8Array(32)],
            ]),
          ),
        }),
      ],
      [
        'a point off the curve',
        await authenticator.register(options, {
          coseKey: cbor(
            new Map<number, Cbor>([
              [1, 2],
              [3, -7],
              [-1, 1],
              [-2, new Uint8Array(32).fill(1)],
              [-3, new Uint8Array(32).fill(2)],
            ]),
          ),
        }),
      ],
      ['attestationObject not CBOR', { ...good, response: { ...reads(good), attestationObject: 'bm90IGNib3I' } }],
      [
        'attestationObject without authData',
        {
          ...good,
          response: {
            ...reads(good),
            attestationObject: btoa(String.fromCharCode(...cbor(new Map([['fmt', 'none']])))).replace(/=+$/, ''),
          },
        },
      ],
      ['clientDataJSON not JSON', { ...good, response: { ...reads(good), clientDataJSON: 'bm90IGpzb24' } }],
      ['clientDataJSON not base64url', { ...good, response: { ...reads(good), clientDataJSON: 'a+b/c=' } }],
      ['no response', { ...good, response: undefined }],
      ['a wrong type', { ...good, type: 'password' }],
      ['a name with a control character', { ...good, name: 'a\u0007b' }],
      ['a blank name', { ...good, name: '   ' }],
      ['a list, not an object', [good]],
    ];
    for (const [what, body] of cases) {
      const res = await register(token, body);
      expect(await errorOf(res), what).toMatchObject({ status: 400, error: 'invalid_request' });
    }
    expect((await passkeysOf(token)).map((p) => p.id)).not.toContain(authenticator.id);
    expect((await storedChallenges('accounts:u_guang')).map((c) => c.challenge)).toContain(options.challenge);
    // None of them spent the challenge: the good response still registers.
    expect((await register(token, good)).status).toBe(201);
  });

  it('refuses a challenge made for a step-up, and one that has expired', async () => {
    const { token } = await login();
    const authenticator = await Authenticator.create();
    const options = await creationOptions(token);
    // Expired: five minutes have passed.
    await inUserObject(
      'u_dong',
      'UPDATE challenges SET expires_at = ? WHERE challenge = ?',
      Date.now() - 1,
      options.challenge,
    );
    const late = await register(token, await authenticator.register(options));
    expect(await errorOf(late)).toMatchObject({ status: 400, error: 'invalid_request' });
    // A step-up challenge of the same user is not a registration challenge.
    const fresh = await creationOptions(token);
    await inUserObject('u_dong', "UPDATE challenges SET purpose = 'step-up' WHERE challenge = ?", fresh.challenge);
    expect((await register(token, await authenticator.register(fresh))).status).toBe(400);
    expect(await storedPasskey(authenticator.id)).toBeNull();
  });
});

describe('removal', () => {
  it('removes one’s own passkey (204); another user’s or an unknown one is 404', async () => {
    const dong = await login();
    const guang = await login('guang', '222');
    const mine = await addPasskey(dong.token);
    const theirs = await addPasskey(guang.token);
    const remove = (token: string, id: string) => call(`/api/passkeys/${id}`, { method: 'DELETE', token });
    expect(await errorOf(await remove(dong.token, theirs.id))).toMatchObject({ status: 404, error: 'not_found' });
    expect(await errorOf(await remove(dong.token, 'no-such-passkey'))).toMatchObject({ status: 404 });
    expect(await errorOf(await remove(dong.token, '%E2%9C%93'))).toMatchObject({ status: 404 });
    expect((await passkeysOf(guang.token)).map((p) => p.id)).toContain(theirs.id);
    expect((await remove(dong.token, mine.id)).status).toBe(204);
    expect((await passkeysOf(dong.token)).map((p) => p.id)).not.toContain(mine.id);
    expect((await remove(dong.token, mine.id)).status).toBe(404);
  });
});

describe('who may change passkeys', () => {
  it('a PC that a QR login signed in may list passkeys, not add or remove one', async () => {
    const phone = await login();
    const passkey = await addPasskey(phone.token);
    const pc = await qrLogin(phone.token);
    expect((await passkeysOf(pc)).map((p) => p.id)).toContain(passkey.id);
    const options = await call('/api/passkeys/register/options', { method: 'POST', token: pc });
    expect(await errorOf(options)).toMatchObject({ status: 403, error: 'forbidden' });
    const remove = await call(`/api/passkeys/${passkey.id}`, { method: 'DELETE', token: pc });
    expect(await errorOf(remove)).toMatchObject({ status: 403, error: 'forbidden' });
  });

  it('a user who has a passkey adds or removes one only from a sign-in of the last 10 minutes', async () => {
    const phone = await login('guang', '222');
    const passkey = await addPasskey(phone.token);
    const sid = decodeJwt(phone.token).sid as string;
    // The phone signed in eleven minutes ago (someone else may have picked it up since).
    await inUserObject('u_guang', 'UPDATE sessions SET created_at = ? WHERE sid = ?', Date.now() - 11 * 60_000, sid);
    const options = await call('/api/passkeys/register/options', { method: 'POST', token: phone.token });
    expect(await errorOf(options)).toMatchObject({ status: 403, error: 'forbidden' });
    const remove = await call(`/api/passkeys/${passkey.id}`, { method: 'DELETE', token: phone.token });
    expect(await errorOf(remove)).toMatchObject({ status: 403, error: 'forbidden' });
    expect((await passkeysOf(phone.token)).map((p) => p.id)).toContain(passkey.id);
    // Signing in again makes it possible.
    const again = await login('guang', '222');
    expect((await call(`/api/passkeys/${passkey.id}`, { method: 'DELETE', token: again.token })).status).toBe(204);
  });
});

describe('IDENTITY=jwt: a site’s user', () => {
  const SECRET = 'a shared secret of the site, at least 32 bytes long';
  const vars = {
    IDENTITY: 'jwt',
    IDENTITY_ISSUER: 'https://site.example',
    IDENTITY_AUDIENCE: 'qr-login',
    IDENTITY_JWT_SECRET: SECRET,
  };
  const siteToken = () =>
    new SignJWT({ sub: 'site-user-7', preferred_username: 'ada', name: 'Ada' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(vars.IDENTITY_ISSUER)
      .setAudience(vars.IDENTITY_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(SECRET));

  it('registers against the site’s `sub`, lists and removes its passkeys', async () => {
    const token = await siteToken();
    const options = await creationOptions(token, vars);
    expect(options.user).toEqual({ id: btoa('site-user-7').replace(/=+$/, ''), name: 'ada', displayName: 'Ada' });
    const passkey = await addPasskey(token, { vars });
    expect(await storedPasskey(passkey.id, 'jwt:site-user-7')).toMatchObject({ id: passkey.id });
    expect((await passkeysOf(token, vars)).map((p) => p.id)).toEqual([passkey.id]);
    // The site's token is the site's session: it may remove passkeys as it may add them.
    const res = await call(`/api/passkeys/${passkey.id}`, { method: 'DELETE', token, vars });
    expect(res.status).toBe(204);
    expect(await passkeysOf(token, vars)).toEqual([]);
  });

  it('an object with no session forgets an unused challenge by its own alarm', async () => {
    const token = await siteToken();
    await creationOptions(token, vars);
    const object = 'jwt:site-user-7';
    expect((await storedChallenges(object)).length).toBeGreaterThan(0);
    // Five minutes later: the alarm set with the challenge comes.
    await inObject(object, 'UPDATE challenges SET expires_at = ?', Date.now() - 1);
    // (and the passkeys an earlier test added and removed are past the 90 days of recent activity)
    await inObject(object, 'UPDATE activity SET at = at - ?', 91 * 86_400_000);
    const named = env.USER_SESSIONS.get(env.USER_SESSIONS.idFromName(object));
    expect(await runDurableObjectAlarm(named)).toBe(true);
    const tables = await runInDurableObject(named, (_i, state) =>
      state.storage.sql
        .exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'")
        .toArray(),
    );
    expect(tables).toEqual([]);
  });
});

describe('the user object keeps passkeys', () => {
  it('after the last session ends, until the last passkey is removed', async () => {
    const first = await login('guang', '222');
    const passkey = await addPasskey(first.token);
    // Everyone signs out: the object's alarm runs, and the passkeys stay.
    await inUserObject('u_guang', 'DELETE FROM sessions WHERE sid != ?', decodeJwt(first.token).sid as string);
    expect((await call('/api/logout', { method: 'POST', token: first.token })).status).toBe(204);
    await runDurableObjectAlarm(userObject('u_guang'));
    expect(await storedPasskey(passkey.id, 'accounts:u_guang')).toMatchObject({ id: passkey.id });
    // The last passkey goes with the last session: then the object empties its storage.
    const again = await login('guang', '222');
    for (const p of await passkeysOf(again.token)) {
      expect((await call(`/api/passkeys/${p.id}`, { method: 'DELETE', token: again.token })).status).toBe(204);
    }
    expect((await call('/api/logout', { method: 'POST', token: again.token })).status).toBe(204);
    // (and the challenges earlier tests left have expired, and the recent activity aged past 90 days)
    await inUserObject('u_guang', 'UPDATE challenges SET expires_at = ?', Date.now() - 1);
    await inUserObject('u_guang', 'UPDATE activity SET at = at - ?', 91 * 86_400_000);
    expect(await runDurableObjectAlarm(userObject('u_guang'))).toBe(true);
    const kept = await runInDurableObject(userObject('u_guang'), (_i, state) => [...state.storage.kv.list()].length);
    expect(kept).toBe(0);
  });
});
