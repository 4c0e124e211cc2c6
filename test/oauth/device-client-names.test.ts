/**
 * Issue 29, item 5: a device-flow client is named by its registered name, not as "Unknown browser
 * on unknown system". `OAUTH_CLIENTS` takes `id=Name` beside plain ids (vitest.config.ts registers
 * `named-cli=Acme CLI`); the phone's scan answer says `client_name`, and the linked devices list
 * the device's session with its client by that name (by its id when it has none).
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env';
import { configProblems } from '../../src/http/config-check';
import { oauthChecks } from '../../src/oauth/config-checks';
import { allowedClients, deviceClientName } from '../../src/oauth/form';
import { act, api, bearer, login } from '../helpers';
import { authorizeDevice, CLIENT_ID, oauthErrorOf, pollToken, postForm, qrcodeIdOf } from './support';

const NAMED = 'named-cli';

/** A device signs in through `clientId`; the phone's scan answer and the device's access token. */
async function deviceSignIn(clientId: string, phoneToken: string) {
  const auth = await authorizeDevice(clientId);
  const id = qrcodeIdOf(auth);
  const scanned = await act(id, 'scan', phoneToken);
  expect(scanned.status).toBe(200);
  const scan = (await scanned.json()) as Record<string, unknown>;
  expect((await act(id, 'confirm', phoneToken)).status).toBe(200);
  const res = await pollToken(auth.device_code, clientId);
  expect(res.status).toBe(200);
  const { access_token } = (await res.json()) as { access_token: string };
  return { scan, token: access_token };
}

describe('a device-flow client’s registered name', () => {
  it('the phone’s scan answer names it; a client without a name is named by its id, as before', async () => {
    const phone = await login('guang', '222');
    const named = await deviceSignIn(NAMED, phone.token);
    expect(named.scan).toMatchObject({ client_id: NAMED, client_name: 'Acme CLI' });
    const plain = await deviceSignIn(CLIENT_ID, phone.token);
    expect(plain.scan.client_id).toBe(CLIENT_ID);
    expect(plain.scan).not.toHaveProperty('client_name');
  });

  it('the linked devices list the device’s session with its client, by name', async () => {
    const phone = await login('guang', '222');
    const named = await deviceSignIn(NAMED, phone.token);
    const plain = await deviceSignIn(CLIENT_ID, phone.token);
    const res = await api('/api/sessions', { headers: bearer(phone.token) });
    const listed = (await res.json()) as { sid: string; via: string; clients?: unknown; user_agent: string }[];
    const sidOf = (token: string) => JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))).sid;
    const namedRow = listed.find((s) => s.sid === sidOf(named.token));
    const plainRow = listed.find((s) => s.sid === sidOf(plain.token));
    expect(namedRow).toMatchObject({ via: 'device', clients: [{ client_id: NAMED, client_name: 'Acme CLI' }] });
    expect(plainRow).toMatchObject({ via: 'device', clients: [{ client_id: CLIENT_ID, client_name: CLIENT_ID }] });
    // A page's own session names no client.
    expect(listed.find((s) => s.sid === sidOf(phone.token))).not.toHaveProperty('clients');
  });

  it('the name is no part of the id: `id=Name` as a client_id is unknown', async () => {
    const res = await postForm('/oauth/device_authorization', { client_id: `${NAMED}=Acme CLI` });
    expect(await oauthErrorOf(res)).toMatchObject({ status: 401, error: 'invalid_client' });
  });
});

describe('OAUTH_CLIENTS', () => {
  const withClients = (value: string) => ({ ...env, OAUTH_CLIENTS: value }) as Env;

  it('reads plain ids and `id=Name` entries alike', () => {
    const vars = withClients('cli, tv-app=Living-room TV ,  kiosk = Kiosk in the hall');
    expect(allowedClients(vars)).toEqual(['cli', 'tv-app', 'kiosk']);
    expect(deviceClientName(vars, 'cli')).toBeNull();
    expect(deviceClientName(vars, 'tv-app')).toBe('Living-room TV');
    expect(deviceClientName(vars, 'kiosk')).toBe('Kiosk in the hall');
    expect(configProblems(vars, [oauthChecks], { origin: null })).toEqual([]);
  });

  it.each([
    ['a name without an id', '=Nameless', 'a name and no id'],
    ['an id listed twice', 'cli, cli=CLI', 'twice'],
    ['a name too long', `cli=${'x'.repeat(101)}`, 'more than 100 characters'],
  ])('says what is wrong with %s', (_what, value, words) => {
    const problems = configProblems(withClients(value), [oauthChecks], { origin: null });
    expect(problems).toEqual([{ name: 'OAUTH_CLIENTS', message: expect.stringContaining(words) }]);
  });
});
