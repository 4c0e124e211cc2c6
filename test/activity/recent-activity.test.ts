/**
 * A user's recent activity (`GET /api/activity`): what happened to the account, in the user's own
 * object, newest first. Each event is written by the place that decides it, in the same step, and
 * handed once, with the same id, to the audit queue: sign-ins (how, where from), refused
 * passwords, passkeys and step-ups, sessions signed out and by whom, a reused refresh token,
 * passkeys added and removed. A user reads only their own; no event holds a token or a secret;
 * the object keeps at most 100 events and 90 days, and a stranger's refused attempts cannot push
 * the user's own sign-ins out.
 */
import { runDurableObjectAlarm } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { RequestOptions } from '../../src/passkeys';
import { act, api, bearer, createQr, ORIGIN, PC_UA, postJson, status, userCodeOf } from '../helpers';
import { addPasskey, call, signInOptions } from '../passkeys/support';
import { ageActivity, ageRotations, inUserObject, refresh, userObject } from '../sessions/support';
import { activityOf, auditSent, newAccount, PHONE_UA, postSettled, settled, signIn } from './support';

/** A phone's step on a QR as a `Request` (for `settled`, with other bindings). */
const phoneStep = (id: string, step: 'scan' | 'confirm', token: string, body?: unknown) =>
  new Request(`${ORIGIN}/api/qrcodes/${id}/${step}`, {
    method: 'POST',
    headers: { ...bearer(token), 'Content-Type': 'application/json', 'User-Agent': PHONE_UA },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

const DAY = 86_400_000;

/** A QR login of a PC (Windows Chrome, from `ip`) approved by `phoneToken`: the PC's token. */
async function pcSignIn(phoneToken: string, ip = '203.0.113.50', typed = false): Promise<string> {
  const qr = await createQr({ 'User-Agent': PC_UA, 'CF-Connecting-IP': ip });
  if (typed) {
    const code = await userCodeOf(qr);
    expect((await postJson('/api/codes/resolve', { user_code: code }, bearer(phoneToken))).status).toBe(200);
  }
  await act(qr, 'scan', phoneToken);
  await act(qr, 'confirm', phoneToken);
  return ((await (await status(qr)).json()) as { token: string }).token;
}

const sidOf = (token: string) =>
  JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))).sid as string;

