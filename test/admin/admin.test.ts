/**
 * `/api/admin/*`: only the accounts of `ADMIN_USERS`, and only from a session that proved a
 * passkey within the last 10 minutes (a passkey sign-in, or the step-up); only from this server's
 * own pages. An admin finds a user, sees their sessions and activity, signs a session out,
 * disables and enables the account, reads the audit log filtered and paged; each action is an
 * event with the admin as `actor`. Bad input (a non-admin, no recent passkey, another site's
 * page, a search of 10,000 characters, a page past the end) gets a clear answer and changes
 * nothing.
 */
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { storeEvents } from '../../src/activity/audit-log';
import { type ActivityEvent, newEvent } from '../../src/user';
import { newAccount, postSettled, signIn } from '../activity/support';
import { act, api, bearer, createQr } from '../helpers';
import { call as passkeyCall, signInOptions } from '../passkeys/support';
import { inUserObject } from '../sessions/support';
import { adminCall, confirmedAdmin, errorOf, newAdmin, routeAudit } from './support';

const MINUTE = 60_000;

beforeEach(() => {
  routeAudit.length = 0;
});

const isDisabled = async (id: string) =>
  (await env.DB.prepare('SELECT disabled_at FROM users WHERE id = ?').bind(id).first<{ disabled_at: string | null }>())
    ?.disabled_at !== null;

