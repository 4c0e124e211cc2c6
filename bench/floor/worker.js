/**
 * @module
 * The floor of `npm run bench` (issue 13): a bare Worker, a plain `fetch` handler with no
 * framework, doing the app's whole login with the least the design needs. The same four
 * requests with the same answers (the QR image drawn by the app's own `qrDataUrl`), one
 * SQLite-backed `FloorSession` per login, one session row in the user's `FloorUser` object (its
 * refresh token's hash, as the app's `UserSessions` keeps it since issue 16) and one EdDSA token
 * and refresh token per login, and an EdDSA signature check on each phone request. What the app
 * spends above this is what the app can cut.
 *
 * It is a yardstick, not a product: no rate limits, only the validation a well-behaved client
 * needs, and `POST /api/login` hands any caller a phone token without a password (a benchmark
 * fixture; the app's sign-in happens once per benchmark, not once per login).
 *
 * `FLOOR_WAIT` says who holds the PC's wait: `socket` (the design since issue 18) has the Worker
 * hold it on a WebSocket that the object accepted through the Hibernation API, so the object
 * can be evicted while the PC waits; `held` (the design before) keeps it in the object.
 *
 * With `FLOOR_CONTRACT=on` it also does the two things the contract asks of every login and the
 * bare floor leaves out: each phone request asks the user's object whether its token's session
 * is alive ("a revoked token answers 401 at once"), and the hand-out empties the object with `deleteAll()`
 * ("the object's storage is empty within a minute"). The benchmark measures both floors, so the
 * report can say how much of the app's gap is the contract's and how much is the app's own.
 */
import { qrDataUrl } from '../../src/qr/qr-image.ts';
import { sign, verify } from './jwt.js';

export { FloorSession } from './session.js';
export { FloorUser } from './user.js';

/** @typedef {{ SESSION: DurableObjectNamespace<import('./session.js').FloorSession>,
 *   USER: DurableObjectNamespace<import('./user.js').FloorUser>, DB: D1Database,
 *   SIGNING_KEY: string, QR_TTL_SECONDS: string, TOKEN_TTL_SECONDS: string, FLOOR_CONTRACT?: string,
 *   FLOOR_WAIT?: string }} Env */

/** The user's sessions object, as the app names it. @param {Env} env @param {string} userId */
const userObject = (env, userId) => env.USER.get(env.USER.idFromName(`accounts:${userId}`));

/** 32 random bytes, base64url. */
const randomToken = () =>
  btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/** @param {unknown} body @param {number} [status] */
const json = (body, status = 200) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  });
/** @param {number} status @param {string} error */
const fail = (status, error) => json({ error }, status);

/** @param {string} text */
async function sha256Hex(text) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** @param {Request} request */
function requester(request) {
  const cf = /** @type {{ country?: string, city?: string } | undefined} */ (request.cf);
  return {
    user_agent: (request.headers.get('user-agent') ?? '').slice(0, 512),
    ip: request.headers.get('cf-connecting-ip') ?? '',
    country: cf?.country ?? null,
    city: cf?.city ?? null,
    created_at: new Date().toISOString(),
  };
}

/** The answer of a session call: its view, or its error. @param {{ view?: unknown, error?: string, status?: number }} out */
const answer = (out) => (out.error ? fail(out.status ?? 500, out.error) : json(out.view));

/** @param {Request} request @param {Env} env @param {URL} url */
async function createQr(request, env, url) {
  const id = env.SESSION.newUniqueId();
  const pollToken = randomToken();
  const view = await env.SESSION.get(id).create({
    pollHash: await sha256Hex(pollToken),
    ttlMs: Number(env.QR_TTL_SECONDS) * 1000,
    requester: requester(request),
  });
  const scanUrl = `${url.origin}/confirm?id=${id}`;
  const body = { qrcode_id: id.toString(), poll_token: pollToken, scan_url: scanUrl, img: qrDataUrl(scanUrl), ...view };
  return json(body, 201);
}

/** @param {Response} res */
const readView = (res) => JSON.parse(decodeURIComponent(res.headers.get('x-floor-state') ?? ''));

/**
 * The wait held by the Worker (`FLOOR_WAIT=socket`): the object answers at once, or hands over a
 * hibernatable socket on which the next state comes. A confirmed login is claimed by asking
 * again (the object hands it out once); an expiry is applied the same way.
 * @param {Request} request @param {DurableObjectStub<import('./session.js').FloorSession>} stub
 * @param {{ pollHash: string, after: number | null, waitMs: number }} ask @param {ExecutionContext} ctx
 */