describe('recent activity', () => {
  it('lists sign-ins with how and where from, newest first, each also handed to the audit queue once', async () => {
    const account = await newAccount();
    const phone = await signIn(account, '198.51.100.7');
    const sent = await auditSent(account.id);
    const pc = await pcSignIn(phone.token, '203.0.113.50');
    const typedPc = await pcSignIn(phone.token, '203.0.113.51', true);

    const { status: code, body } = await activityOf(phone.token);
    expect(code).toBe(200);
    expect(body.map((e) => [e.kind, e.detail?.via])).toEqual([
      ['sign_in', 'code'],
      ['sign_in', 'qrcode'],
      ['sign_in', 'password'],
    ]);
    expect(body[0]).toMatchObject({
      kind: 'sign_in',
      user: { id: account.id, username: account.username },
      sid: sidOf(typedPc),
      device: PC_UA,
      ip: '203.0.113.51',
    });
    expect(body[1]).toMatchObject({ sid: sidOf(pc), ip: '203.0.113.50', device: PC_UA });
    expect(body[2]).toMatchObject({ sid: phone.sid, ip: '198.51.100.7', device: PHONE_UA });
    for (const event of body) {
      expect(event.id).toMatch(/^evt_[A-Za-z0-9_-]{22}$/);
      expect(Date.parse(event.at)).toBeGreaterThan(Date.now() - 60_000);
    }
    // The same events, with the same ids, went to the audit queue: one message per verb.
    expect(sent.flatMap((m) => m.audit)).toEqual([body[1], body[0]]);
  });

  it('says who signed a session out: itself, another device, the device that approved it', async () => {
    const account = await newAccount();
    const phone = await signIn(account);
    const pc = await pcSignIn(phone.token);
    const other = await pcSignIn(phone.token);
    // The PC signs itself out; the phone signs the other PC out.
    expect((await api('/api/logout', { method: 'POST', headers: bearer(pc) })).status).toBe(204);
    expect(
      (await api(`/api/sessions/${sidOf(other)}`, { method: 'DELETE', headers: bearer(phone.token) })).status,
    ).toBe(204);
    const { body } = await activityOf(phone.token);
    const signOuts = body.filter((e) => e.kind === 'sign_out');
    expect(signOuts).toEqual([
      expect.objectContaining({ sid: sidOf(other), device: PC_UA, detail: { by: 'device', by_device: PHONE_UA } }),
      expect.objectContaining({ sid: sidOf(pc), device: PC_UA, detail: { by: 'self' } }),
    ]);

    // A second phone session approves a PC; signing that phone out ends the PC with it.
    const second = await signIn(account);
    const approved = await pcSignIn(second.token);
    expect((await api(`/api/sessions/${second.sid}`, { method: 'DELETE', headers: bearer(phone.token) })).status).toBe(
      204,
    );
    const after = (await activityOf(phone.token)).body.filter((e) => e.kind === 'sign_out').slice(0, 2);
    expect(after.map((e) => [e.sid, e.detail?.by])).toEqual(
      expect.arrayContaining([
        [second.sid, 'device'],
        [sidOf(approved), 'approver'],
      ]),
    );
  });

  it('records a reused refresh token with where it came from, and the sessions it ended', async () => {
    const account = await newAccount();
    const phone = await signIn(account);
    const pc = await signIn(account, '198.51.100.20', PC_UA);
    const first = (await (await refresh(pc.refresh_token)).json()) as { refresh_token: string };
    expect(first.refresh_token).toBeTruthy();
    await ageRotations(account.id, 11_000);
    // The stolen copy of the first token comes back from elsewhere.
    const reused = await postSettledForm(pc.refresh_token, '192.0.2.66');
    expect(reused.status).toBe(400);
    const { body } = await activityOf(phone.token);
    expect(body.slice(0, 2)).toEqual([
      expect.objectContaining({ kind: 'sign_out', sid: pc.sid, detail: { by: 'reuse' } }),
      expect.objectContaining({
        kind: 'refresh_token_reused',
        sid: pc.sid,
        ip: '192.0.2.66',
        detail: { session_device: PC_UA },
      }),
    ]);
  });

  it('records wrong passwords of an existing account (after the answer), and nothing for an unknown one', async () => {
    const account = await newAccount();
    const headers = { 'CF-Connecting-IP': '192.0.2.10', 'User-Agent': 'guesser/1.0' };
    const wrong = await postSettled('/api/login', { username: account.username, password: 'nope' }, headers);
    expect(wrong.status).toBe(401);
    const unknown = await postSettled('/api/login', { username: 'nobody-here', password: 'nope' }, headers);
    expect(unknown.status).toBe(401);
    // Both answers are the same to the client.
    expect(await wrong.json()).toEqual(await unknown.json());
    const phone = await signIn(account);
    const { body } = await activityOf(phone.token);
    expect(body.map((e) => e.kind)).toEqual(['sign_in', 'sign_in_refused']);
    expect(body[1]).toMatchObject({ ip: '192.0.2.10', device: 'guesser/1.0', detail: { reason: 'password' } });
    expect(await userObject('u_nobody-here').activity()).toEqual([]);
  });

  it('records passkeys added and removed, a refused step-up and a refused passkey sign-in', async () => {
    const account = await newAccount();
    const phone = await signIn(account);
    const passkey = await addPasskey(phone.token, { name: 'Work phone' });
    // The confirm of a QR asks for a passkey (CONFIRM_WITH=passkey); it is answered with the
    // challenge of another QR: refused (403), and recorded after the answer.
    const passkeyVars = { ...env, CONFIRM_WITH: 'passkey' };
    const other = await createQr();
    const otherScan = await settled(phoneStep(other.qrcode_id, 'scan', phone.token), passkeyVars);
    const { step_up } = (await otherScan.json()) as { step_up: RequestOptions };
    const qr = await createQr();
    await settled(phoneStep(qr.qrcode_id, 'scan', phone.token), passkeyVars);
    const wrong = await settled(
      phoneStep(qr.qrcode_id, 'confirm', phone.token, { passkey: await passkey.assert(step_up) }),
      passkeyVars,
    );
    expect(wrong.status).toBe(403);

    // A passkey sign-in whose challenge was never issued.
    const forged = await passkey.assert({ ...(await signInOptions()), challenge: 'A'.repeat(43) });
    const res = await postSettled('/api/passkeys/login', forged, { 'CF-Connecting-IP': '192.0.2.77' });
    expect(res.status).toBe(401);

    const list = await call('/api/passkeys', { token: phone.token });
    const [{ id }] = (await list.json()) as [{ id: string }];
    expect((await call(`/api/passkeys/${id}`, { method: 'DELETE', token: phone.token })).status).toBe(204);

    const { body } = await activityOf(phone.token);
    expect(body.map((e) => e.kind)).toEqual([
      'passkey_removed',
      'sign_in_refused',
      'step_up_refused',
      'passkey_added',
      'sign_in',
    ]);
    expect(body[0]).toMatchObject({ sid: phone.sid, detail: { name: 'Work phone' } });
    expect(body[1]).toMatchObject({ ip: '192.0.2.77', detail: { reason: 'passkey' } });
    expect(body[2]).toMatchObject({ device: PHONE_UA, detail: { for: 'login', why: expect.any(String) } });
    expect(body[3]).toMatchObject({
      sid: phone.sid,
      device: expect.stringContaining('Android'),
      detail: { name: 'Work phone' },
    });
  });

  it('is the signed-in user’s own: another user’s events never show, and no token is no answer', async () => {
    const mine = await newAccount();
    const theirs = await newAccount();
    const me = await signIn(mine);
    const them = await signIn(theirs);
    const { body } = await activityOf(me.token);
    expect(body.every((e) => e.user.id === mine.id)).toBe(true);
    expect(body.some((e) => e.sid === them.sid)).toBe(false);
    expect((await api('/api/activity')).status).toBe(401);
    expect((await api('/api/activity', { headers: bearer('not.a.token') })).status).toBe(401);
  });

  it('never holds a token, a refresh token, a password or a poll token', async () => {
    const account = await newAccount();
    const phone = await signIn(account);
    const qr = await createQr();
    await act(qr, 'scan', phone.token);
    await act(qr, 'confirm', phone.token);
    const pc = (await (await status(qr)).json()) as { token: string; refresh_token: string };
    await postSettled('/api/login', { username: account.username, password: 'a-wrong-secret-password' });
    await api('/api/logout', { method: 'POST', headers: bearer(pc.token) });
    const text = JSON.stringify((await activityOf(phone.token)).body);
    for (const secret of [
      phone.token,
      phone.refresh_token,
      pc.token,
      pc.refresh_token,
      qr.poll_token,
      account.password,
      'a-wrong-secret-password',
    ]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe('what the object keeps', () => {
  it('at most 100 events, of which at most 50 refused: a stranger’s guesses never push the sign-ins out', async () => {
    const account = await newAccount();
    const first = await signIn(account);
    const stub = userObject(account.id);
    const who = { id: account.id, username: account.username };
    for (let i = 0; i < 120; i++)
      await stub.note(who, { kind: 'sign_in_refused', ip: `192.0.2.${i}`, detail: { reason: 'password' } });
    const { body } = await activityOf(first.token);
    expect(body).toHaveLength(51);
    expect(body.at(-1)).toMatchObject({ kind: 'sign_in', sid: first.sid });
    expect(body[0]).toMatchObject({ ip: '192.0.2.119' });

    for (let i = 0; i < 60; i++) await stub.note(who, { kind: 'passkey_added', detail: { name: `key ${i}` } });
    const capped = (await activityOf(first.token)).body;
    expect(capped).toHaveLength(100);
    expect(capped[0]).toMatchObject({ kind: 'passkey_added', detail: { name: 'key 59' } });
    const stored = await inUserObject<{ n: number }>(account.id, 'SELECT COUNT(*) AS n FROM activity');
    expect(stored[0]!.n).toBe(100);
  });

  it('at most 90 days: an older event is never shown, and the alarm forgets it', async () => {
    const account = await newAccount();
    const phone = await signIn(account);
    await ageActivity(account.id, 90 * DAY + 1000);
    expect((await activityOf(phone.token)).body).toEqual([]);
    expect(await runDurableObjectAlarm(userObject(account.id))).toBe(true);
    expect(await inUserObject(account.id, 'SELECT * FROM activity')).toEqual([]);
    // The session itself is alive: only the event aged out.
    expect((await api('/api/me', { headers: bearer(phone.token) })).status).toBe(200);
  });
});

/** The refresh grant with `token`, from `ip`, its background work awaited. */
function postSettledForm(token: string, ip: string) {
  return settled(
    new Request(`${ORIGIN}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'CF-Connecting-IP': ip },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString(),
    }),
  );
}
