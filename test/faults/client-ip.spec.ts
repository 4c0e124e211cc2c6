/**
 * An attack a person can make on a local server: sending its own `CF-Connecting-IP`,
 * `X-Forwarded-For` or `MF-CF-Blob`. `npm start` and `npm run dev` must go by the connection's
 * own address: rotating the header does not escape a per-IP limit, and the phone is shown the
 * PC's real address, not the text it sent. Clients come from distinct loopback addresses
 * (127.0.0.2, 127.0.0.3 …), which all reach a server on 127.0.0.1.
 * Run by `npm run test:faults` (Node's test runner).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Agent, fetch } from 'undici';
import { npmStart } from '../support/npm-start.ts';
import { type DevServer, freshStorage, startDev } from '../support/wrangler-dev.ts';

const agents: Agent[] = [];
/** A client whose connections come from `address`. */
function from(address: string) {
  const dispatcher = new Agent({ localAddress: address });
  agents.push(dispatcher);
  return (url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}) =>
    fetch(url, {
      method: init.method ?? 'GET',
      headers: { 'Content-Type': 'application/json', ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      dispatcher,
    });
}

/** Headers that claim to be someone else, different on every request. */
let lie = 0;
function forged(): Record<string, string> {
  lie++;
  return {
    'CF-Connecting-IP': `203.0.113.${lie % 250}`,
    'X-Forwarded-For': `198.51.100.${lie % 250}`,
    'X-Real-IP': `192.0.2.${lie % 250}`,
    'MF-CF-Blob': JSON.stringify({ country: 'AQ', city: `Forged ${lie}` }),
  };
}

const servers: [string, (storage: string) => Promise<DevServer>][] = [
  ['npm start', (storage) => npmStart(storage, ['--demo'])],
  ['npm run dev', (storage) => startDev(storage)],
];

after(async () => {
  await Promise.all(agents.map((a) => a.close()));
});

for (const [name, launch] of servers) {
  describe(`${name} goes by the connection's own address`, { concurrency: false }, () => {
    let storage: ReturnType<typeof freshStorage> | undefined;
    let server: DevServer | undefined;
    before(async () => {
      storage = freshStorage();
      server = await launch(storage.dir);
    });
    after(async () => {
      await server?.stop();
      storage?.remove();
    });

    test('rotating a sent CF-Connecting-IP does not escape the per-IP login limit', async () => {
      const attacker = from('127.0.0.2');
      const login = (password: string) =>
        attacker(`${server!.base}/api/login`, {
          method: 'POST',
          headers: forged(),
          body: { username: 'guang', password },
        });
      // 10 failed logins a minute for one username from one IP, whatever the headers say.
      for (let i = 0; i < 10; i++) assert.equal((await login(`wrong-${i}`)).status, 401);
      const refused = await login('222');
      assert.equal(refused.status, 429);
      assert.ok(Number(refused.headers.get('Retry-After')) > 0);
      // Another address is another client.
      const neighbour = await from('127.0.0.3')(`${server!.base}/api/login`, {
        method: 'POST',
        body: { username: 'guang', password: '222' },
      });
      assert.equal(neighbour.status, 200);
    });

    test("the phone is shown the PC's real address, not the text it sent", async () => {
      const pc = from('127.0.0.4');
      const phone = from('127.0.0.5');
      const qr = (await (await pc(`${server!.base}/api/qrcodes`, { method: 'POST', headers: forged() })).json()) as {
        qrcode_id: string;
      };
      const signIn = await phone(`${server!.base}/api/login`, {
        method: 'POST',
        headers: forged(),
        body: { username: 'dong', password: '111' },
      });
      assert.equal(signIn.status, 200);
      const { token } = (await signIn.json()) as { token: string };
      const auth = { Authorization: `Bearer ${token}` };
      const scanned = await phone(`${server!.base}/api/qrcodes/${qr.qrcode_id}/scan`, {
        method: 'POST',
        headers: { ...auth, ...forged() },
      });
      assert.equal(scanned.status, 200);
      const { requester, phone: own } = (await scanned.json()) as {
        requester: Record<string, unknown>;
        phone: Record<string, unknown>;
      };
      assert.equal(requester.ip, '127.0.0.4');
      assert.notEqual(requester.country, 'AQ');
      assert.doesNotMatch(String(requester.city), /Forged/);
      // What the phone is told about itself comes from its own connection too.
      assert.equal(own.ip, '127.0.0.5');
      assert.notEqual(own.country, 'AQ');
      // The phone's own linked device carries its own address too.
      const devices = (await (await phone(`${server!.base}/api/sessions`, { headers: auth })).json()) as {
        ip: string;
        place: string | null;
        current: boolean;
      }[];
      const mine = devices.find((d) => d.current);
      assert.equal(mine?.ip, '127.0.0.5');
      assert.doesNotMatch(String(mine?.place), /Forged|AQ/);
    });
  });
}