async function waitOnSocket(request, stub, ask, ctx) {
  const call = (/** @type {number} */ wait, /** @type {boolean} */ upgrade) =>
    stub.fetch(
      new Request(`https://floor/status?${ask.after === null ? '' : `after=${ask.after}&`}wait=${wait}`, {
        headers: { 'x-poll-hash': ask.pollHash, ...(upgrade ? { upgrade: 'websocket' } : {}) },
      }),
    );
  const waited = (async () => {
    const res = await call(ask.waitMs, true);
    const socket = res.webSocket;
    if (!socket) return res.json();
    const seen = readView(res);
    const open = seen.status === 'noscan' || seen.status === 'scan-wait-confirm';
    const untilExpiry = open ? Date.parse(seen.expires_at) - Date.now() : Number.POSITIVE_INFINITY;
    const heard = await new Promise((resolve) => {
      const end = (/** @type {unknown} */ x) => {
        clearTimeout(timer);
        try {
          socket.close(1000);
        } catch {}
        resolve(x);
      };
      const expiry = untilExpiry <= ask.waitMs;
      const timer = setTimeout(
        () => end(expiry ? 'expiry' : 'timeout'),
        Math.max(0, Math.min(untilExpiry, ask.waitMs)),
      );
      socket.addEventListener('message', (e) => end(JSON.parse(String(e.data))));
      socket.addEventListener('close', () => end('closed'));
      request.signal.addEventListener('abort', () => end('timeout'));
      socket.accept();
    });
    if (heard === 'timeout') return { view: seen };
    if (typeof heard === 'object' && heard && heard.status !== 'scan-confirm') return { view: heard };
    return (await call(0, false)).json();
  })();
  // A PC that hangs up while the object opens its socket: the wait still runs to its end and closes it.
  ctx.waitUntil(waited.catch(() => null));
  return waited;
}

/**
 * The PC's long-poll; the answer that hands the login out also starts the PC's session in the
 * user's object and signs the PC's tokens.
 * @param {Request} request @param {Env} env @param {URL} url @param {DurableObjectStub<import('./session.js').FloorSession>} stub
 * @param {ExecutionContext} ctx
 */
async function status(request, env, url, stub, ctx) {
  const after = url.searchParams.get('after');
  const wait = Number(url.searchParams.get('wait') ?? 25);
  if ((after !== null && !/^\d{1,15}$/.test(after)) || !(wait >= 0)) return fail(400, 'invalid_request');
  const ask = {
    pollHash: await sha256Hex(request.headers.get('x-poll-token') ?? ''),
    after: after === null ? null : Number(after),
    waitMs: Math.min(wait, 30) * 1000,
  };
  const out =
    env.FLOOR_WAIT === 'socket'
      ? await waitOnSocket(request, stub, ask, ctx)
      : await stub.status(ask.pollHash, ask.after, ask.waitMs);
  if (!out.deliver) return answer(out);
  const { user, requester: pc } = out.deliver;
  const sid = crypto.randomUUID();
  const iat = Math.floor(Date.now() / 1000);
  const exp = iat + Number(env.TOKEN_TTL_SECONDS);
  const objectId = env.USER.idFromName(`accounts:${user.id}`);
  const refreshToken = `${objectId}${randomToken()}`;
  await env.USER.get(objectId).start(
    sid,
    await sha256Hex(refreshToken),
    (iat + 2_592_000) * 1000,
    pc.user_agent,
    pc.ip,
  );
  const claims = { sub: user.id, username: user.username, sid, jti: crypto.randomUUID(), iat, exp };
  return json({ ...out.view, token: await sign(env, claims), refresh_token: refreshToken, user });
}

/**
 * A phone's step: its token checked (signature and claims; with the contract, its session alive
 * in the user's object), then the login's object decides.
 * @param {Request} request @param {Env} env @param {'scan' | 'confirm'} step @param {DurableObjectStub<import('./session.js').FloorSession>} stub
 */
async function phoneStep(request, env, step, stub) {
  const bearer = /^Bearer (\S+)$/.exec(request.headers.get('authorization') ?? '')?.[1];
  const claims = bearer ? await verify(env, bearer) : null;
  if (!claims) return fail(401, 'unauthorized');
  if (env.FLOOR_CONTRACT === 'on' && !(await userObject(env, claims.sub).alive(claims.sid))) {
    return fail(401, 'unauthorized');
  }
  await request.text(); // the body the app reads (a match code, when asked)
  const user = { id: claims.sub, username: claims.username, display_name: claims.username };
  return answer(await (step === 'scan' ? stub.scan(user) : stub.confirm(user)));
}

export default {
  /** @param {Request} request @param {Env} env @param {ExecutionContext} ctx */
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const [, api, collection, id, action, ...rest] = url.pathname.split('/');
    const method = request.method;
    if (api !== 'api' || rest.length) return fail(404, 'not_found');
    if (collection === 'config' && method === 'GET') return json({ floor: true });
    if (collection === 'login' && method === 'POST') {
      const { username = 'floor' } = await request.json();
      const iat = Math.floor(Date.now() / 1000);
      const claims = { sub: `user-${username}`, username, sid: crypto.randomUUID(), jti: crypto.randomUUID(), iat };
      if (env.FLOOR_CONTRACT === 'on') {
        // The phone's own session, which every phone request then asks after.
        await userObject(env, claims.sub).start(
          claims.sid,
          await sha256Hex(randomToken()),
          (iat + 3600) * 1000,
          '',
          '',
        );
      }
      return json({ token: await sign(env, { ...claims, exp: iat + 3600 }) });
    }
    if (collection !== 'qrcodes') return fail(404, 'not_found');
    if (id === undefined && method === 'POST') return createQr(request, env, url);
    let stub;
    try {
      stub = env.SESSION.get(env.SESSION.idFromString(id ?? ''));
    } catch {
      return fail(400, 'invalid_qrcode_id');
    }
    if (action === 'status' && method === 'GET') return status(request, env, url, stub, ctx);
    if ((action === 'scan' || action === 'confirm') && method === 'POST') return phoneStep(request, env, action, stub);
    return fail(404, 'not_found');
  },
};
