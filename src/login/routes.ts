/**
 * @module
 * The QR login's routes: the PC creates a code, long-polls its status and may ask for a
 * code to type; the phone scans, confirms or cancels. A login made for an OpenID Connect
 * authorization request hands the browser a code for the client and its single sign-on cookie
 * (`redirect_to`), never a token. Each validates its input, then asks the
 * session's Durable Object, which alone decides.
 */
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { describeRoute } from 'hono-openapi';
import type { AppEnv } from '../http/app-env';
import { inBackground } from '../http/background';
import { jsonBody } from '../http/body';
import { sha256Hex } from '../http/crypto';
import { ApiError } from '../http/errors';
import { answers, bearerAuth } from '../http/openapi';
import { publicOrigin } from '../http/site';
import { input, loginStub } from '../http/validate';
import { requireApprover } from '../identity/require-user';
import { deniedResponse } from '../sessions/sso';
import { dpopProof, provedKey } from '../tokens/dpop';
import { ensureSigningKey } from '../tokens/signing';
import { cancelledOnMismatch, emit } from '../webhooks/events';
import { askLogin } from './call-object';
import { handOut, handOutToBrowser } from './hand-out';
import { longPoll } from './long-poll';
import { phoneContext } from './phone-context';
import { givenProofs, scanContext, withStepUp } from './proofs';
import {
  ConfirmBody,
  CreatedQrAnswer,
  DEFAULT_WAIT_SECONDS,
  PhoneAnswer,
  PollTokenHeader,
  QrcodeIdParam,
  StatusAnswer,
  StatusQuery,
  UserCodeAnswer,
} from './schemas';
import { claimUserCode, qrTtlSeconds, startQrLogin } from './start';
import { formatUserCode, userCodeObject } from './user-code';

/** Resolves `:id` to its login's object, or 400 before any object wakes. */
const withLogin = createMiddleware<AppEnv>(async (c, next) => {
  c.set('login', loginStub(c.env, c.req.param('id') ?? ''));
  await next();
});

/** Why an OpenID Connect client hears `access_denied` when the phone cancels. */
const PHONE_CANCELLED = 'The user cancelled the sign-in on their phone.';

/** The phone session that confirmed was signed out before the PC collected: nobody signs in. */
const APPROVER_GONE = 'The phone that approved this sign-in was signed out before it completed: nobody was signed in.';

const idParam = input('param', QrcodeIdParam);
const pollHeader = input('header', PollTokenHeader);
const pollHash = (c: { req: { header(name: string): string | undefined } }) =>
  sha256Hex(c.req.header('X-Poll-Token') ?? '');

