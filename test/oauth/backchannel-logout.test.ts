/**
 * Back-Channel Logout 1.0: whenever a session ends, however (the phone signs it out, a reused
 * refresh token, a disabled account, `/oauth/revoke` of its refresh token, a code used twice, the
 * session cap), every client it signed in to that registered a `backchannel_logout_uri` gets
 * `POST logout_token=<JWT>` through the queue: checked here as a client checks it (jose, our
 * JWKS, `typ: logout+jwt`, the event, the id_token's `sid`, no nonce, two minutes at most),
 * signed like that client's id_tokens, and sent again when the receiver fails.
 */
import { env } from 'cloudflare:workers';
import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Env } from '../../src/env';
import { hashPassword } from '../../src/identity/passwords';
import type { DeadLetter } from '../../src/webhooks/dead-letters';
import { RETRY_DELAYS_SECONDS } from '../../src/webhooks/deliver';
import { DEAD_LETTER_QUEUE } from '../../src/webhooks/queue';
import { bearer, login } from '../helpers';
import { ageRotations, inUserObject } from '../sessions/support';
import { consume } from '../webhooks/support';

import {
  browserSignedIn,
  checkLogoutToken,
  deliver,
  deliveredTokens,
  logoutsOf,
  logoutTokenOf,
  RECEIVERS,
  request,
  throughQueue,
} from './logout-support';
import {
  authorizeParams,
  basicAuth,
  exchange,
  GRAFANA,
  pkce,
  redirectParams,
  SPA,
  signInByScan,
  WIKI,
} from './oidc-support';

beforeEach(() => {
  // The consumer says what it retries; kept out of the test output.
  vi.spyOn(console, 'warn').mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

const form = (path: string, params: Record<string, string>, headers: Record<string, string> = {}) =>
  request(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params),
  });

const grafanaAuth = basicAuth(GRAFANA.id, GRAFANA.secret);

/** Grafana's refresh of `token`, as its backend sends it. */
const refreshAsGrafana = (token: string) =>
  form('/oauth/token', { grant_type: 'refresh_token', refresh_token: token }, grafanaAuth);

/** The one logout token Grafana's receiver got, checked; its claims. */
async function grafanaTold(queued: Parameters<typeof deliveredTokens>[0], sid: string, sub = 'u_dong') {
  const tokens = await deliveredTokens(queued);
  expect([...tokens.keys()]).toEqual([RECEIVERS.grafana]);
  expect(tokens.get(RECEIVERS.grafana)).toHaveLength(1);
  return checkLogoutToken(tokens.get(RECEIVERS.grafana)![0]!, { aud: GRAFANA.id, sid, sub, alg: 'RS256' });
}

const PASSWORD = 's3cret-pass';

/** A new account, as `npm run accounts -- add` makes it. */
async function newAccount(): Promise<{ id: string; username: string }> {
  const username = `bcl-${crypto.randomUUID().slice(0, 8)}`;
  await env.DB.prepare('INSERT INTO users (id, username, display_name, password_hash) VALUES (?, ?, ?, ?)')
    .bind(`u_${username}`, username, 'Logout', await hashPassword(PASSWORD))
    .run();
  return { id: `u_${username}`, username };
}

