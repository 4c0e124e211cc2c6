/**
 * @module
 * The QR login session's routes: the PC creates a code and long-polls its status; the
 * phone scans, confirms or cancels. Each validates its input, then asks the session's
 * Durable Object, which alone decides.
 */
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { openSession } from '../accounts/devices';
import type { AppEnv } from '../app-env';
import { requireUser } from '../auth/require-user';
import { randomToken, sha256Hex } from '../crypto';
import { ApiError, UnavailableError } from '../errors';
import { LIMITS, rateLimited, spend } from '../limits/limits';
import { qrDataUrl } from '../qr/qr-image';
import { clientIp, deviceOf } from '../request-info';
import { startSession } from '../session/start';
import type { Outcome } from '../session/state';
import { ensureSigningKey, issueToken, tokenTtlSeconds } from '../tokens/signing';
import { afterParam, jsonBody, pollToken, sessionStub, waitParam } from '../validate';

/**
 * The value of a session object's answer, or the API error it stands for. An object that
 * fails mid-call (reset, evicted with the request in flight, overloaded) is a 503: its state
 * is in storage, so the client's retry continues where it was.
 */
async function ask<T>(call: Promise<Outcome<T>>): Promise<T> {
  let outcome: Outcome<T>;
  try {
    outcome = await call;
  } catch (err) {
    throw new UnavailableError(`session object: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (outcome.ok) return outcome.value;
  if (outcome.error === 'rate_limited') throw rateLimited(outcome.retryAfter ?? 1);
  throw new ApiError(outcome.error);
}

/** Resolves `:id` to its session object, or 400 before any object wakes. */
const withSession = createMiddleware<AppEnv>(async (c, next) => {
  c.set('session', sessionStub(c.env, c.req.param('id') ?? ''));
  await next();
});

export const qrcodes = new Hono<AppEnv>()
  .post('/', async (c) => {
    await spend(c.env, LIMITS.createQrcode, clientIp(c));
    const token = randomToken(32);
    const started = await startSession(c, { pollHash: await sha256Hex(token), userCode: true });
    return c.json(
      {
        qrcode_id: started.qrcodeId,
        poll_token: token,
        scan_url: started.scanUrl,
        img: qrDataUrl(started.scanUrl),
        user_code: started.userCode,
        verification_url: started.verificationUrl,
        status: started.view.status,
        version: started.view.version,
        expires_at: started.view.expires_at,
      },
      201,
    );
  })

  .get('/:id/status', withSession, async (c) => {
    const stub = c.get('session');
    const token = pollToken(c);
    const after = afterParam(c.req.query('after'));
    const waitMs = waitParam(c.req.query('wait'));
    // Check the key before the object hands the token out: a misconfigured Worker must not
    // end a session whose token it then cannot sign.
    ensureSigningKey(c.env);
    const { deliver, ...view } = await ask(stub.status(await sha256Hex(token), after, waitMs));
    if (!deliver) return c.json(view);
    try {
      const sid = await openSession(c.env, deliver.user, 'qrcode', deviceOf(deliver.requester), tokenTtlSeconds(c.env));
      return c.json({ ...view, token: await issueToken(c, deliver.user, sid), user: deliver.user });
    } catch (err) {
      // The session object already handed the login out: give it back, so the PC's retry
      // (it gets a 503 with Retry-After) still signs in.
      await stub.undeliver().catch(() => false);
      throw err;
    }
  })

  .post('/:id/scan', withSession, requireUser, async (c) => {
    const stub = c.get('session');
    return c.json(await ask(stub.scan(c.get('user'))));
  })

  .post('/:id/confirm', withSession, requireUser, async (c) => {
    const stub = c.get('session');
    const body = await jsonBody(c, true);
    const match = body.match_code;
    if (match !== undefined && (typeof match !== 'string' || !/^\d{2}$/.test(match))) {
      throw new ApiError('invalid_request', '`match_code` must be two digits.');
    }
    return c.json(await ask(stub.confirm(c.get('user'), match)));
  })

  .post('/:id/cancel', withSession, requireUser, async (c) => {
    const stub = c.get('session');
    return c.json(await ask(stub.cancel(c.get('user'))));
  });
