/**
 * @module
 * `/api/admin/*`, what `/admin` does: the admin's own state and passkey step-up, finding a user,
 * their sessions and recent activity, signing a session out, disabling and enabling an account,
 * the audit log filtered and paged. Every route is behind `requireAdmin`, every one but the
 * step-up behind a passkey of the last 10 minutes (`guard.ts`). Every action is an event: signing
 * out, disabling and enabling are written by the user's object with the admin as `actor`, like
 * any sign-out; what an admin looked at (`admin_search`, `admin_view`, `admin_audit`) goes to the
 * audit log only. An action that cannot be done says why in words, and changes nothing.
 */
import { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import { cursorText, readCursor, readEvents } from '../activity/audit-log';
import { sendAudit } from '../activity/send';
import type { AppEnv } from '../http/app-env';
import { jsonBody } from '../http/body';
import { ApiError } from '../http/errors';
import { answers, bearerAuth } from '../http/openapi';
import { requester, signInFrom } from '../http/request-info';
import { input } from '../http/validate';
import { type AccountInfo, accountById, findAccounts, setDisabled } from '../identity/accounts';
import { issueStepUp, noteRefusal, relyingPartyOf, verifyStepUp } from '../passkeys';
import { RequestOptionsAnswer } from '../passkeys/schemas';
import { revoked } from '../sessions';
import { type ActorRef, askUser, userSessions, whereFrom } from '../user';
import { ADMIN_PASSKEY_MS, passkeyAt, requireAdmin, requireRecentPasskey } from './guard';
import {
  AdminMeAnswer,
  AdminStepUpBody,
  AuditAnswer,
  AuditQuery,
  DisabledAnswer,
  SearchAnswer,
  SearchQuery,
  StepUpAnswer,
  UserDetailAnswer,
  UserIdParam,
  UserSessionParam,
} from './schemas';

/** Accounts on one page of a search. */
const SEARCH_PAGE = 20;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
/** The admin who acts, as an event names them. */
const actorOf = (user: ActorRef): ActorRef => ({ id: user.id, username: user.username });
/** The step-up's challenge is bound to the admin's session. */
const stepUpBinding = (sid: string) => `admin:${sid}`;

/** The account `id`, or 404 in words. */
async function account(env: AppEnv['Bindings'], id: string): Promise<AccountInfo> {
  const found = await accountById(env, id);
  if (!found) throw new ApiError('not_found', 'There is no account with this id.');
  return found;
}

export const adminRoutes = new Hono<AppEnv>()
  .use(requireAdmin)

  .get(
    '/me',
    describeRoute({
      summary: 'The admin, and until when their passkey lets them act',
      description:
        'For an account of ADMIN_USERS (403 otherwise). `passkey_until` is null when the admin must confirm with a passkey first.',
      tags: ['Admin'],
      security: bearerAuth,
      responses: answers(200, AdminMeAnswer, 'The admin.', [401, 403, 404, 503]),
    }),
    async (c) => {
      const at = await passkeyAt(c);
      const until = at !== null && Date.now() - at <= ADMIN_PASSKEY_MS ? at + ADMIN_PASSKEY_MS : null;
      return c.json({ user: c.get('user'), passkey_at: iso(at), passkey_until: iso(until) });
    },
  )

  .post(
    '/step-up/options',
    describeRoute({
      summary: 'Options to confirm the admin with one of their passkeys',
      description:
        'Request options for `navigator.credentials.get`, the challenge bound to this session (5 minutes, single-use). ' +
        'An admin without a passkey gets empty `allowCredentials`: add one first.',
      tags: ['Admin'],
      security: bearerAuth,
      responses: answers(200, RequestOptionsAnswer, 'Request options.', [401, 403, 404, 503]),
    }),
    async (c) => {
      const sid = c.get('sid') as string;
      return c.json(await issueStepUp(c.env, relyingPartyOf(c), c.get('user'), stepUpBinding(sid)));
    },
  )

  .post(
    '/step-up',
    describeRoute({
      summary: 'Confirm the admin with a passkey: the admin API answers for 10 minutes',
      description:
        'The body is `{ passkey: PublicKeyCredential.toJSON() }`, answering the options of `/step-up/options`. A wrong, ' +
        'replayed, expired or another user’s assertion is 403 `step_up_failed` (and a `step_up_refused` event); nothing changes.',
      tags: ['Admin'],
      security: bearerAuth,
      responses: answers(200, StepUpAnswer, 'Confirmed.', [400, 401, 403, 404, 415, 503]),
    }),
    jsonBody(),
    input('json', AdminStepUpBody),
    async (c) => {
      const user = c.get('user');
      const sid = c.get('sid') as string;
      const refused = noteRefusal(c, user, 'step_up_refused', { for: 'admin' });
      const { passkey } = c.req.valid('json');
      await verifyStepUp(c.env, relyingPartyOf(c), user, stepUpBinding(sid), passkey, refused);
      const where = whereFrom(signInFrom(requester(c)));
      const stub = userSessions(c.env, user.id);
      if (!(await askUser(() => stub.steppedUp(sid, where)))) {
        throw new ApiError('unauthorized', 'This session was signed out: sign in again.');
      }
      return c.json({ passkey_until: new Date(Date.now() + ADMIN_PASSKEY_MS).toISOString() });
    },
  )

  .use(requireRecentPasskey)

  .get(
    '/users',
    describeRoute({
      summary: 'Find accounts: by the beginning of the username (any case), or by id',
      description:
        '`q` at most 64 characters (400 otherwise); empty lists every account. 20 a page, in username order: ' +
        '`after` (the `next` of the page before) gives the next; past the end, an empty page.',
      tags: ['Admin'],
      security: bearerAuth,
      responses: answers(200, SearchAnswer, 'One page of accounts.', [400, 401, 403, 404, 503]),
    }),
    input('query', SearchQuery),
    async (c) => {
      const { q = '', after } = c.req.valid('query');
      const found = await findAccounts(c.env, q.trim(), after ?? null, SEARCH_PAGE);
      const last = found.accounts.at(-1);
      sendAudit(c, actorOf(c.get('user')), { kind: 'admin_search', detail: { q: q.trim() } });
      return c.json({ users: found.accounts, next: found.more && last ? last.username : null });
    },
  )

  .get(
    '/users/:id',
    describeRoute({
      summary: 'One account: its live sessions and its recent activity',
      tags: ['Admin'],
      security: bearerAuth,
      responses: answers(200, UserDetailAnswer, 'The account.', [401, 403, 404, 503]),
    }),
    input('param', UserIdParam, 'not_found'),
    async (c) => {
      const user = await account(c.env, c.req.valid('param').id);
      const stub = userSessions(c.env, user.id);
      const [sessions, activity] = await Promise.all([askUser(() => stub.list(null)), askUser(() => stub.activity())]);
      sendAudit(c, { id: user.id, username: user.username }, { kind: 'admin_view', actor: actorOf(c.get('user')) });
      return c.json({ user, sessions, activity });
    },
  )

  .delete(
    '/users/:id/sessions/:sid',
    describeRoute({
      summary: 'Sign one of an account’s sessions out, with every session it approved',
      description:
        'Each session that ends is a `sign_out` event of the account (`by: admin`, the admin as `actor`), and a `session.revoked` webhook.',
      tags: ['Admin'],
      security: bearerAuth,
      responses: answers(204, null, 'Signed out.', [401, 403, 404, 503]),
    }),
    input('param', UserSessionParam, 'not_found'),
    async (c) => {
      const { id, sid } = c.req.valid('param');
      const user = await account(c.env, id);
      const stub = userSessions(c.env, user.id);
      const ended = await askUser(async () => stub.revoke(sid, { by: 'admin', actor: actorOf(c.get('user')) }));
      if (ended.length === 0)
        throw new ApiError('not_found', 'This account has no such session (it may have ended already).');
      revoked(c, ended);
      return c.body(null, 204);
    },
  )

  .post(
    '/users/:id/disable',
    describeRoute({
      summary: 'Disable an account: it cannot sign in, and every session of it ends at once',
      description:
        'Its phones can no longer approve anything. An `account_disabled` event (the admin as `actor`) and a `sign_out` per ' +
        'session, with `session.revoked` webhooks. An admin cannot disable their own account (403). Disabling a disabled ' +
        'account ends any session left and writes nothing else (`changed: false`).',
      tags: ['Admin'],
      security: bearerAuth,
      responses: answers(200, DisabledAnswer, 'Disabled.', [401, 403, 404, 415, 503]),
    }),
    input('param', UserIdParam, 'not_found'),
    async (c) => {
      const admin = c.get('user');
      const { id } = c.req.valid('param');
      if (id === admin.id) {
        throw new ApiError('forbidden', 'You cannot disable your own account: ask another administrator.');
      }
      const done = await setDisabled(c.env, id, true);
      if (!done) throw new ApiError('not_found', 'There is no account with this id.');
      const { account: user, changed } = done;
      const stub = userSessions(c.env, user.id);
      const where = whereFrom(signInFrom(requester(c)));
      const ref = { id: user.id, username: user.username };
      const ended = changed
        ? await askUser(() => stub.disable(ref, actorOf(admin), where))
        : await askUser(async () => stub.closeAccount());
      revoked(c, ended);
      return c.json({ user, changed, sessions_ended: ended.length });
    },
  )

  .post(
    '/users/:id/enable',
    describeRoute({
      summary: 'Enable a disabled account: it can sign in again',
      description:
        'An `account_enabled` event, the admin as `actor`. Enabling an account that is not disabled writes nothing (`changed: false`).',
      tags: ['Admin'],
      security: bearerAuth,
      responses: answers(200, DisabledAnswer, 'Enabled.', [401, 403, 404, 415, 503]),
    }),
    input('param', UserIdParam, 'not_found'),
    async (c) => {
      const done = await setDisabled(c.env, c.req.valid('param').id, false);
      if (!done) throw new ApiError('not_found', 'There is no account with this id.');
      const { account: user, changed } = done;
      if (changed) {
        const stub = userSessions(c.env, user.id);
        const where = whereFrom(signInFrom(requester(c)));
        await askUser(() =>
          stub.note(
            { id: user.id, username: user.username },
            { kind: 'account_enabled', actor: actorOf(c.get('user')), ...where },
          ),
        );
      }
      return c.json({ user, changed, sessions_ended: 0 });
    },
  )

  .get(
    '/audit',
    describeRoute({
      summary: 'The audit log, newest first, filtered and paged',
      description:
        '`user` (a username, any case), `kind`, `since` (ISO 8601), 50 a page: `cursor` (the `next` of the page before) ' +
        'gives the next; past the end, an empty page. A malformed cursor is 400.',
      tags: ['Admin'],
      security: bearerAuth,
      responses: answers(200, AuditAnswer, 'One page of events.', [400, 401, 403, 404, 503]),
    }),
    input('query', AuditQuery),
    async (c) => {
      const { user, kind, since, cursor } = c.req.valid('query');
      const at = cursor === undefined ? undefined : readCursor(cursor);
      if (at === null)
        throw new ApiError('invalid_request', '`cursor` is not one this log gave: start from the first page.');
      const sinceAt = since === undefined ? undefined : Date.parse(since.length === 10 ? `${since}T00:00:00Z` : since);
      if (sinceAt !== undefined && Number.isNaN(sinceAt))
        throw new ApiError('invalid_request', '`since` is not a real date or time.');
      const page = await readEvents(c.env, {
        ...(user ? { username: user.trim() } : {}),
        ...(kind ? { kind } : {}),
        ...(sinceAt !== undefined ? { since: new Date(sinceAt).toISOString() } : {}),
        ...(at ? { cursor: at } : {}),
      });
      const filters: Record<string, string> = {};
      if (user) filters.user = user.trim();
      if (kind) filters.kind = kind;
      if (since) filters.since = since;
      sendAudit(c, actorOf(c.get('user')), { kind: 'admin_audit', detail: filters });
      return c.json({ events: page.events, next: page.next ? cursorText(page.next) : null });
    },
  );
