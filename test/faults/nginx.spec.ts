/**
 * One machine behind nginx: Debian's nginx, with the project's own config
 * (`deploy/nginx/qrcode-login.conf`), terminates TLS in front of `npm start -- --trust-proxy
 * 127.0.0.1` (a signing key of its own, `PUBLIC_ORIGIN` the https origin). A PC signs in through
 * it over https; the Worker sees each client's own address, whatever `X-Forwarded-For`,
 * `X-Real-IP` or `CF-Connecting-IP` the client sends (through nginx or straight to `npm start`);
 * a long-poll waits its whole 30 s; a body over 8 KB is answered as `npm start` answers it.
 * Clients come from distinct loopback addresses (127.0.0.2 …). Without nginx this fails and says
 * how to install it. Run by `npm run test:faults` (Node's test runner).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Agent, fetch } from 'undici';
import { type RunningNginx, requireNginx, startNginx } from '../support/nginx.ts';
import { npmStart, type StartedServer } from '../support/npm-start.ts';
import { freePort } from '../support/wrangler-dev.ts';

/** A signing key of one's own, as `npm run keygen` makes one: `--trust-proxy` faces a network. */
function ownKey(): string {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  return JSON.stringify({ ...jwk, kid: 'behind-nginx', alg: 'EdDSA', use: 'sig' });
}

/** Headers that claim to be someone else, different on every request. */
let lie = 0;
function forged(): Record<string, string> {
  lie++;
  return {
    'X-Forwarded-For': `198.51.100.${lie % 250}`,
    'X-Real-IP': `192.0.2.${lie % 250}`,
    'CF-Connecting-IP': `203.0.113.${lie % 250}`,
    Forwarded: `for=192.0.2.${lie % 250}`,
  };
}

interface Answer {
  status: number;
  headers: { get(name: string): string | null };
  json: Record<string, unknown>;
}

