/**
 * The headers and bodies of API answers: every answer is UTF-8 JSON, every answer that carries
 * a token says `Cache-Control: no-store`, and no error body leaks the secret or a stack.
 */
import { env } from 'cloudflare:workers';
import { expect, it } from 'vitest';
import { app } from '../../src/app';
import { act, api, bearer, createQr, freshIp, postJson, type QrBody, status } from '../helpers';

const JSON_TYPE = 'application/json; charset=utf-8';

function brokenDb(): D1Database {
  const fail = (): never => {
    throw new Error(`D1_ERROR: cannot reach the database (secret ${env.JWT_SECRET})`);
  };
  const statement = { bind: fail, first: fail, run: fail, all: fail, raw: fail };
  return { prepare: () => statement, batch: fail, exec: fail } as unknown as D1Database;
}

it('every API answer is UTF-8 JSON; token answers are no-store; errors leak nothing', async () => {
  const secret = env.JWT_SECRET ?? '';
  expect(secret.length).toBeGreaterThanOrEqual(32);
  const answers: [string, Response][] = [];
  const keep = async (name: string, res: Promise<Response>) => {
    const r = await res;
    answers.push([name, r]);
    return r;
  };

  const ip = freshIp();
  const loginRes = await keep(
    '200 login',
    postJson('/api/login', { username: 'dong', password: '111' }, { 'CF-Connecting-IP': ip }),
  );
  const { token } = (await loginRes.clone().json()) as { token: string };
  const created = await keep(
    '201 qrcodes',
    api('/api/qrcodes', { method: 'POST', headers: { 'CF-Connecting-IP': freshIp() } }),
  );
  const qr = (await created.clone().json()) as QrBody;
  await keep('200 scan', act(qr, 'scan', token));
  await keep('200 status', status(qr));
  await keep('200 confirm', act(qr, 'confirm', token));
  const delivered = await keep('200 status with token', status(qr, '?after=1'));
  await keep('410 status after delivery', status(qr));
  await keep('200 me', api('/api/me', { headers: bearer(token) }));
  await keep('200 sessions', api('/api/sessions', { headers: bearer(token) }));
  await keep('200 config', api('/api/config'));
  await keep('400 bad body', postJson('/api/login', '{', { 'CF-Connecting-IP': freshIp() }));
  await keep('400 header too long', api('/api/config', { headers: { 'X-Pad': 'a'.repeat(9000) } }));
  await keep('400 bad id', act('f'.repeat(64), 'scan', token));
  await keep('401 no token', api('/api/me'));
  await keep(
    '401 bad credentials',
    postJson('/api/login', { username: 'dong', password: 'x' }, { 'CF-Connecting-IP': freshIp() }),
  );
  await keep('404 unknown', api('/api/nothing'));
  await keep('404 user code', postJson('/api/codes/resolve', { user_code: 'BBBB-BBBB' }, bearer(token)));
  await keep('405 method', api('/api/login'));
  await keep('409 transition', act(await createQr(), 'confirm', token));
  const limitIp = freshIp();
  let limited: Response | undefined;
  for (let i = 0; i < 12 && !limited; i++) {
    const res = await postJson('/api/login', { username: 'guang', password: 'nope' }, { 'CF-Connecting-IP': limitIp });
    if (res.status === 429) limited = res;
    else await res.arrayBuffer();
  }
  expect(limited).toBeDefined();
  answers.push(['429 rate limited', limited as Response]);
  const broken = { ...env, DB: brokenDb() };
  answers.push([
    '503 login with D1 down',
    await app.fetch(
      new Request('https://login.example/api/login', {
        method: 'POST',
        headers: { 'CF-Connecting-IP': freshIp() },
        body: JSON.stringify({ username: 'dong', password: '111' }),
      }),
      broken,
    ),
  ]);
  answers.push([
    '503 me with D1 down',
    await app.fetch(new Request('https://login.example/api/me', { headers: bearer(token) }), broken),
  ]);

  const statuses = new Set(answers.map(([, r]) => r.status));
  for (const s of [200, 201, 400, 401, 404, 405, 409, 410, 429, 503]) expect(statuses).toContain(s);

  const failures: string[] = [];
  for (const [name, res] of answers) {
    const type = res.headers.get('Content-Type');
    if (type !== JSON_TYPE) failures.push(`${name}: Content-Type ${type}`);
    if (res.headers.get('Cache-Control') !== 'no-store')
      failures.push(`${name}: Cache-Control ${res.headers.get('Cache-Control')}`);
    if (res.headers.get('X-Content-Type-Options') !== 'nosniff') failures.push(`${name}: no nosniff`);
    const text = await res.text();
    const body = JSON.parse(text) as Record<string, unknown>;
    if ('token' in body && res.headers.get('Cache-Control') !== 'no-store')
      failures.push(`${name}: token without no-store`);
    if (res.status >= 400) {
      if (text.includes(secret)) failures.push(`${name}: leaks the JWT secret`);
      if (/stack/i.test(text)) failures.push(`${name}: mentions a stack`);
      if (/\bat [^\s]+ \(|\n\s*at /.test(text) || /\bat .*:\d+:\d+/.test(text)) failures.push(`${name}: stack line`);
      if (/Error:/.test(text)) failures.push(`${name}: raw error text`);
      if (typeof body.error !== 'string' || typeof body.message !== 'string')
        failures.push(`${name}: not the error shape`);
      if ((res.status === 429 || res.status === 503) && !/^\d+$/.test(res.headers.get('Retry-After') ?? ''))
        failures.push(`${name}: no Retry-After`);
    }
  }
  expect(failures).toEqual([]);
  // The token answers themselves.
  expect(loginRes.headers.get('Cache-Control')).toBe('no-store');
  expect(delivered.headers.get('Cache-Control')).toBe('no-store');
});
