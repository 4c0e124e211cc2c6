/**
 * The device flow's endpoints, request by request: metadata, every refusal the RFCs name (each
 * changing nothing), the one-time token under a race, and D1 failing as the token is issued.
 */
import { createExecutionContext, runDurableObjectAlarm, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import type { QueuedEvent } from '../../src/webhooks/events';
import {
  act,
  ageSession,
  api,
  bearer,
  brokenUserSessions,
  createQr,
  login,
  postJson,
  sessionObject,
  status,
  stillPending,
} from '../helpers';
import { newSecret } from '../webhooks/support';
import {
  authorizeDevice,
  CLI_UA,
  CLIENT_ID,
  DEVICE_CODE_GRANT,
  ORIGIN,
  OTHER_CLIENT_ID,
  oauthErrorOf,
  phoneAnswers,
  pollToken,
  postForm,
  qrcodeIdOf,
  storedRecord,
} from './support';

describe('metadata (RFC 8414)', () => {
  it('is the same at both well-known addresses, public and cacheable', async () => {
    const a = await api('/.well-known/oauth-authorization-server');
    const b = await api('/.well-known/openid-configuration');
    expect(a.status).toBe(200);
    expect(a.headers.get('Content-Type')).toMatch(/^application\/json/);
    expect(a.headers.get('Access-Control-Allow-Origin')).toBe('*');
    const body = await a.json();
    expect(await b.json()).toEqual(body);
    expect(body).toEqual({
      issuer: ORIGIN,
      authorization_endpoint: `${ORIGIN}/oauth/authorize`,
      device_authorization_endpoint: `${ORIGIN}/oauth/device_authorization`,
      token_endpoint: `${ORIGIN}/oauth/token`,
      pushed_authorization_request_endpoint: `${ORIGIN}/oauth/par`,
      userinfo_endpoint: `${ORIGIN}/oauth/userinfo`,
      revocation_endpoint: `${ORIGIN}/oauth/revoke`,
      introspection_endpoint: `${ORIGIN}/oauth/introspect`,
      end_session_endpoint: `${ORIGIN}/oauth/end_session`,
      jwks_uri: `${ORIGIN}/.well-known/jwks.json`,
      grant_types_supported: ['authorization_code', DEVICE_CODE_GRANT, 'refresh_token'],
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      code_challenge_methods_supported: ['S256'],
      dpop_signing_alg_values_supported: ['ES256', 'EdDSA', 'Ed25519'],
      scopes_supported: ['openid', 'profile', 'offline_access'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256', 'EdDSA'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
      claims_supported: [
        'iss',
        'sub',
        'aud',
        'exp',
        'iat',
        'auth_time',
        'nonce',
        'at_hash',
        'sid',
        'name',
        'preferred_username',
      ],
      prompt_values_supported: ['none', 'login', 'consent'],
      request_parameter_supported: false,
      request_uri_parameter_supported: false,
      require_pushed_authorization_requests: false,
      authorization_response_iss_parameter_supported: true,
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
    });
  });
});

describe('the OpenAPI document', () => {
  it('describes the OAuth endpoints with the form schemas that validate them and RFC 6749 errors', async () => {
    type Op = { requestBody?: { content: Record<string, { schema: { required: string[] } }> }; responses: object };
    const { paths } = (await (await api('/api/openapi.json')).json()) as { paths: Record<string, { post?: Op }> };
    const form = (path: string) =>
      paths[path]?.post?.requestBody?.content['application/x-www-form-urlencoded']?.schema.required;
    expect(form('/oauth/device_authorization')).toEqual(['client_id']);
    // Which of the other parameters a grant needs is said per grant (and checked by the endpoint).
    expect(form('/oauth/token')).toEqual(['grant_type']);
    expect(form('/oauth/revoke')).toEqual(['token']);
    expect(form('/oauth/introspect')).toEqual(['token']);
    expect(paths['/oauth/token']?.post?.responses).toMatchObject({
      400: { content: { 'application/json': { schema: { required: ['error', 'error_description'] } } } },
      401: { content: { 'application/json': { schema: { properties: { error: { enum: ['invalid_client'] } } } } } },
    });
  });
});

describe('POST /oauth/device_authorization', () => {
  it('starts a QR login the phone scans or types, and records the client and the device', async () => {
    const auth = await authorizeDevice();
    expect(auth.device_code).toMatch(/^[0-9a-f]{64}\.[A-Za-z0-9_-]{43}$/);
    // The secret half of the device code is stored only as its SHA-256.
    const rec = await storedRecord(auth);
    expect(rec).toMatchObject({
      status: 'noscan',
      device: { client_id: CLIENT_ID, interval_s: 5, last_poll_at: null },
      requester: { user_agent: CLI_UA },
    });
    expect(JSON.stringify(rec)).not.toContain(auth.device_code.split('.')[1]);
    // Typing the user code at /link finds the same session.
    const { token } = await login();
    const resolved = await postJson('/api/codes/resolve', { user_code: auth.user_code.toLowerCase() }, bearer(token));
    expect(await resolved.json()).toEqual({ qrcode_id: qrcodeIdOf(auth) });
  });

  it('answers with Cache-Control: no-store', async () => {
    const res = await postForm('/oauth/device_authorization', { client_id: CLIENT_ID });
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(res.headers.get('Content-Type')).toBe('application/json; charset=utf-8');
  });

  const refusals: [string, () => Promise<Response>, number, string][] = [
    [
      'a client not in OAUTH_CLIENTS',
      () => postForm('/oauth/device_authorization', { client_id: 'stranger' }),
      401,
      'invalid_client',
    ],
    ['no client_id', () => postForm('/oauth/device_authorization', { scope: 'profile' }), 400, 'invalid_request'],
    ['an empty client_id', () => postForm('/oauth/device_authorization', 'client_id='), 400, 'invalid_request'],
    [
      'a repeated client_id',
      () => postForm('/oauth/device_authorization', `client_id=${CLIENT_ID}&client_id=${CLIENT_ID}`),
      400,
      'invalid_request',
    ],
    ['a JSON body', () => postJson('/oauth/device_authorization', { client_id: CLIENT_ID }), 400, 'invalid_request'],
    [
      'no Content-Type',
      () => api('/oauth/device_authorization', { method: 'POST', body: `client_id=${CLIENT_ID}` }),
      400,
      'invalid_request',
    ],
    [
      'a malformed scope',
      () => postForm('/oauth/device_authorization', { client_id: CLIENT_ID, scope: 'a  "b"' }),
      400,
      'invalid_scope',
    ],
    ['a GET', () => api('/oauth/device_authorization'), 405, 'invalid_request'],
    [
      'a body over 8 KB',
      () => postForm('/oauth/device_authorization', { client_id: CLIENT_ID, scope: 'x'.repeat(9000) }),
      400,
      'invalid_request',
    ],
    [
      'a header over 8 KB',
      () => postForm('/oauth/device_authorization', { client_id: CLIENT_ID }, { 'X-Padding': 'x'.repeat(9000) }),
      400,
      'invalid_request',
    ],
    [
      'a value over 1024 characters',
      () => postForm('/oauth/device_authorization', { client_id: 'c'.repeat(2000) }),
      400,
      'invalid_request',
    ],
  ];
  for (const [what, send, status, error] of refusals) {
    it(`refuses ${what} with ${status} ${error}`, async () => {
      const res = await send();
      expect(await oauthErrorOf(res)).toMatchObject({ status, error, error_description: expect.any(String) });
      expect(res.headers.get('Cache-Control')).toBe('no-store');
    });
  }
});

describe('POST /oauth/token', () => {
  it('refuses bad requests with their RFC error, and none of them counts as a poll', async () => {
    const auth = await authorizeDevice();
    const { device_code } = auth;
    const [id, secret] = device_code.split('.') as [string, string];
    const before = await storedRecord(auth);
    const otherClients = await authorizeDevice(OTHER_CLIENT_ID);
    const pcQr = await createQr();
    const cases: [string, Record<string, string> | string, number, string][] = [
      ['missing grant_type', { device_code, client_id: CLIENT_ID }, 400, 'invalid_request'],
      [
        'unknown grant_type',
        { grant_type: 'password', device_code, client_id: CLIENT_ID },
        400,
        'unsupported_grant_type',
      ],
      ['missing client_id', { grant_type: DEVICE_CODE_GRANT, device_code }, 400, 'invalid_request'],
      [
        'unknown client_id',
        { grant_type: DEVICE_CODE_GRANT, device_code, client_id: 'stranger' },
        401,
        'invalid_client',
      ],
      ['missing device_code', { grant_type: DEVICE_CODE_GRANT, client_id: CLIENT_ID }, 400, 'invalid_request'],
      [
        'repeated device_code',
        `grant_type=${encodeURIComponent(DEVICE_CODE_GRANT)}&client_id=${CLIENT_ID}&device_code=${device_code}&device_code=${device_code}`,
        400,
        'invalid_request',
      ],
      [
        'a made-up device code',
        { grant_type: DEVICE_CODE_GRANT, device_code: 'abc', client_id: CLIENT_ID },
        400,
        'invalid_grant',
      ],
      [
        'an id this Worker never issued',
        { grant_type: DEVICE_CODE_GRANT, device_code: `${'a'.repeat(64)}.${secret}`, client_id: CLIENT_ID },
        400,
        'invalid_grant',
      ],
      [
        'the right id with a wrong secret',
        { grant_type: DEVICE_CODE_GRANT, device_code: `${id}.${'A'.repeat(43)}`, client_id: CLIENT_ID },
        400,
        'invalid_grant',
      ],
      [
        'this code from another client',
        { grant_type: DEVICE_CODE_GRANT, device_code, client_id: OTHER_CLIENT_ID },
        400,
        'invalid_grant',
      ],
      [
        "another client's code",
        { grant_type: DEVICE_CODE_GRANT, device_code: otherClients.device_code, client_id: CLIENT_ID },
        400,
        'invalid_grant',
      ],
      [
        "a PC's QR login with its poll token",
        { grant_type: DEVICE_CODE_GRANT, device_code: `${pcQr.qrcode_id}.${pcQr.poll_token}`, client_id: CLIENT_ID },
        400,
        'invalid_grant',
      ],
    ];
    for (const [what, params, status, error] of cases) {
      const res = await postForm('/oauth/token', params);
      expect(await oauthErrorOf(res), what).toMatchObject({ status, error, error_description: expect.any(String) });
      expect(res.headers.get('Cache-Control'), what).toBe('no-store');
    }
    const json = await postJson('/oauth/token', { grant_type: DEVICE_CODE_GRANT, device_code, client_id: CLIENT_ID });
    expect(await oauthErrorOf(json)).toMatchObject({ status: 400, error: 'invalid_request' });
    expect(await oauthErrorOf(await api('/oauth/token'))).toMatchObject({ status: 405, error: 'invalid_request' });

    // Nothing changed: the stored sessions are as they were, and the client's first poll is still "at once".
    expect(await (await status(pcQr)).json()).toMatchObject({ status: 'noscan', version: 0 });
    expect(await storedRecord(auth)).toEqual(before);
    expect(await storedRecord(otherClients)).toMatchObject({ device: { last_poll_at: null } });
    expect(await oauthErrorOf(await pollToken(device_code))).toMatchObject({ error: 'authorization_pending' });
  });

  it('keeps answering access_denied after the phone cancels, then invalid_grant once the session is cleaned up', async () => {
    const auth = await authorizeDevice();
    await phoneAnswers(auth, 'cancel');
    expect(await oauthErrorOf(await pollToken(auth.device_code))).toMatchObject({
      status: 400,
      error: 'access_denied',
    });
    expect(await oauthErrorOf(await pollToken(auth.device_code))).toMatchObject({ error: 'access_denied' });
    // The cleanup alarm, 30 s after the end, empties the object.
    await ageSession(qrcodeIdOf(auth), 60_000);
    expect(await runDurableObjectAlarm(sessionObject(qrcodeIdOf(auth)))).toBe(true);
    expect(await oauthErrorOf(await pollToken(auth.device_code))).toMatchObject({ error: 'invalid_grant' });
  });

  it('answers expired_token once the code has expired, and the phone can no longer scan it', async () => {
    const auth = await authorizeDevice();
    await ageSession(qrcodeIdOf(auth), 121_000);
    expect(await oauthErrorOf(await pollToken(auth.device_code))).toMatchObject({
      status: 400,
      error: 'expired_token',
    });
    const { token } = await login();
    expect((await act(qrcodeIdOf(auth), 'scan', token)).status).toBe(410);
  });

  it('issues the token once, with no-store, as a JWT for the phone user, and links the device', async () => {
    const auth = await authorizeDevice();
    const phoneToken = await phoneAnswers(auth, 'confirm', ['guang', '222']);
    const res = await pollToken(auth.device_code);
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(res.headers.get('Pragma')).toBe('no-cache');
    const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number };
    expect(body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
      refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{107}$/),
    });
    const me = await api('/api/me', { headers: bearer(body.access_token) });
    expect(await me.json()).toMatchObject({ username: 'guang' });
    // The device is one of the user's linked devices, signed in through the device flow.
    const sessions = (await (await api('/api/sessions', { headers: bearer(phoneToken) })).json()) as {
      via: string;
      user_agent: string;
    }[];
    expect(sessions).toContainEqual(expect.objectContaining({ via: 'device', user_agent: CLI_UA }));
    // Used: the code is gone.
    expect(await oauthErrorOf(await pollToken(auth.device_code))).toMatchObject({
      status: 400,
      error: 'invalid_grant',
    });
    expect(await storedRecord(auth)).toBeNull();
  });

  it('gives exactly one token to two polls racing for one confirmed code', async () => {
    const auth = await authorizeDevice();
    await phoneAnswers(auth, 'confirm');
    const answers = await Promise.all([
      pollToken(auth.device_code),
      pollToken(auth.device_code),
      pollToken(auth.device_code),
    ]);
    const statuses = answers.map((res) => res.status).sort();
    expect(statuses).toEqual([200, 400, 400]);
    for (const res of answers.filter((r) => r.status === 400)) {
      expect(await oauthErrorOf(res)).toMatchObject({ error: 'invalid_grant' });
    }
  });

  it('tells the phone which program asks: the scan answer names the client', async () => {
    const auth = await authorizeDevice();
    const { token } = await login();
    const scan = (await (await act(qrcodeIdOf(auth), 'scan', token)).json()) as Record<string, unknown>;
    expect(scan).toMatchObject({ status: 'scan-wait-confirm', client_id: CLIENT_ID });
    // A QR login of a browser names no client.
    const pc = await createQr();
    expect(await (await act(pc, 'scan', token)).json()).not.toHaveProperty('client_id');
  });

  it('can also be long-polled as a QR login with its secret; whichever collects the login first gets it', async () => {
    const auth = await authorizeDevice();
    const [id, secret] = auth.device_code.split('.') as [string, string];
    const { token } = await login();
    expect((await act(id, 'scan', token)).status).toBe(200);
    const waiting = api(`/api/qrcodes/${id}/status?after=1&wait=10`, { headers: { 'X-Poll-Token': secret } });
    expect(await stillPending(waiting)).toBe(true);
    expect((await act(id, 'confirm', token)).status).toBe(200);
    expect(await (await waiting).json()).toMatchObject({ status: 'scan-confirm', token: expect.any(String) });
    expect(await oauthErrorOf(await pollToken(auth.device_code))).toMatchObject({ error: 'invalid_grant' });
  });

  it("tells the site's backend: login.succeeded with the device's session, the user and the device", async () => {
    const auth = await authorizeDevice();
    await phoneAnswers(auth, 'confirm');
    const sent: QueuedEvent[] = [];
    const queue = { send: async (event: QueuedEvent) => void sent.push(event) } as unknown as Queue<QueuedEvent>;
    const bindings = {
      ...env,
      WEBHOOK_URL: 'https://site.example/hooks',
      WEBHOOK_SECRET: newSecret(),
      WEBHOOKS: queue,
    };
    const ctx = createExecutionContext();
    const req = new Request(`${ORIGIN}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: DEVICE_CODE_GRANT, device_code: auth.device_code, client_id: CLIENT_ID }),
    });
    const res = await app.fetch(req, bindings, ctx);
    await waitOnExecutionContext(ctx);
    const { access_token } = (await res.json()) as { access_token: string };
    expect(sent.map((e) => JSON.parse(e.payload))).toEqual([
      {
        type: 'login.succeeded',
        timestamp: expect.any(String),
        data: {
          qrcode_id: qrcodeIdOf(auth),
          sid: decodeJwt(access_token).sid,
          user: { id: 'u_dong', username: 'dong', display_name: '东东' },
          requester: expect.objectContaining({ user_agent: CLI_UA }),
        },
      },
    ]);
  });

  it('does not lose the login when the user’s sessions object fails as the token is issued: the next poll gets it', async () => {
    const auth = await authorizeDevice();
    await phoneAnswers(auth, 'confirm');
    const req = new Request(`${ORIGIN}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: DEVICE_CODE_GRANT, device_code: auth.device_code, client_id: CLIENT_ID }),
    });
    const failed = await app.fetch(req, { ...env, USER_SESSIONS: brokenUserSessions() });
    expect(failed.status).toBe(503);
    expect(failed.headers.get('Retry-After')).toMatch(/^\d+$/);
    expect(await oauthErrorOf(failed)).toMatchObject({ error: 'temporarily_unavailable' });
    const retry = await pollToken(auth.device_code);
    expect(retry.status).toBe(200);
  });
});