export const qrcodes = new Hono<AppEnv>()
  .post(
    '/',
    describeRoute({
      summary: 'The PC asks for a QR code',
      tags: ['QR login'],
      description:
        'With a `DPoP` proof (RFC 9449), the login is bound to its key: each status poll must prove the same key, and ' +
        'its token is DPoP-bound.',
      responses: answers(201, CreatedQrAnswer, 'The new login: keep `poll_token`, show `img`.', [400, 403, 429, 500]),
    }),
    // With a DPoP proof, the login is bound to its key (checked before the login counts toward the limit).
    async (c) => c.json(await startQrLogin(c, undefined, await provedKey(c)), 201),
  )

  .get(
    '/:id/status',
    describeRoute({
      summary: 'The PC long-polls the state of its QR code',
      description:
        'Answers at once when the login is past `after`, else waits for a change (at most `wait` seconds). ' +
        'In `scan-confirm` the first answer carries the token and ends the login; later ones are 410.',
      tags: ['QR login'],
      responses: answers(200, StatusAnswer, 'The current state.', [400, 401, 410, 429, 503]),
    }),
    idParam,
    pollHeader,
    input('query', StatusQuery),
    withLogin,
    async (c) => {
      const login = c.get('login');
      const { after, wait } = c.req.valid('query');
      // A bound login answers only a poll that proves its key; a proof is checked before the object is asked.
      const jkt = (await dpopProof(c, { resource: true }))?.jkt ?? null;
      const poll = {
        pollHash: await pollHash(c),
        after: after ?? null,
        waitMs: wait ?? DEFAULT_WAIT_SECONDS * 1000,
        jkt,
      };
      // The PC's request: its signal says when it hangs up; the wait's end outlives it.
      const pc = { signal: c.req.raw.signal, keepAlive: (work: Promise<unknown>) => inBackground(c, work) };
      ensureSigningKey(c.env);
      const { deliver, denied, ...view } = await longPoll(login, poll, pc);
      // A login for an OpenID Connect client: the browser goes back to the client, never with a token.
      if (denied) return c.json({ ...view, redirect_to: deniedResponse(c, denied, PHONE_CANCELLED) });
      if (!deliver) return c.json(view);
      if (deliver.oidc) {
        const browser = await handOutToBrowser(c, login, c.req.param('id'), { ...deliver, oidc: deliver.oidc });
        if (!browser) throw new ApiError('qrcode_expired', APPROVER_GONE);
        c.header('Set-Cookie', browser.cookie);
        return c.json({ ...view, redirect_to: browser.redirect_to });
      }
      const signedIn = await handOut(c, login, c.req.param('id'), deliver, { via: 'qrcode' }, jkt);
      // The phone session that confirmed was signed out before the PC collected: nobody signs in.
      if (!signedIn) throw new ApiError('qrcode_expired', APPROVER_GONE);
      const { token, refresh_token, expires_in, user } = signedIn;
      const bound = signedIn.jkt ? { token_type: 'DPoP' as const } : {};
      return c.json({ ...view, token, refresh_token, expires_in, ...bound, user });
    },
  )

  .post(
    '/:id/user-code',
    describeRoute({
      summary: 'The PC asks for a code to type (no camera on the phone)',
      description: 'Made on demand, so a scanned QR costs one object. Asking again answers the same code.',
      tags: ['QR login'],
      responses: answers(200, UserCodeAnswer, 'The code and where to type it.', [400, 401, 409, 410]),
    }),
    idParam,
    pollHeader,
    withLogin,
    async (c) => {
      const stub = c.get('login');
      const hash = await pollHash(c);
      const verificationUrl = `${publicOrigin(c)}/link`;
      const existing = await askLogin(() => stub.userCode(hash));
      if (existing) return c.json({ user_code: formatUserCode(existing), verification_url: verificationUrl });
      const id = c.req.param('id');
      const ttlMs = qrTtlSeconds(c.env) * 1000;
      // The code's object lives at most as long as a login can: the login forgets it earlier.
      const claimed = await claimUserCode(c.env, id, Date.now() + ttlMs);
      const forget = () => userCodeObject(c.env, claimed).forget();
      let code: string;
      try {
        code = await askLogin(() => stub.attachUserCode(hash, claimed));
      } catch (err) {
        await forget().catch(() => undefined);
        throw err;
      }
      if (code !== claimed) await forget().catch(() => undefined);
      return c.json({ user_code: formatUserCode(code), verification_url: verificationUrl });
    },
  )

  .post(
    '/:id/scan',
    describeRoute({
      summary: 'The phone scans: noscan → scan-wait-confirm',
      description:
        'Answers what is asking to sign in, so the phone can show it before the user confirms. ' +
        'When confirming needs a passkey (`CONFIRM_WITH`, fixed by the scan that binds the scanner), the answer carries ' +
        '`step_up` (request options, the challenge bound to this QR; a repeated scan issues a fresh one) and `step_up_reason`.',
      tags: ['QR login'],
      security: bearerAuth,
      responses: answers(200, PhoneAnswer, 'The login, the requester and the phone’s own place.', [400, 401, 409, 410]),
    }),
    idParam,
    withLogin,
    requireApprover,
    async (c) => {
      const context = scanContext(c);
      const view = await askLogin(() => c.get('login').scan(c.get('user'), context));
      return c.json({ ...(await withStepUp(c, c.req.param('id'), view)), ...phoneContext(c, view.requester) });
    },
  )

  .post(
    '/:id/confirm',
    describeRoute({
      summary: 'The scanner confirms: scan-wait-confirm → scan-confirm',
      description:
        'With number matching on, the body carries the `match_code` the PC shows; when the scan asked for a passkey, ' +
        '`passkey`: the assertion (`PublicKeyCredential.toJSON()`) made with user verification. Without it 403 ' +
        '`step_up_required`; a wrong, replayed, expired or another user’s assertion 403 `step_up_failed`: in both cases ' +
        'nothing changes and the phone may try again until the code expires.',
      tags: ['QR login'],
      security: bearerAuth,
      responses: answers(
        200,
        PhoneAnswer,
        'Confirmed: the PC’s next status carries its token.',
        [400, 401, 403, 409, 410],
      ),
    }),
    idParam,
    withLogin,
    requireApprover,
    jsonBody({ optional: true }),
    input('json', ConfirmBody),
    async (c) => {
      const qrcodeId = c.req.param('id');
      const given = await givenProofs(c, qrcodeId, c.req.valid('json'));
      const webhook = cancelledOnMismatch(c, { qrcode_id: qrcodeId, user: c.get('user') });
      return c.json(await askLogin(() => c.get('login').confirm(c.get('user'), given, c.get('sid')).then(webhook)));
    },
  )

  .post(
    '/:id/cancel',
    describeRoute({
      summary: 'The scanner cancels: scan-wait-confirm → scan-cancel',
      tags: ['QR login'],
      security: bearerAuth,
      responses: answers(200, PhoneAnswer, 'Cancelled: nothing was signed in.', [400, 401, 403, 409, 410]),
    }),
    idParam,
    withLogin,
    requireApprover,
    async (c) => {
      const view = await askLogin(() => c.get('login').cancel(c.get('user')));
      emit(c, 'login.cancelled', { qrcode_id: c.req.param('id'), user: c.get('user') });
      return c.json(view);
    },
  );