describe('who may use the admin API', () => {
  it('not an admin: 403 in words on every route, and nothing changes', async () => {
    const someone = await newAccount();
    const target = await newAccount();
    const { token } = await signIn(someone);
    for (const [method, path] of [
      ['GET', '/api/admin/me'],
      ['GET', '/api/admin/users?q=a'],
      ['GET', `/api/admin/users/${target.id}`],
      ['POST', `/api/admin/users/${target.id}/disable`],
      ['GET', '/api/admin/audit'],
      ['POST', '/api/admin/step-up/options'],
    ] as const) {
      const res = await adminCall('nobody-at-all', path, { method, token });
      expect(await errorOf(res), path).toEqual({
        status: 403,
        error: 'forbidden',
        message: expect.stringContaining('not an administrator'),
      });
    }
    expect(await isDisabled(target.id)).toBe(false);
  });

  it('not signed in, or a forged token: 401; IDENTITY=jwt: 404', async () => {
    const admin = await newAdmin();
    expect((await adminCall(admin.id, '/api/admin/me')).status).toBe(401);
    expect((await adminCall(admin.id, '/api/admin/me', { token: 'eyJ.eyJ.forged' })).status).toBe(401);
    const jwt = await admin.call('/api/admin/me', { vars: { IDENTITY: 'jwt', IDENTITY_JWT_SECRET: 'x'.repeat(32) } });
    expect(await errorOf(jwt)).toMatchObject({ status: 404, message: expect.stringContaining('IDENTITY=accounts') });
  });

  it('an admin matches by user id or by username in any case', async () => {
    const admin = await newAdmin();
    expect((await adminCall(admin.id, '/api/admin/me', { token: admin.session.token })).status).toBe(200);
    expect(
      (await adminCall(` other, ${admin.username.toUpperCase()} `, '/api/admin/me', { token: admin.session.token }))
        .status,
    ).toBe(200);
  });

  it('an admin without a passkey of the last 10 minutes is asked for one; the step-up opens the API for 10 minutes', async () => {
    const admin = await newAdmin();
    const me = (await (await admin.call('/api/admin/me')).json()) as Record<string, unknown>;
    expect(me).toMatchObject({ user: { id: admin.id }, passkey_at: null, passkey_until: null });
    expect(await errorOf(await admin.call('/api/admin/users'))).toMatchObject({
      status: 403,
      error: 'step_up_required',
      message: expect.stringContaining('passkey'),
    });

    const stepped = await admin.stepUp();
    expect(stepped.status).toBe(200);
    const { passkey_until } = (await stepped.json()) as { passkey_until: string };
    expect(Date.parse(passkey_until) - Date.now()).toBeGreaterThan(9 * MINUTE);
    expect((await admin.call('/api/admin/users')).status).toBe(200);
    // The step-up is an event of the admin's own.
    const own = (await (
      await api('/api/activity', { headers: bearer(admin.session.token) })
    ).json()) as ActivityEvent[];
    expect(own[0]).toMatchObject({ kind: 'admin_step_up', sid: admin.session.sid });

    // Eleven minutes later the passkey is asked for again.
    await inUserObject(admin.id, 'UPDATE sessions SET passkey_at = passkey_at - ?', 11 * MINUTE);
    expect((await errorOf(await admin.call('/api/admin/users'))).error).toBe('step_up_required');
    expect((await (await admin.call('/api/admin/me')).json()) as Record<string, unknown>).toMatchObject({
      passkey_until: null,
    });
  });

  it('a passkey sign-in counts as the passkey for 10 minutes', async () => {
    const admin = await newAdmin();
    const res = await passkeyCall('/api/passkeys/login', {
      method: 'POST',
      body: await admin.passkey.assert(await signInOptions()),
    });
    const { token } = (await res.json()) as { token: string };
    expect((await adminCall(admin.id, '/api/admin/users', { token })).status).toBe(200);
    const sid = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))).sid as string;
    await inUserObject(admin.id, 'UPDATE sessions SET created_at = created_at - ? WHERE sid = ?', 11 * MINUTE, sid);
    expect((await errorOf(await adminCall(admin.id, '/api/admin/users', { token }))).error).toBe('step_up_required');
  });

  it('a wrong step-up is refused in words, recorded, and opens nothing', async () => {
    const admin = await newAdmin();
    // An assertion of another challenge (a sign-in's).
    const wrong = await admin.call('/api/admin/step-up', {
      method: 'POST',
      body: { passkey: await admin.passkey.assert(await signInOptions()) },
    });
    expect(await errorOf(wrong)).toMatchObject({ status: 403, error: 'step_up_failed', message: expect.any(String) });
    expect((await errorOf(await admin.call('/api/admin/users'))).error).toBe('step_up_required');
    const own = (await (
      await api('/api/activity', { headers: bearer(admin.session.token) })
    ).json()) as ActivityEvent[];
    expect(own[0]).toMatchObject({ kind: 'step_up_refused', detail: { for: 'admin' } });
    expect(
      await errorOf(await admin.call('/api/admin/step-up', { method: 'POST', body: { passkey: 'no' } })),
    ).toMatchObject({
      status: 400,
      error: 'invalid_request',
    });
  });

  it('a page of another origin (even an allowed one) or another site: 403, and nothing changes', async () => {
    const admin = await confirmedAdmin();
    const target = await newAccount();
    const vars = { ALLOWED_ORIGINS: 'https://shop.example' };
    const foreign: Record<string, string>[] = [
      { Origin: 'https://evil.example' },
      { Origin: 'https://shop.example' },
      { Origin: 'null' },
      { 'Sec-Fetch-Site': 'cross-site' },
      { 'Sec-Fetch-Site': 'same-site' },
    ];
    for (const headers of foreign) {
      for (const method of ['GET', 'POST'] as const) {
        const path = method === 'GET' ? '/api/admin/users' : `/api/admin/users/${target.id}/disable`;
        const res = await admin.call(path, { method, headers, vars });
        expect(await errorOf(res), JSON.stringify(headers)).toMatchObject({ status: 403, error: 'forbidden' });
      }
    }
    expect(await isDisabled(target.id)).toBe(false);
    // The server's own page (and a CLI, with neither header) may.
    expect((await admin.call('/api/admin/users', { headers: { Origin: 'https://login.example' } })).status).toBe(200);
    expect((await admin.call('/api/admin/users', { headers: { 'Sec-Fetch-Site': 'same-origin' } })).status).toBe(200);
  });
});

