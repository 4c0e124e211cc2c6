/**
 * Shared steps for the logout tests: a browser signed in to clients by scan (its cookie, the
 * phone's token, each client's tokens and the browser session's sid), a request through the
 * Worker whose queue keeps what it is sent, the queued back-channel logouts delivered to a
 * client's receiver (the Worker's own queue consumer, `fetch` answered by the test), and the
 * checks a client makes of a logout token (Back-Channel Logout 1.0 §2.6), with jose against our
 * JWKS.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { createLocalJWKSet, decodeJwt, type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose';
import { expect, vi } from 'vitest';
import { app } from '../../src/app';
import type { Env } from '../../src/env';
import { api, ORIGIN } from '../helpers';
import { consume, type Received } from '../webhooks/support';
import {
  authorizeParams,
  exchange,
  GRAFANA,
  type PageStart,
  pageStart,
  pageStep,
  pkce,
  redirectParams,
  signInByScan,
  WIKI,
} from './oidc-support';

export const LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** The receivers of vitest.config.ts's clients. */
export const RECEIVERS = {
  grafana: 'https://grafana.example/logout',
  wiki: 'https://wiki.example/backchannel-logout',
} as const;

export interface ClientTokens {
  access_token: string;
  id_token: string;
  refresh_token?: string;
}

/** A client as the helpers of `oidc-support.ts` know it. */
type Client = { id: string; redirect: string; secret?: string };

/** Exchanges a code as `client` authenticates (Basic for Grafana, the form for Wiki). */
async function tokensFor(client: Client, code: string, verifier: string): Promise<ClientTokens> {
  const res =
    client.id === WIKI.id
      ? await exchange(code, verifier, WIKI, { client_id: WIKI.id, client_secret: WIKI.secret }, {})
      : client.secret
        ? await exchange(code, verifier, client)
        : await exchange(code, verifier, client, { client_id: client.id }, {});
  expect(res.status).toBe(200);
  return res.json();
}

/**
 * A browser signs in by scan to `first`, then (one click, "Continue as") to each of `more`:
 * its cookie, the phone's token, each client's tokens, and the browser session's sid (the
 * id_tokens').
 */
export async function browserSignedIn(
  first: Client = GRAFANA,
  more: Client[] = [],
  user: [string, string] = ['dong', '111'],
  scope = 'openid profile offline_access',
) {
  const { verifier, challenge } = await pkce();
  const signedIn = await signInByScan(authorizeParams(first, challenge, { scope }), user);
  const tokens: Record<string, ClientTokens> = {
    [first.id]: await tokensFor(first, redirectParams(signedIn.redirect_to).code!, verifier),
  };
  for (const client of more) {
    const pair = await pkce();
    const started = await pageStart(authorizeParams(client, pair.challenge, { scope }), signedIn.cookie);
    const start = (await started.json()) as PageStart;
    const res = await pageStep('continue', start.authorization, signedIn.cookie);
    const { redirect_to } = (await res.json()) as { redirect_to: string };
    tokens[client.id] = await tokensFor(client, redirectParams(redirect_to).code!, pair.verifier);
  }
  const sid = decodeJwt(tokens[first.id]!.id_token).sid as string;
  return { cookie: signedIn.cookie, phone: signedIn.phone, tokens, sid, sub: decodeJwt(signedIn.phone).sub as string };
}

/** One message the Worker put on its queue. */
export interface QueuedMessage {
  id: string;
  type: string;
  payload: string;
}

/** A request through the Worker, its queue keeping what it is sent: the answer, and the queued messages. */
export async function throughQueue(
  request: Request,
  overrides: Partial<Env> = {},
): Promise<{ res: Response; queued: QueuedMessage[] }> {
  const queued: QueuedMessage[] = [];
  const queue = { send: async (message: QueuedMessage) => void queued.push(message) };
  const ctx = createExecutionContext();
  const res = await app.fetch(request, { ...env, WEBHOOKS: queue, ...overrides } as unknown as Env, ctx);
  await waitOnExecutionContext(ctx);
  return { res, queued };
}

/** The queued back-channel logouts. */
export const logoutsOf = (queued: QueuedMessage[]) => queued.filter((m) => m.type === 'backchannel_logout');

/** A request as a browser or a backend sends it to the Worker. */
export const request = (path: string, init: RequestInit = {}) => new Request(`${ORIGIN}${path}`, init);

/** Replaces `fetch` (the Worker's) with the clients' receivers, answering with `respond`: what they received. */
export function receivers(respond: (got: Received) => Response): Received[] {
  const received: Received[] = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const got: Received = {
      url: request.url,
      method: request.method,
      headers: Object.fromEntries(request.headers),
      // Read as bytes: a form body is text, but the runtime warns when .text() reads one.
      body: new TextDecoder().decode(await request.arrayBuffer()),
      redirect: init?.redirect,
      signal: init?.signal,
    };
    received.push(got);
    return respond(got);
  });
  return received;
}

/** The Worker's queue consumer delivers `messages` (attempt `attempts`) to receivers answering `respond` (200 by default). */
export async function deliver(
  messages: QueuedMessage[],
  respond: (got: Received) => Response = () => new Response(null, { status: 200 }),
  attempts = 1,
) {
  const received = receivers(respond);
  const result = await consume(messages, { attempts, bindings: env as Env });
  return { received, result };
}

/** The logout token of a POST a receiver got, checked as a POST of Back-Channel Logout 1.0 §2.5. */
export function logoutTokenOf(got: Received): string {
  expect(got.method).toBe('POST');
  expect(got.headers['content-type']).toBe('application/x-www-form-urlencoded');
  const form = new URLSearchParams(got.body);
  expect([...form.keys()]).toEqual(['logout_token']);
  return form.get('logout_token')!;
}

/**
 * A logout token checked as a client checks it (§2.6): our JWKS, the client's algorithm, `typ`
 * `logout+jwt`, our issuer, the client as audience, the event, `sid` and `sub`, no `nonce`, at
 * most two minutes; its claims.
 */
export async function checkLogoutToken(
  token: string,
  expected: { aud: string; sid: string; sub: string; alg: 'RS256' | 'EdDSA' | 'ES256' },
): Promise<JWTPayload> {
  const jwks = createLocalJWKSet((await (await api('/.well-known/jwks.json')).json()) as JSONWebKeySet);
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer: ORIGIN,
    audience: expected.aud,
    typ: 'logout+jwt',
    algorithms: [expected.alg],
    requiredClaims: ['iat', 'exp', 'jti', 'sub', 'sid', 'events'],
  });
  expect(protectedHeader).toMatchObject({ alg: expected.alg, typ: 'logout+jwt', kid: expect.any(String) });
  expect(payload).toMatchObject({ sub: expected.sub, sid: expected.sid, aud: expected.aud, iss: ORIGIN });
  expect(payload.events).toEqual({ [LOGOUT_EVENT]: {} });
  expect(payload).not.toHaveProperty('nonce');
  expect(payload.exp! - payload.iat!).toBeGreaterThan(0);
  expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(120);
  expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(60);
  return payload;
}

/** The queued logouts delivered (200), and each receiver's token checked: the tokens by receiver URL. */
export async function deliveredTokens(queued: QueuedMessage[]): Promise<Map<string, string[]>> {
  const { received, result } = await deliver(logoutsOf(queued));
  expect(result.retryMessages).toEqual([]);
  const tokens = new Map<string, string[]>();
  for (const got of received) tokens.set(got.url, [...(tokens.get(got.url) ?? []), logoutTokenOf(got)]);
  return tokens;
}