describe('a logout token goes to every client of a session that ends', () => {
  it('the phone signs the browser out: Grafana (RS256) and Wiki (EdDSA) each get one for the id_tokens’ sid; a client without a URI, none', async () => {
    const browser = await browserSignedIn(GRAFANA, [WIKI, SPA]);
    for (const id of [WIKI.id, SPA.id]) expect(decodeJwt(browser.tokens[id]!.id_token).sid).toBe(browser.sid);

    const { res, queued } = await throughQueue(
      request(`/api/sessions/${browser.sid}`, { method: 'DELETE', headers: bearer(browser.phone) }),
    );
    expect(res.status).toBe(204);
    // One per client and browser session, though its three grants ended with it.
    expect(logoutsOf(queued)).toHaveLength(2);
    const tokens = await deliveredTokens(queued);
    expect([...tokens.keys()].sort()).toEqual([RECEIVERS.grafana, RECEIVERS.wiki]);
    const grafana = await checkLogoutToken(tokens.get(RECEIVERS.grafana)![0]!, {
      aud: GRAFANA.id,
      sid: browser.sid,
      sub: 'u_dong',
      alg: 'RS256',
    });
    const wiki = await checkLogoutToken(tokens.get(RECEIVERS.wiki)![0]!, {
      aud: WIKI.id,
      sid: browser.sid,
      sub: 'u_dong',
      alg: 'EdDSA',
    });
    expect(grafana.jti).not.toBe(wiki.jti);
  });

  it('the phone signs itself out: the browser it approved ends with it, and Grafana is told', async () => {
    const browser = await browserSignedIn();
    const { res, queued } = await throughQueue(
      request('/api/logout', { method: 'POST', headers: bearer(browser.phone) }),
    );
    expect(res.status).toBe(204);
    await grafanaTold(queued, browser.sid);
  });

  it('a reused refresh token ends the grant: Grafana is told, under the browser session’s sid', async () => {
    const browser = await browserSignedIn();
    const first = browser.tokens[GRAFANA.id]!.refresh_token!;
    const rotated = await throughQueue(refreshAsGrafana(first));
    expect(rotated.res.status).toBe(200);
    expect(logoutsOf(rotated.queued)).toEqual([]);
    await ageRotations('u_dong', 11_000);

    const { res, queued } = await throughQueue(refreshAsGrafana(first));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_grant');
    await grafanaTold(queued, browser.sid);
  });

  it('/oauth/revoke of the grant’s refresh token', async () => {
    const browser = await browserSignedIn();
    const { res, queued } = await throughQueue(
      form('/oauth/revoke', { token: browser.tokens[GRAFANA.id]!.refresh_token! }, grafanaAuth),
    );
    expect(res.status).toBe(200);
    await grafanaTold(queued, browser.sid);
  });

  it('a code used twice revokes the grant it gave', async () => {
    const { verifier, challenge } = await pkce();
    const signedIn = await signInByScan(authorizeParams(GRAFANA, challenge));
    const code = redirectParams(signedIn.redirect_to).code!;
    const first = (await (await exchange(code, verifier)).json()) as { id_token: string };
    const sid = decodeJwt(first.id_token).sid as string;

    const { res, queued } = await throughQueue(
      form(
        '/oauth/token',
        { grant_type: 'authorization_code', code, redirect_uri: GRAFANA.redirect, code_verifier: verifier },
        grafanaAuth,
      ),
    );
    expect(res.status).toBe(400);
    await grafanaTold(queued, sid);
  });

  it('a disabled account: its first refresh ends every session of it, and Grafana is told', async () => {
    const { id, username } = await newAccount();
    const browser = await browserSignedIn(GRAFANA, [], [username, PASSWORD]);
    await env.DB.prepare('UPDATE users SET disabled_at = ? WHERE username = ?')
      .bind(new Date().toISOString(), username)
      .run();

    const { res, queued } = await throughQueue(refreshAsGrafana(browser.tokens[GRAFANA.id]!.refresh_token!));
    expect(res.status).toBe(400);
    await grafanaTold(queued, browser.sid, id);
  });

  it('the session cap: a grant that is the least recently used session ends to make room, and Grafana is told', async () => {
    const { id, username } = await newAccount();
    const browser = await browserSignedIn(GRAFANA, [], [username, PASSWORD]);
    const now = Date.now();
    // The grant is the idlest session that approved none; 47 others fill the user up to 50.
    await inUserObject(id, "UPDATE sessions SET last_used_at = ? WHERE client_id = 'grafana'", now - 48 * 3_600_000);
    for (let i = 0; i < 47; i++) {
      await inUserObject(
        id,
        `INSERT INTO sessions (sid, via, user_agent, ip, created_at, last_used_at, ends_at, refreshed_at)
         VALUES (?, 'password', 'Some browser', '203.0.113.1', ?, ?, ?, ?)`,
        `filler-${crypto.randomUUID()}`,
        now - 3_600_000,
        now - 3_600_000 + i,
        now + 86_400_000,
        now - 3_600_000,
      );
    }
    const { res, queued } = await throughQueue(
      request('/api/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username, password: PASSWORD }),
      }),
    );
    expect(res.status).toBe(200);
    await grafanaTold(queued, browser.sid, id);
  });

  it('nothing for a session that signed in to no client', async () => {
    const phone = await login();
    const { res, queued } = await throughQueue(
      request('/api/logout', { method: 'POST', headers: bearer(phone.token) }),
    );
    expect(res.status).toBe(204);
    expect(logoutsOf(queued)).toEqual([]);
  });
});