describe('npm start behind nginx (deploy/nginx/qrcode-login.conf), over https', { concurrency: false }, () => {
  const storage = mkdtempSync(path.join(tmpdir(), 'qrcode-login-nginx-state-'));
  let server: StartedServer | undefined;
  let nginx: RunningNginx | undefined;
  let httpPort = 0;
  const plain: Agent[] = [];

  /** A client whose connections come from `address`, through nginx (or, `direct`, to npm start). */
  function from(address: string, direct = false) {
    const dispatcher = direct ? new Agent({ localAddress: address }) : nginx!.client(address);
    if (direct) plain.push(dispatcher);
    const base = direct ? server!.base : nginx!.origin;
    return async (
      urlPath: string,
      init: { method?: string; headers?: Record<string, string>; body?: unknown; raw?: string } = {},
    ): Promise<Answer> => {
      const res = await fetch(`${base}${urlPath}`, {
        method: init.method ?? 'GET',
        headers: { 'Content-Type': 'application/json', ...init.headers },
        body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
        dispatcher,
        signal: AbortSignal.timeout(40_000),
      });
      const text = await res.text();
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(text);
      } catch {
        throw new Error(`${urlPath}: ${res.status}, not JSON: ${text.slice(0, 300)}`);
      }
      return { status: res.status, headers: res.headers, json };
    };
  }

  before(async () => {
    requireNginx();
    const https = await freePort();
    httpPort = await freePort();
    server = await npmStart(
      storage,
      ['--demo', '--trust-proxy', '127.0.0.1', '--var', `PUBLIC_ORIGIN:https://127.0.0.1:${https}`],
      { env: { SIGNING_KEY: ownKey() } },
    );
    nginx = await startNginx({ https, http: httpPort, upstream: server.port });
  });

  after(async () => {
    await Promise.all(plain.map((a) => a.close()));
    await nginx?.stop();
    await server?.stop();
    rmSync(storage, { recursive: true, force: true });
  });

  test('a PC signs in through nginx over https: QR, the phone signs in as dong and scans, confirms; the poll gets the token', {
    timeout: 60_000,
  }, async () => {
    const pc = from('127.0.0.4');
    const phone = from('127.0.0.5');
    const made = await pc('/api/qrcodes', { method: 'POST', headers: forged() });
    assert.equal(made.status, 201, JSON.stringify(made.json));
    const qr = made.json as { qrcode_id: string; poll_token: string; scan_url: string; version: number };
    // PUBLIC_ORIGIN: the QR sends the phone to the https origin, not to npm start's port.
    assert.equal(qr.scan_url, `${nginx!.origin}/confirm?id=${qr.qrcode_id}`);
    const poll = (after: number) =>
      pc(`/api/qrcodes/${qr.qrcode_id}/status?after=${after}&wait=30`, {
        headers: { 'X-Poll-Token': qr.poll_token, ...forged() },
      });
    const waitingForScan = poll(qr.version);

    const signIn = await phone('/api/login', {
      method: 'POST',
      headers: forged(),
      body: { username: 'dong', password: '111' },
    });
    assert.equal(signIn.status, 200, JSON.stringify(signIn.json));
    const auth = { Authorization: `Bearer ${signIn.json.token}` };
    // The phone's token names the https origin as its issuer.
    const claims = JSON.parse(Buffer.from(String(signIn.json.token).split('.')[1] ?? '', 'base64url').toString());
    assert.equal(claims.iss, nginx!.origin);

    const scanned = await phone(`/api/qrcodes/${qr.qrcode_id}/scan`, {
      method: 'POST',
      headers: { ...auth, ...forged() },
    });
    assert.equal(scanned.status, 200, JSON.stringify(scanned.json));
    const { requester, phone: own } = scanned.json as { requester: { ip: string }; phone: { ip: string } };
    // The Worker saw the clients' own addresses, through nginx, not the headers they sent.
    assert.equal(requester.ip, '127.0.0.4');
    assert.equal(own.ip, '127.0.0.5');

    const seen = await waitingForScan;
    assert.equal(seen.status, 200);
    assert.equal(seen.json.status, 'scan-wait-confirm');
    const waitingForConfirm = poll(Number(seen.json.version));
    const confirmed = await phone(`/api/qrcodes/${qr.qrcode_id}/confirm`, { method: 'POST', headers: auth });
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.json));
    const done = await waitingForConfirm;
    assert.equal(done.status, 200);
    assert.equal(done.json.status, 'scan-confirm');
    assert.match(String(done.json.token), /^ey/);
    assert.equal(done.headers.get('cache-control'), 'no-store');

    // The PC is signed in, through nginx, as dong; its linked device carries its own address.
    const me = await pc('/api/me', { headers: { Authorization: `Bearer ${done.json.token}` } });
    assert.equal(me.status, 200);
    assert.equal(me.json.username, 'dong');
    const devices = await phone('/api/sessions', { headers: auth });
    const list = devices.json as unknown as { ip: string; current: boolean }[];
    assert.equal(list.find((d) => d.current)?.ip, '127.0.0.5');
    assert.ok(
      list.some((d) => !d.current && d.ip === '127.0.0.4'),
      JSON.stringify(list),
    );
  });

  test('forged X-Forwarded-For, X-Real-IP and CF-Connecting-IP through nginx do not escape the per-IP login limit', async () => {
    const attacker = from('127.0.0.2');
    const login = (password: string) =>
      attacker('/api/login', { method: 'POST', headers: forged(), body: { username: 'guang', password } });
    for (let i = 0; i < 10; i++) assert.equal((await login(`wrong-${i}`)).status, 401);
    const refused = await login('222');
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('Retry-After')) > 0);
    // Another address through the same nginx is another client.
    const neighbour = await from('127.0.0.3')('/api/login', {
      method: 'POST',
      body: { username: 'guang', password: '222' },
    });
    assert.equal(neighbour.status, 200);
  });

  test('a client that reaches npm start without nginx cannot name its address in X-Real-IP', async () => {
    const direct = from('127.0.0.6', true);
    const phone = from('127.0.0.7');
    const made = await direct('/api/qrcodes', { method: 'POST', headers: forged() });
    assert.equal(made.status, 201);
    const signIn = await phone('/api/login', { method: 'POST', body: { username: 'dong', password: '111' } });
    const scanned = await phone(`/api/qrcodes/${made.json.qrcode_id}/scan`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${signIn.json.token}` },
    });
    assert.equal(scanned.status, 200);
    assert.equal((scanned.json.requester as { ip: string }).ip, '127.0.0.6');
  });

  test('a body over 8 KB is answered 400 invalid_request, in RFC 6749’s shape on /oauth/; 8 KB exactly still signs in', async () => {
    const client = from('127.0.0.8');
    const bare = JSON.stringify({ username: 'dong', password: '111', pad: '' });
    const body = (size: number) =>
      JSON.stringify({ username: 'dong', password: '111', pad: 'a'.repeat(size - bare.length) });
    const exact = await client('/api/login', { method: 'POST', raw: body(8192) });
    assert.equal(exact.status, 200, JSON.stringify(exact.json));
    for (const size of [8193, 20_000]) {
      const over = await client('/api/login', { method: 'POST', raw: body(size) });
      assert.deepEqual([over.status, over.json.error], [400, 'invalid_request'], String(size));
      assert.match(String(over.json.message), /larger than 8 KB/);
    }
    const oauth = await client('/oauth/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      raw: `grant_type=refresh_token&refresh_token=${'a'.repeat(9000)}`,
    });
    assert.deepEqual([oauth.status, oauth.json.error], [400, 'invalid_request']);
    assert.match(String(oauth.json.error_description), /larger than 8 KB/);
  });

  test('a long-poll waits its whole 30 s through nginx and is answered, not cut off', { timeout: 60_000 }, async () => {
    const pc = from('127.0.0.9');
    const made = await pc('/api/qrcodes', { method: 'POST' });
    const started = Date.now();
    const waited = await pc(`/api/qrcodes/${made.json.qrcode_id}/status?after=${made.json.version}&wait=30`, {
      headers: { 'X-Poll-Token': String(made.json.poll_token) },
    });
    const seconds = (Date.now() - started) / 1000;
    assert.equal(waited.status, 200, JSON.stringify(waited.json));
    assert.equal(waited.json.status, 'noscan');
    assert.ok(seconds >= 29 && seconds < 40, `answered after ${seconds} s`);
  });

  test('plain http is sent to https, and nginx logged nothing worse than a warning', async () => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/config`, { redirect: 'manual' });
    assert.equal(res.status, 308);
    assert.equal(res.headers.get('location'), 'https://127.0.0.1/api/config');
    // The bodies refused above are logged as errors ("client intended to send too large body").
    const log = nginx!
      .errorLog()
      .split('\n')
      .filter((line) => !line.includes('client intended to send too large body'))
      .join('\n');
    assert.doesNotMatch(log, /\[(emerg|alert|crit|error)\]/, log);
  });
});
