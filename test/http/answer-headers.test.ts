/**
 * The headers and bodies of API answers: every answer is UTF-8 JSON, every answer that carries
 * a token says `Cache-Control: no-store`, and no error body leaks the secret or a stack.
 */
import { env } from 'cloudflare:workers';
import { expect, it } from 'vitest';
import { app } from '../../src/app';
import { act, api, bearer, createQr, freshIp, postJson, type QrBody, status } from '../helpers';
import { devKey, devRsaKey } from '../tokens/support';

const JSON_TYPE = 'application/json; charset=utf-8';

function brokenDb(): D1Database {
  const fail = (): never => {
    throw new Error(`D1_ERROR: cannot reach the database (key ${env.SIGNING_KEY})`);
  };
  const statement = { bind: fail, first: fail, run: fail, all: fail, raw: fail };
  return { prepare: () => statement, batch: fail, exec: fail } as unknown as D1Database;
}

it('every API answer is UTF-8 JSON; token answers are no-store; errors leak nothing', async () => {
  const secret = devKey().d ?? '';
  const rsaSecret = devRsaKey().d ?? '';
  expect(secret.length).toBeGreaterThanOrEqual(32);
  expect(rsaSecret.length).toBeGreaterThanOrEqual(256);
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
  expect(((await delivered.clone().json()) as { token?: string }).token).toMatch(/^ey/);
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
  // A misconfigured Worker (a broken key) answers 500 without echoing the key it was given.
  const shortKey = '{"kty":"OKP","crv":"Ed25519","d":"private-part-must-not-leak"}';
  answers.push([
    '500 misconfigured',
    await app.fetch(
      new Request('https://login.example/api/login', {
        method: 'POST',
        headers: { 'CF-Connecting-IP': freshIp(), 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'dong', password: '111' }),
      }),
      { ...env, SIGNING_KEY: shortKey },
    ),
  ]);
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
        headers: { 'CF-Connecting-IP': freshIp(), 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'dong', password: '111' }),
      }),
      broken,
    ),
  ]);

  const statuses = new Set(answers.map(([, r]) => r.status));
  for (const s of [200, 201, 400, 401, 404, 405, 409, 410, 429, 500, 503]) expect(statuses).toContain(s);

  const failures: string[] = [];
  for (const [name, res] of answers) {
    const type = res.headers.get('Content-Type');
    if (type !== JSON_TYPE) failures.push(`${name}: Content-Type ${type}`);
    if (res.headers.get('Cache-Control') !== 'no-store')
      failures.push(`${name}: Cache-Control ${res.headers.get('Cache-Control')}`);
    if (res.headers.get('X-Content-Type-Options') !== 'nosniff') failures.push(`${name}: no nosniff`);
    const text = await res.text();
    const body = JSON.parse(text) as Record<string, unknown>;
    if (('token' in body || 'poll_token' in body) && res.headers.get('Cache-Control') !== 'no-store')
      failures.push(`${name}: token without no-store`);
    if (res.status >= 400) {
      if (text.includes(secret) || text.includes(rsaSecret) || text.includes('private-part'))
        failures.push(`${name}: leaks the signing key`);
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
  expect(created.headers.get('Cache-Control')).toBe('no-store');
  expect(delivered.headers.get('Cache-Control')).toBe('no-store');
});

it('204 answers (signing a device out) have no body and no Content-Type, and are no-store', async () => {
  const ip = freshIp();
  const signIn = async () =>
    (await (
      await postJson('/api/login', { username: 'guang', password: '222' }, { 'CF-Connecting-IP': ip })
    ).json()) as {
      token: string;
    };
  const phone = await signIn();
  const other = await signIn();
  const sessions = (await (await api('/api/sessions', { headers: bearer(other.token) })).json()) as {
    sid: string;
    current: boolean;
  }[];
  const phoneSid = sessions.find((s) => !s.current)?.sid;
  expect(phoneSid).toBeDefined();
  const answers = [
    await api(`/api/sessions/${phoneSid}`, { method: 'DELETE', headers: bearer(other.token) }),
    await api('/api/logout', { method: 'POST', headers: bearer(other.token) }),
  ];
  for (const res of answers) {
    expect(res.status).toBe(204);
    expect(res.headers.get('Content-Type')).toBeNull();
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(await res.text()).toBe('');
  }
  // Both were really signed out.
  expect((await api('/api/me', { headers: bearer(phone.token) })).status).toBe(401);
  expect((await api('/api/me', { headers: bearer(other.token) })).status).toBe(401);
});

it('pages carry a CSP with no inline script and no framing (static assets stood in for)', async () => {
  const assets = {
    fetch: async () => new Response('<!doctype html><title>t</title>', { headers: { 'Content-Type': 'text/html' } }),
  } as unknown as Fetcher;
  for (const path of ['/', '/confirm?id=x', '/link']) {
    const res = await app.fetch(new Request(`https://login.example${path}`), { ...env, ASSETS: assets });
    expect(res.status).toBe(200);
    const csp = res.headers.get('Content-Security-Policy') ?? '';
    const directive = (name: string) =>
      csp
        .split(';')
        .map((d) => d.trim())
        .find((d) => d.startsWith(`${name} `));
    expect(directive('frame-ancestors')).toBe("frame-ancestors 'none'");
    expect(directive('script-src')).toBe("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    expect(res.headers.get('X-Frame-Options')).toBe('DENY');
    expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
  }
});