describe('finding a user', () => {
  it('by the beginning of the username in any case, or by id, 20 a page; past the end an empty page', async () => {
    const admin = await confirmedAdmin();
    const prefix = `find${crypto.randomUUID().slice(0, 6)}`;
    const made = [];
    for (let i = 0; i < 23; i++) made.push(await newAccount(prefix));
    const first = (await (await admin.call(`/api/admin/users?q=${prefix.toUpperCase()}`)).json()) as {
      users: { id: string; username: string }[];
      next: string | null;
    };
    expect(first.users).toHaveLength(20);
    expect(first.next).toBe(first.users[19]!.username);
    const second = (await (
      await admin.call(`/api/admin/users?q=${prefix}&after=${first.next}`)
    ).json()) as typeof first;
    expect(second.users).toHaveLength(3);
    expect(second.next).toBeNull();
    expect(new Set([...first.users, ...second.users].map((u) => u.id))).toEqual(new Set(made.map((m) => m.id)));
    const past = (await (await admin.call(`/api/admin/users?q=${prefix}&after=${prefix}zzzz`)).json()) as typeof first;
    expect(past).toEqual({ users: [], next: null });
    const byId = (await (await admin.call(`/api/admin/users?q=${made[4]!.id}`)).json()) as typeof first;
    expect(byId.users.map((u) => u.id)).toEqual([made[4]!.id]);
    // A % or _ is a letter here, not a wildcard.
    expect(((await (await admin.call('/api/admin/users?q=%25')).json()) as typeof first).users).toEqual([]);
    // Each search is in the audit log, the admin as who did it.
    expect(routeAudit.flatMap((m) => m.audit).filter((e) => e.kind === 'admin_search')[0]).toMatchObject({
      user: { id: admin.id },
      detail: { q: prefix.toUpperCase() },
    });
  });

  it('a search of 10,000 characters, or with control characters: 400 in words', async () => {
    const admin = await confirmedAdmin();
    expect(await errorOf(await admin.call(`/api/admin/users?q=${'a'.repeat(10_000)}`))).toEqual({
      status: 400,
      error: 'invalid_request',
      message: '`q` is longer than 64 characters.',
    });
    expect((await errorOf(await admin.call('/api/admin/users?q=a%00b'))).message).toContain('control characters');
    expect(routeAudit).toEqual([]);
  });

  it('rides the index on username: no scan of the accounts', async () => {
    const plan = await env.DB.prepare(
      "EXPLAIN QUERY PLAN SELECT id FROM users WHERE username LIKE ? ESCAPE '\\' AND username > ? ORDER BY username LIMIT 21",
    )
      .bind('ab%', '')
      .all<{ detail: string }>();
    expect(plan.results.map((r) => r.detail).join(' | ')).toMatch(/SEARCH users USING (COVERING )?INDEX/);
  });
});

