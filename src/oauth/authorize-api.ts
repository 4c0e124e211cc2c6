/**
 * @module
 * The authorize page's JSON API (`/api/authorize`), for this Worker's own page only (the
 * cross-site guard): the page sends the authorize request's parameters and gets its QR login
 * and an `authorization` (the validated request, signed, ten minutes) to carry to the other
 * steps: a fresh QR when one expires, "Continue as" (a code for the browser's single sign-on
 * session, no scan), a passkey from the phone (the phishing-resistant path, `IDENTITY=accounts`:
 * the browser signs in as the QR would have it, and gets a code), and Cancel. Every way out is
 * `{ redirect_to }`: the page goes there with `location.replace`. The code itself comes from the
 * QR login's status answer (`login/routes.ts`), from "Continue as" or from the passkey; no token
 * of the user ever reaches the page.
 */
import { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import * as v from 'valibot';
import type { AppEnv } from '../http/app-env';
import { jsonBody } from '../http/body';
import { ApiError } from '../http/errors';
import { answers } from '../http/openapi';
import { ownPagesOnly } from '../http/origin-guard';
import { requester, signInFrom } from '../http/request-info';
import { input } from '../http/validate';
import { identityMode } from '../identity';
import { CreatedQrAnswer } from '../login/schemas';
import { startQrLogin } from '../login/start';
import { passkeyAccount } from '../passkeys';
import {
  browserSession,
  clearedSsoCookie,
  continueAs,
  deniedResponse,
  hasSsoCookie,
  satisfies,
  signInBrowser,
} from '../sessions/sso';
import { oidcLogin, readAuthorization, refusalResponse, signAuthorization, silentAnswer } from './authorize';
import { AuthorizeRefusal, type CheckedRequest, checkAuthorizeRequest, UntrustedRequest } from './authorize-request';
import { AuthorizationBody, AuthorizeParams, PasskeyAuthorizationBody } from './schemas';

const TAGS = ['OpenID Provider: the authorize page'];

const PAGE_CANCELLED = 'The user cancelled the sign-in.';
const TOO_OLD = 'The sign-in request is older than 10 minutes: the site may start it again.';

const RedirectAnswer = v.object({
  redirect_to: v.pipe(
    v.string(),
    v.description('Where the page goes now (`location.replace`): the client’s redirect URI with a code or an error.'),
  ),
});

const StartAnswer = v.union([
  v.object({
    authorization: v.pipe(v.string(), v.description('Carry it to the other steps; valid 10 minutes.')),
    client_name: v.pipe(v.string(), v.description('“Sign in to <client_name>”.')),
    login: v.pipe(
      v.nullable(CreatedQrAnswer),
      v.description(
        'The QR login, as `POST /api/qrcodes` answers it: poll its status. Null when `continue_as` is offered: ' +
          'a browser that continues needs no QR, and “Use another account” asks `POST /api/authorize/qrcode` for one.',
      ),
    ),
    continue_as: v.pipe(
      v.nullable(v.object({ display_name: v.string() })),
      v.description('This browser’s live sign-in, when it satisfies `prompt` and `max_age`: offer “Continue as”.'),
    ),
  }),
  RedirectAnswer,
]);

const QrAnswer = v.union([v.object({ login: CreatedQrAnswer }), RedirectAnswer]);

export const authorizeApi = new Hono<AppEnv>()
  .post(
    '/',
    describeRoute({
      summary: 'The authorize page starts: its QR login, and whether it may offer “Continue as”',
      description:
        'The body is the authorize request’s parameters (an object of strings; a pushed request is spent here). ' +
        'A request that cannot go back to its client is 400 `invalid_request` (show the message); any other refusal, ' +
        'and `prompt=none`, answer `{ redirect_to }`.',
      tags: TAGS,
      responses: answers(200, StartAnswer, 'The page’s QR login, or where to go now.', [400, 403, 415, 429, 500, 503]),
    }),
    ownPagesOnly,
    jsonBody(),
    input('json', AuthorizeParams),
    async (c) => {
      let checked: CheckedRequest;
      try {
        checked = await checkAuthorizeRequest(c, c.req.valid('json'), 'spend');
      } catch (err) {
        if (err instanceof AuthorizeRefusal) return c.json({ redirect_to: refusalResponse(c, err) });
        if (err instanceof UntrustedRequest) throw new ApiError('invalid_request', err.message);
        throw err;
      }
      if (checked.promptNone) return c.json({ redirect_to: await silentAnswer(c, checked) });
      const [authorization, browser] = await Promise.all([signAuthorization(c, checked.request), browserSession(c)]);
      // A cookie whose session is gone opens nothing: the browser may forget it.
      if (!browser && hasSsoCookie(c)) c.header('Set-Cookie', clearedSsoCookie(c));
      const continue_as =
        browser && satisfies(browser, checked.request) ? { display_name: browser.user.display_name } : null;
      // "Continue as" needs no QR: none is made (no object, no alarm) unless the user asks for another account.
      const login = continue_as ? null : await startQrLogin(c, oidcLogin(checked));
      return c.json({ authorization, client_name: checked.client.client_name, login, continue_as });
    },
  )

  .post(
    '/qrcode',
    describeRoute({
      summary: 'A fresh QR login for the same authorize request (the last one expired)',
      description: 'While the request is under 10 minutes old; after that, `{ redirect_to }` with `access_denied`.',
      tags: TAGS,
      responses: answers(200, QrAnswer, 'The new QR login, or where to go now.', [400, 403, 415, 429, 500, 503]),
    }),
    ownPagesOnly,
    jsonBody(),
    input('json', AuthorizationBody),
    async (c) => {
      const { request, client, expired } = await readAuthorization(c, c.req.valid('json').authorization);
      if (expired) return c.json({ redirect_to: deniedResponse(c, request, TOO_OLD) });
      return c.json({ login: await startQrLogin(c, oidcLogin({ client, request })) });
    },
  )

  .post(
    '/continue',
    describeRoute({
      summary: '“Continue as”: a code for this browser’s live sign-in, no scan',
      description:
        'Needs the single sign-on cookie of a live session that satisfies the request’s `prompt` and `max_age`; ' +
        'otherwise 401 (scan the QR). Past 10 minutes, `{ redirect_to }` with `access_denied`.',
      tags: TAGS,
      responses: answers(
        200,
        RedirectAnswer,
        'Where to go: the client’s redirect URI with the code.',
        [400, 401, 403, 415, 500, 503],
      ),
    }),
    ownPagesOnly,
    jsonBody(),
    input('json', AuthorizationBody),
    async (c) => {
      const { request, client, expired } = await readAuthorization(c, c.req.valid('json').authorization);
      if (expired) return c.json({ redirect_to: deniedResponse(c, request, TOO_OLD) });
      const redirect_to = await continueAs(c, oidcLogin({ client, request }));
      if (!redirect_to) {
        throw new ApiError(
          'unauthorized',
          'This browser has no live sign-in that this request accepts: scan the QR code.',
        );
      }
      return c.json({ redirect_to });
    },
  )

  .post(
    '/passkey',
    describeRoute({
      summary: 'A passkey from the phone (over hybrid) signs this browser in: a code, no scan',
      description:
        'The phishing-resistant path of the authorize page (`IDENTITY=accounts` only): the assertion of ' +
        '`navigator.credentials.get` on the options of `POST /api/passkeys/login/options`, checked as `POST /api/passkeys/login` ' +
        'checks it (401 `invalid_credentials` otherwise, and nothing changes). The browser gets a session of its own ' +
        '(`via: "oidc"`) and its single sign-on cookie, as after a scan, and goes back to the client with a code. ' +
        'Past 10 minutes, `{ redirect_to }` with `access_denied`.',
      tags: TAGS,
      responses: answers(
        200,
        RedirectAnswer,
        'Where to go: the client’s redirect URI with the code.',
        [400, 401, 403, 404, 415, 429, 500, 503],
      ),
    }),
    ownPagesOnly,
    jsonBody(),
    input('json', PasskeyAuthorizationBody),
    async (c) => {
      if (identityMode(c.env) !== 'accounts') {
        throw new ApiError('not_found', 'Accounts are the site’s own here: scan the QR code.');
      }
      const { authorization, assertion } = c.req.valid('json');
      const { request, client, expired } = await readAuthorization(c, authorization);
      if (expired) return c.json({ redirect_to: deniedResponse(c, request, TOO_OLD) });
      const user = await passkeyAccount(c, assertion);
      const login = oidcLogin({ client, request });
      const browser = await signInBrowser(c, user, signInFrom(requester(c)), null, login);
      if (!browser) throw new Error('a passkey sign-in has no approver to lose');
      c.header('Set-Cookie', browser.cookie);
      return c.json({ redirect_to: browser.redirect_to });
    },
  )

  .post(
    '/cancel',
    describeRoute({
      summary: 'The page’s Cancel: back to the client with access_denied',
      tags: TAGS,
      responses: answers(
        200,
        RedirectAnswer,
        'Where to go: the client’s redirect URI with `access_denied`.',
        [400, 403, 415, 500],
      ),
    }),
    ownPagesOnly,
    jsonBody(),
    input('json', AuthorizationBody),
    async (c) => {
      const { request } = await readAuthorization(c, c.req.valid('json').authorization);
      return c.json({ redirect_to: deniedResponse(c, request, PAGE_CANCELLED) });
    },
  );