describe('the delivery', () => {
  it('is retried when the receiver fails, with a new token each time; a 200 or a 204 ends it', async () => {
    const browser = await browserSignedIn();
    const { queued } = await throughQueue(
      request(`/api/sessions/${browser.sid}`, { method: 'DELETE', headers: bearer(browser.phone) }),
    );
    const logouts = logoutsOf(queued);
    expect(logouts).toHaveLength(1);

    const failed = await deliver(logouts, () => new Response('down', { status: 503 }));
    expect(failed.result.explicitAcks).toEqual([]);
    expect(failed.result.retries).toEqual([{ msgId: 'm0', delaySeconds: RETRY_DELAYS_SECONDS[0] }]);
    expect(failed.received).toHaveLength(1);

    const again = await deliver(logouts, () => new Response(null, { status: 204 }), 2);
    expect(again.result.explicitAcks).toEqual(['m0']);
    expect(again.received).toHaveLength(1);
    expect(again.received[0]!.redirect).toBe('manual');

    const expected = { aud: GRAFANA.id, sid: browser.sid, sub: 'u_dong', alg: 'RS256' } as const;
    const one = await checkLogoutToken(logoutTokenOf(failed.received[0]!), expected);
    const two = await checkLogoutToken(logoutTokenOf(again.received[0]!), expected);
    expect(two.jti).not.toBe(one.jti);
  });

  it('a redirect is not a delivery, nor is a network failure: both are retried', async () => {
    const browser = await browserSignedIn();
    const { queued } = await throughQueue(
      request(`/api/sessions/${browser.sid}`, { method: 'DELETE', headers: bearer(browser.phone) }),
    );
    const moved = await deliver(
      logoutsOf(queued),
      () => new Response(null, { status: 302, headers: { Location: 'https://elsewhere.example/' } }),
    );
    expect(moved.result.explicitAcks).toEqual([]);
    expect(moved.received).toHaveLength(1);
    vi.spyOn(globalThis, 'fetch').mockRejectedValue(new TypeError('Network connection lost.'));
    const result = await consume(logoutsOf(queued), { bindings: env as Env });
    expect(result.retries).toEqual([{ msgId: 'm0', delaySeconds: RETRY_DELAYS_SECONDS[0] }]);
  });
});

describe('a logout that exhausted its retries', () => {
  it('is kept with the dead letters, with its client’s URI', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const browser = await browserSignedIn();
    const { queued } = await throughQueue(
      request(`/api/sessions/${browser.sid}`, { method: 'DELETE', headers: bearer(browser.phone) }),
    );
    const [logout] = logoutsOf(queued);
    const result = await consume([logout], { queue: DEAD_LETTER_QUEUE, bindings: env as Env });
    expect(result.explicitAcks).toEqual(['m0']);
    const row = await env.DB.prepare('SELECT * FROM webhook_dead_letters WHERE webhook_id = ?')
      .bind(logout!.id)
      .first<DeadLetter>();
    expect(row).toMatchObject({ type: 'backchannel_logout', url: RECEIVERS.grafana, payload: logout!.payload });
    expect(JSON.parse(row!.payload)).toMatchObject({ client_id: GRAFANA.id, sid: browser.sid, sub: 'u_dong' });
  });
});