describe('acting on a user', () => {
  it('shows their sessions and recent activity; an unknown id is 404', async () => {
    const admin = await confirmedAdmin();
    const target = await newAccount();
    const phone = await signIn(target, '192.0.2.44');
    const res = await admin.call(`/api/admin/users/${target.id}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      user: Record<string, unknown>;
      sessions: { sid: string; ip: string }[];
      activity: ActivityEvent[];
    };
    expect(body.user).toMatchObject({ id: target.id, username: target.username, disabled_at: null });
    expect(body.sessions).toEqual([expect.objectContaining({ sid: phone.sid, ip: '192.0.2.44', current: false })]);
    expect(body.activity[0]).toMatchObject({ kind: 'sign_in', sid: phone.sid, ip: '192.0.2.44' });
    expect(routeAudit.flatMap((m) => m.audit)).toEqual([
      expect.objectContaining({
        kind: 'admin_view',
        user: { id: target.id, username: target.username },
        actor: { id: admin.id, username: admin.username },
      }),
    ]);
    expect(await errorOf(await admin.call('/api/admin/users/u_no-such-user'))).toMatchObject({
      status: 404,
      error: 'not_found',
    });
  });

  it('signs one session out: its token is refused at once, the event names the admin', async () => {
    const admin = await confirmedAdmin();
    const target = await newAccount();
    const phone = await signIn(target);
    const other = await signIn(target);
    const res = await admin.call(`/api/admin/users/${target.id}/sessions/${phone.sid}`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect((await api('/api/me', { headers: bearer(phone.token) })).status).toBe(401);
    expect((await api('/api/me', { headers: bearer(other.token) })).status).toBe(200);
    // The operator sees who did it; the user, that an administrator did.
    const seen = (await (await admin.call(`/api/admin/users/${target.id}`)).json()) as { activity: ActivityEvent[] };
    expect(seen.activity[0]).toMatchObject({
      kind: 'sign_out',
      sid: phone.sid,
      actor: { id: admin.id, username: admin.username },
      detail: { by: 'admin' },
    });
    const own = (await (await api('/api/activity', { headers: bearer(other.token) })).json()) as ActivityEvent[];
    expect(own[0]).toEqual({ ...seen.activity[0], actor: undefined });
    expect(own[0]).not.toHaveProperty('actor');
    const again = await admin.call(`/api/admin/users/${target.id}/sessions/${phone.sid}`, { method: 'DELETE' });
    expect(await errorOf(again)).toMatchObject({ status: 404, message: expect.stringContaining('no such session') });
    // Another user's session through this user's id: not found, and it stays.
    const stranger = await signIn(await newAccount());
    expect(
      (await admin.call(`/api/admin/users/${target.id}/sessions/${stranger.sid}`, { method: 'DELETE' })).status,
    ).toBe(404);
    expect((await api('/api/me', { headers: bearer(stranger.token) })).status).toBe(200);
  });

  it('disables an account: every session ends at once, its phone approves nothing, it cannot sign in; enabling lets it back', async () => {
    const admin = await confirmedAdmin();
    const target = await newAccount();
    const phone = await signIn(target);
    const pcQr = await createQr();
    expect((await act(pcQr, 'scan', phone.token)).status).toBe(200);

    const res = await admin.call(`/api/admin/users/${target.id}/disable`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      user: { id: target.id, disabled_at: expect.any(String) },
      changed: true,
      sessions_ended: 1,
    });
    expect((await act(pcQr, 'confirm', phone.token)).status).toBe(401);
    expect((await api('/api/me', { headers: bearer(phone.token) })).status).toBe(401);
    const refused = await postSettled('/api/login', { username: target.username, password: target.password });
    expect(refused.status).toBe(401);
    // Again: nothing changes, and it says so.
    expect(await (await admin.call(`/api/admin/users/${target.id}/disable`, { method: 'POST' })).json()).toMatchObject({
      changed: false,
      sessions_ended: 0,
    });
    // An admin cannot disable themselves.
    expect(await errorOf(await admin.call(`/api/admin/users/${admin.id}/disable`, { method: 'POST' }))).toMatchObject({
      status: 403,
      message: expect.stringContaining('your own account'),
    });
    expect(await isDisabled(admin.id)).toBe(false);

    const enabled = await admin.call(`/api/admin/users/${target.id}/enable`, { method: 'POST' });
    expect(await enabled.json()).toMatchObject({ user: { disabled_at: null }, changed: true });
    const back = await signIn(target, '198.51.100.99');
    const seen = (await (await admin.call(`/api/admin/users/${target.id}`)).json()) as { activity: ActivityEvent[] };
    const actor = { id: admin.id, username: admin.username };
    expect(seen.activity.slice(0, 5)).toEqual([
      expect.objectContaining({ kind: 'sign_in' }),
      expect.objectContaining({ kind: 'account_enabled', actor }),
      expect.objectContaining({ kind: 'sign_in_refused', detail: { reason: 'disabled' } }),
      expect.objectContaining({ kind: 'sign_out', sid: phone.sid, actor, detail: { by: 'disabled' } }),
      expect.objectContaining({ kind: 'account_disabled', actor, ip: expect.any(String), device: expect.any(String) }),
    ]);
    // The user reads that an administrator acted: not which one, nor the admin's device, IP or place.
    const own = (await (await api('/api/activity', { headers: bearer(back.token) })).json()) as ActivityEvent[];
    expect(own.map((e) => e.kind).slice(0, 5)).toEqual(seen.activity.slice(0, 5).map((e) => e.kind));
    expect(own.some((e) => 'actor' in e)).toBe(false);
    for (const e of own.filter((e) => e.kind === 'account_disabled' || e.kind === 'account_enabled')) {
      expect(Object.keys(e).sort()).toEqual(['at', 'id', 'kind', 'user']);
    }
    expect(own.find((e) => e.kind === 'sign_out')).toMatchObject({ sid: phone.sid, detail: { by: 'disabled' } });
    expect((await admin.call('/api/admin/users/u_nobody/enable', { method: 'POST' })).status).toBe(404);
  });
});

describe('the audit log', () => {
  const day = 86_400_000;
  async function seed(username: string) {
    const user = { id: `u_${username}`, username };
    const events = [
      newEvent(user, { kind: 'sign_in', ip: '192.0.2.1', detail: { via: 'password' } }, Date.now() - 3 * day),
      newEvent(
        user,
        { kind: 'sign_in_refused', ip: '192.0.2.2', detail: { reason: 'password' } },
        Date.now() - 2 * day,
      ),
      newEvent(user, { kind: 'sign_out', sid: 's', detail: { by: 'self' } }, Date.now() - day),
    ];
    await storeEvents(env, events);
    return events;
  }

  it('filters by user, kind and time, pages by a cursor; past the end an empty page', async () => {
    const admin = await confirmedAdmin();
    const username = `logged${crypto.randomUUID().slice(0, 6)}`;
    const events = await seed(username);
    const read = async (query: string) => {
      const res = await admin.call(`/api/admin/audit?${query}`);
      expect(res.status, await res.clone().text()).toBe(200);
      return (await res.json()) as { events: ActivityEvent[]; next: string | null };
    };
    const all = await read(`user=${username.toUpperCase()}`);
    expect(all.events.map((e) => e.id)).toEqual([events[2]!.id, events[1]!.id, events[0]!.id]);
    expect(all.next).toBeNull();
    expect((await read(`user=${username}&kind=sign_in_refused`)).events).toEqual([events[1]]);
    const since = new Date(Date.now() - 2.5 * day).toISOString();
    expect((await read(`user=${username}&since=${since}`)).events.map((e) => e.kind)).toEqual([
      'sign_out',
      'sign_in_refused',
    ]);
    // The admin's reading is itself in the log.
    expect(routeAudit.flatMap((m) => m.audit).at(-1)).toMatchObject({
      kind: 'admin_audit',
      user: { id: admin.id },
      detail: { user: username, since },
    });

    const page = await read(`user=${username}&cursor=${encodeURIComponent(`${events[2]!.at}~${events[2]!.id}`)}`);
    expect(page.events.map((e) => e.id)).toEqual([events[1]!.id, events[0]!.id]);
    const past = await read(`user=${username}&cursor=${encodeURIComponent(`${events[0]!.at}~${events[0]!.id}`)}`);
    expect(past).toEqual({ events: [], next: null });
  });

  it('refuses a malformed filter in words: a long user, an unknown kind, a bad time, a forged cursor', async () => {
    const admin = await confirmedAdmin();
    const cases: [string, string][] = [
      [`user=${'x'.repeat(10_000)}`, 'longer than 64'],
      ['kind=everything', '`kind` must be one of'],
      ['since=yesterday', '`since` must be an ISO 8601'],
      ['since=2026-13-45', 'not a real date'],
      ['cursor=anything', 'not one this log gave'],
    ];
    for (const [query, words] of cases) {
      expect(await errorOf(await admin.call(`/api/admin/audit?${query}`)), query).toMatchObject({
        status: 400,
        error: 'invalid_request',
        message: expect.stringContaining(words),
      });
    }
  });
});
