/**
 * Bad requests of every kind, as one table: each answers its documented status and error,
 * none answers 500, and none with a bad QR id wakes (or creates) a login's object.
 */
import { listDurableObjectIds } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { expect, it } from 'vitest';
import { act, api, bearer, createQr, errorOf, freshIp, login, postJson, status } from '../helpers';

interface Row {
  name: string;
  send: () => Promise<Response>;
  status: number;
  error?: string;
  /** The id is bad: no login's object may be created for it. */
  badId?: boolean;
  allow?: string;
}

const loginWith = (body: unknown, headers: Record<string, string> = {}) =>
  postJson('/api/login', body, { 'CF-Connecting-IP': freshIp(), ...headers });

it('answers every bad request with its documented error, never 500, and wakes no object for a bad id', async () => {
  const { token } = await login('dong', '111');
  const qr = await createQr();
  const poll = (query: string) => status(qr, query);
  const resolve = (body: unknown) => postJson('/api/codes/resolve', body, bearer(token));
  const confirmRaw = (body: string) =>
    api(`/api/qrcodes/${qr.qrcode_id}/confirm`, {
      method: 'POST',
      headers: { ...bearer(token), 'Content-Type': 'application/json' },
      body,
    });
  const big = 'a'.repeat(9 * 1024);

  const badIds: [string, string][] = [
    ['too short', qr.qrcode_id.slice(0, 62)],
    ['too long', `${qr.qrcode_id}00`],
    ['uppercase', qr.qrcode_id.toUpperCase()],
    ['not hex', 'g'.repeat(64)],
    ['forged hex', 'a'.repeat(64)],
    ['of another namespace', env.USER_CODE.newUniqueId().toString()],
    ['with a path trick', `..%2F${qr.qrcode_id.slice(5)}`],
    ['of 64 non-ASCII letters', encodeURIComponent('é'.repeat(64))],
    ['with a NUL', `${qr.qrcode_id.slice(0, 63)}%00`],
  ];
  const other = await createQr();
  // A body of 9 KB that arrives in pieces, with no Content-Length to refuse it by; `endless`
  // never closes it, as a client that keeps sending would (answered at 8 KB, not at its end).
  const streamed = (path: string, headers: Record<string, string>, endless = false) =>
    api(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: new ReadableStream({
        start(controller) {
          const chunk = new TextEncoder().encode(`{"pad":"${'a'.repeat(1024)}`);
          for (let i = 0; i < 9; i++) controller.enqueue(chunk);
          if (!endless) controller.close();
        },
      }),
    });

  const rows: Row[] = [
    // /api/login: types, missing fields, JSON, arrays, lengths
    { name: 'login: invalid JSON', send: () => loginWith('{"username":'), status: 400, error: 'invalid_request' },
    { name: 'login: array body', send: () => loginWith('[]'), status: 400, error: 'invalid_request' },
    { name: 'login: null body', send: () => loginWith('null'), status: 400, error: 'invalid_request' },
    { name: 'login: string body', send: () => loginWith('"dong"'), status: 400, error: 'invalid_request' },
    { name: 'login: empty body', send: () => loginWith(''), status: 400, error: 'invalid_request' },
    {
      name: 'login: number username',
      send: () => loginWith({ username: 1, password: '111' }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'login: array username',
      send: () => loginWith({ username: ['dong'], password: '111' }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'login: object password',
      send: () => loginWith({ username: 'dong', password: { a: 1 } }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'login: boolean username',
      send: () => loginWith({ username: true, password: '111' }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'login: null password',
      send: () => loginWith({ username: 'dong', password: null }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'login: body over 8 KB in pieces, no Content-Length',
      send: () => streamed('/api/login', { 'CF-Connecting-IP': freshIp() }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'login: body that never ends, past 8 KB',
      send: () => streamed('/api/login', { 'CF-Connecting-IP': freshIp() }, true),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'login: missing password',
      send: () => loginWith({ username: 'dong' }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'login: missing username',
      send: () => loginWith({ password: '111' }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'login: empty username',
      send: () => loginWith({ username: '', password: '111' }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'login: 65-char username',
      send: () => loginWith({ username: 'd'.repeat(65), password: '111' }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'login: 257-char password',
      send: () => loginWith({ username: 'dong', password: 'p'.repeat(257) }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'login: body over 8 KB',
      send: () => loginWith({ username: 'dong', password: '111', pad: big }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'login: header over 8 KB',
      send: () => loginWith({ username: 'dong', password: '111' }, { 'X-Pad': big }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'login: NUL in username',
      send: () => loginWith({ username: 'do\u0000ng', password: '111' }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'login: newline in username',
      send: () => loginWith({ username: 'dong\n', password: '111' }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'login: DEL in username',
      send: () => loginWith({ username: 'dong\u007f', password: '111' }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'login: C1 control in username',
      send: () => loginWith({ username: 'dong\u0085', password: '111' }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'login: line separator in username',
      send: () => loginWith({ username: 'do\u2028ng', password: '111' }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'login: 64-char username (the longest allowed)',
      send: () => loginWith({ username: 'd'.repeat(64), password: '111' }),
      status: 401,
      error: 'invalid_credentials',
    },
    {
      name: 'login: right-to-left override in username',
      send: () => loginWith({ username: '\u202egnod', password: '111' }),
      status: 401,
      error: 'invalid_credentials',
    },
    {
      name: 'login: unknown Chinese username',
      send: () => loginWith({ username: '东东', password: '111' }),
      status: 401,
      error: 'invalid_credentials',
    },
    {
      name: 'login: fullwidth username',
      send: () => loginWith({ username: 'ｄｏｎｇ', password: '111' }),
      status: 401,
      error: 'invalid_credentials',
    },
    {
      name: 'login: emoji username',
      send: () => loginWith({ username: '🐉dong', password: '111' }),
      status: 401,
      error: 'invalid_credentials',
    },
    {
      name: 'login: combining-mark username',
      send: () => loginWith({ username: 'do\u0301ng', password: '111' }),
      status: 401,
      error: 'invalid_credentials',
    },
    // /api/codes/resolve
    { name: 'resolve: invalid JSON', send: () => resolve('{'), status: 400, error: 'invalid_request' },
    { name: 'resolve: array body', send: () => resolve('["BCDF-GHJK"]'), status: 400, error: 'invalid_request' },
    {
      name: 'resolve: number code',
      send: () => resolve({ user_code: 12345678 }),
      status: 400,
      error: 'invalid_request',
    },
    { name: 'resolve: missing code', send: () => resolve({}), status: 400, error: 'invalid_request' },
    { name: 'resolve: null code', send: () => resolve({ user_code: null }), status: 400, error: 'invalid_request' },
    {
      name: 'resolve: 33-char code',
      send: () => resolve({ user_code: 'B'.repeat(33) }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'resolve: body over 8 KB',
      send: () => resolve({ user_code: 'BCDF-GHJK', pad: big }),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'resolve: no token',
      send: () => postJson('/api/codes/resolve', { user_code: 'BCDF-GHJK' }),
      status: 401,
      error: 'unauthorized',
    },
    // confirm's body
    { name: 'confirm: invalid JSON', send: () => confirmRaw('{'), status: 400, error: 'invalid_request' },
    { name: 'confirm: array body', send: () => confirmRaw('[1]'), status: 400, error: 'invalid_request' },
    {
      name: 'confirm: number match_code',
      send: () => confirmRaw('{"match_code":47}'),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'confirm: one-digit match_code',
      send: () => confirmRaw('{"match_code":"4"}'),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'confirm: body over 8 KB',
      send: () => confirmRaw(JSON.stringify({ pad: big })),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'confirm: body over 8 KB in pieces, no Content-Length',
      send: () => streamed(`/api/qrcodes/${qr.qrcode_id}/confirm`, bearer(token)),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'resolve: body that never ends, past 8 KB',
      send: () => streamed('/api/codes/resolve', bearer(token), true),
      status: 400,
      error: 'invalid_request',
    },
    {
      name: 'Authorization header of 5 KB',
      send: () => api('/api/me', { headers: { Authorization: `Bearer ${token}.${'a'.repeat(5000)}` } }),
      status: 401,
      error: 'unauthorized',
    },
    // after / wait
    { name: 'after negative', send: () => poll('?after=-1'), status: 400, error: 'invalid_request' },
    { name: 'after 1e400', send: () => poll('?after=1e400'), status: 400, error: 'invalid_request' },
    { name: 'after 16 digits', send: () => poll('?after=1234567890123456'), status: 400, error: 'invalid_request' },
    { name: 'after fractional', send: () => poll('?after=0.5'), status: 400, error: 'invalid_request' },
    { name: 'after not a number', send: () => poll('?after=abc'), status: 400, error: 'invalid_request' },
    { name: 'after empty', send: () => poll('?after='), status: 400, error: 'invalid_request' },
    { name: 'after hex', send: () => poll('?after=0x10'), status: 400, error: 'invalid_request' },
    { name: 'wait negative', send: () => poll('?wait=-1'), status: 400, error: 'invalid_request' },
    { name: 'wait not a number', send: () => poll('?wait=soon'), status: 400, error: 'invalid_request' },
    { name: 'wait Infinity', send: () => poll('?wait=Infinity'), status: 400, error: 'invalid_request' },
    { name: 'wait exponent', send: () => poll('?wait=1e3'), status: 400, error: 'invalid_request' },
    // More than 15 digits is refused; 15 digits or fewer is "over 30", treated as 30.
    { name: 'wait 20 digits', send: () => poll('?wait=99999999999999999999'), status: 400, error: 'invalid_request' },
    { name: 'wait 15 digits (capped at 30)', send: () => poll('?wait=999999999999999'), status: 200 },
    { name: 'wait fractional', send: () => poll('?wait=0.5'), status: 200 },
    // The largest `after` allowed is well-formed: with nothing to wait for, the current state.
    { name: 'after 15 digits, wait 0', send: () => poll('?after=999999999999999&wait=0'), status: 200 },
    { name: 'poll token missing', send: () => status(qr, '', ''), status: 401, error: 'unauthorized' },
    { name: 'poll token of another length', send: () => status(qr, '', 'abc'), status: 401, error: 'unauthorized' },
    {
      name: 'poll token of another QR',
      send: () => status(qr, '', other.poll_token),
      status: 401,
      error: 'unauthorized',
    },
    {
      name: 'poll token in the URL instead of the header',
      send: () => api(`/api/qrcodes/${qr.qrcode_id}/status?poll_token=${qr.poll_token}`),
      status: 401,
      error: 'unauthorized',
    },
    // unknown routes and methods
    { name: 'unknown API route', send: () => api('/api/nope'), status: 404, error: 'not_found' },
    {
      name: 'unknown QR step',
      send: () => api(`/api/qrcodes/${qr.qrcode_id}/approve`, { method: 'POST' }),
      status: 404,
      error: 'not_found',
    },
    { name: 'bare /api', send: () => api('/api'), status: 404, error: 'not_found' },
    { name: 'GET login', send: () => api('/api/login'), status: 405, error: 'method_not_allowed', allow: 'POST' },
    {
      name: 'DELETE me',
      send: () => api('/api/me', { method: 'DELETE' }),
      status: 405,
      error: 'method_not_allowed',
      allow: 'GET',
    },
    { name: 'GET qrcodes', send: () => api('/api/qrcodes'), status: 405, error: 'method_not_allowed', allow: 'POST' },
    {
      name: 'GET scan',
      send: () => api(`/api/qrcodes/${qr.qrcode_id}/scan`),
      status: 405,
      error: 'method_not_allowed',
      allow: 'POST',
    },
    {
      name: 'POST status',
      send: () => api(`/api/qrcodes/${qr.qrcode_id}/status`, { method: 'POST' }),
      status: 405,
      error: 'method_not_allowed',
      allow: 'GET',
    },
    {
      name: 'PUT sessions',
      send: () => api('/api/sessions', { method: 'PUT' }),
      status: 405,
      error: 'method_not_allowed',
      allow: 'GET',
    },
    // bad QR ids, on every route that takes one
    ...badIds.flatMap(([what, id]): Row[] => [
      {
        name: `status, id ${what}`,
        send: () => status({ ...qr, qrcode_id: id }),
        status: 400,
        error: 'invalid_qrcode_id',
        badId: true,
      },
      {
        name: `scan, id ${what}`,
        send: () => act(id, 'scan', token),
        status: 400,
        error: 'invalid_qrcode_id',
        badId: true,
      },
      {
        name: `confirm, id ${what}`,
        send: () => act(id, 'confirm', token),
        status: 400,
        error: 'invalid_qrcode_id',
        badId: true,
      },
      {
        name: `cancel, id ${what}`,
        send: () => act(id, 'cancel', token),
        status: 400,
        error: 'invalid_qrcode_id',
        badId: true,
      },
    ]),
  ];

  const idsBefore = (await listDurableObjectIds(env.LOGIN_SESSION)).length;
  const failures: string[] = [];
  for (const row of rows) {
    const res = await row.send();
    const text = await res.text();
    let body: { error?: string } = {};
    try {
      body = JSON.parse(text);
    } catch {
      failures.push(`${row.name}: not JSON: ${text.slice(0, 80)}`);
    }
    if (res.status === 500) failures.push(`${row.name}: 500`);
    if (res.status !== row.status) failures.push(`${row.name}: ${res.status} ${text.slice(0, 120)}`);
    else if (row.error && body.error !== row.error) failures.push(`${row.name}: error ${body.error}`);
    if (row.allow && res.headers.get('Allow') !== row.allow)
      failures.push(`${row.name}: Allow ${res.headers.get('Allow')}`);
  }
  expect(failures).toEqual([]);
  expect((await listDurableObjectIds(env.LOGIN_SESSION)).length).toBe(idsBefore);
  // The session behind the confirm rows was never touched: still noscan, version 0.
  expect(await (await status(qr)).json()).toMatchObject({ status: 'noscan', version: 0 });
  // And the real login still works after all that.
  expect(await errorOf(await loginWith({ username: 'dong', password: 'wrong' }))).toMatchObject({
    status: 401,
    error: 'invalid_credentials',
  });
  expect((await loginWith({ username: 'DONG', password: '111' })).status).toBe(200);
});
