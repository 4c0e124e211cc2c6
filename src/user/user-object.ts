/**
 * @module
 * `UserSessions`: the Durable Object that owns one user (one object per user, named
 * `<identity source>:<user id>`): the user's sessions and refresh families (`session-store.ts`),
 * the user's passkeys with their ceremonies' challenges (`passkey-store.ts`), and what the
 * OpenID Provider keeps: authorization codes, single sign-on cookies (`oidc-store.ts`). Every check
 * that a session is alive, every refresh and every revocation is answered here, so it is
 * strongly consistent and sharded per user: no table that every login shares is read or written
 * on a login's path. The class keeps its name from when it held only sessions: Durable Object
 * classes are bound by name in existing deployments.
 *
 * Each verb decides and writes in one synchronous step (SQLite calls are synchronous), so
 * concurrent calls cannot interleave: of two refreshes of one token exactly one rotates it. An
 * alarm at the earliest end forgets ended sessions, expired challenges and codes, and empties the
 * storage once nothing is left: no session, no passkey, no challenge, no code. Only a verb that
 * writes (a session started, a ceremony's challenge) makes the tables, and it sets that alarm; a
 * verb that only reads answers "nothing" from an object without tables and makes none.
 *
 * The pages watching their sessions are hibernatable WebSockets of this object (`watchers.ts`):
 * whenever a session ends, for whatever reason, they hear it at once; meanwhile they cost nothing.
 *
 * The verbs that decide a security event (a session started or ended, a reused refresh token, a
 * passkey added or removed) record it in the same step, in `activity-store.ts`, and hand the
 * same event to the operator's audit log (the `AUDIT` queue) after their answer: one writer per
 * fact. Events decided in the Worker (a wrong password, a refused passkey) come through `note`.
 * The user's events outlive their sessions (90 days at most), so the alarm empties the storage
 * once they too have aged out.
 *
 * It runs over 400 lines: it is the one place that lists every verb of the user's object
 * (sessions, passkeys, the OpenID Provider's codes and cookies, the watching pages, activity),
 * each a few lines over its store; the stores hold the work.
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import { AlarmClock } from '../http/alarm-clock';
import type { NewPasskey, PasskeyKey, PasskeyUse } from '../passkeys/webauthn';
import { lifetimes } from '../tokens/lifetimes';
import {
  ACTIVITY_MS,
  ACTIVITY_SCHEMA,
  type ActivityDraft,
  type ActivityEvent,
  ActivityStore,
  type ActorRef,
  forwardToAudit,
  newEvent,
  type SignOutCause,
  signOutEvents,
  type Where,
  whereFrom,
} from './activity-store';
import { OidcStore } from './oidc-store';
import type { BrowserSession, CodeExchange, CodePresented, NewCode } from './oidc-types';
import {
  type AddOutcome,
  type ChallengePurpose,
  type ExpectedChallenge,
  type IssuedChallenge,
  PASSKEY_SCHEMA,
  type PasskeyInfo,
  PasskeyStore,
  type UseOutcome,
} from './passkey-store';
import { RefreshFamilies } from './refresh-families';
import { SessionStore } from './session-store';
import { addMissingColumns, SESSION_SCHEMA } from './session-tables';
import type {
  EndedSession,
  ImportedSession,
  NewSession,
  RefreshOutcome,
  SessionInfo,
  SessionListing,
  SignInFrom,
  UserRef,
} from './types';
import { acceptWatcher, closeWatcher, readWatchRequest, tellWatchers, watchersFull, watchRefused } from './watchers';

/**
 * A user who has a passkey adds or removes one only from a session that signed in this
 * recently: otherwise a phone session someone else picks up could swap in a passkey of theirs
 * and pass every step-up.
 */
export const RECENT_SIGN_IN_MS = 10 * 60_000;

export class UserSessions extends DurableObject<Env> {
  /** Whether the tables exist in this instance's storage (false again after the storage is emptied). */
  #ready = false;
  readonly #alarm = new AlarmClock(this.ctx.storage);
  readonly #sessions = new SessionStore(
    () => this.#sql,
    () => this.ctx.storage.kv,
    () => lifetimes(this.env),
    // Read when a browser's session ends, long after both stores are made.
    (sid) => this.#oidc.clientsOf(sid),
    (sid, reason) => tellWatchers(this.ctx, sid, reason),
  );
  readonly #refresh = new RefreshFamilies(
    () => this.#sql,
    this.#sessions,
    () => lifetimes(this.env),
  );
  readonly #passkeys = new PasskeyStore(() => this.#sql);
  readonly #oidc = new OidcStore(
    () => this.#sql,
    this.#sessions,
    () => lifetimes(this.env).accessTtlSeconds * 1000,
  );
  readonly #activity = new ActivityStore(() => this.#sql);

  /** The tables, made by the first verb that writes (one that starts a session or a ceremony). */
  get #sql(): SqlStorage {
    if (!this.#ready) this.#makeTables();
    return this.ctx.storage.sql;
  }

  #makeTables(): void {
    this.ctx.storage.sql.exec(SESSION_SCHEMA + PASSKEY_SCHEMA + ACTIVITY_SCHEMA);
    addMissingColumns(this.ctx.storage.sql);
    this.#ready = true;
  }

  /**
   * Whether this object stores anything. A verb that only reads asks first and answers "nothing"
   * for an object without tables (never used, or emptied by its alarm): a revoked device's
   * request, or a junk refresh token naming the object, must not make tables that no alarm
   * would ever clean up again.
   */
  get #stored(): boolean {
    if (this.#ready) return true;
    const found = this.ctx.storage.sql
      .exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sessions'")
      .toArray();
    if (found.length === 0) return false;
    // Tables an earlier version made are brought up to date (storage that exists already).
    this.#makeTables();
    return true;
  }

  /** `read()` when the object stores anything, else `nothing` (and nothing is written). */
  #read<T>(nothing: T, read: () => T): T {
    return this.#stored ? read() : nothing;
  }

  // ---------------------------------------------------------------- sessions

  /**
   * Starts a session for a login, and says which sessions it ended to stay within
   * `MAX_SESSIONS` (the least recently used first). With `approver`, only while that session is
   * alive: a login whose approver was signed out between the confirm and the hand-out gets no
   * session (null).
   */
  async start(init: NewSession): Promise<{ session: SessionInfo; ended: EndedSession[] } | null> {
    await this.#alarm.know();
    const started = this.#sessions.start(init, Date.now());
    if (!started) return null;
    const via = init.typed ? 'code' : init.via;
    const detail: ActivityDraft['detail'] = { via };
    if (init.clientId) detail.client_id = init.clientId;
    // The phone names the client by its registered name, as the linked devices do.
    if (init.clientId && init.clientName) detail.client_name = init.clientName;
    this.#record(
      [
        { kind: 'sign_in', sid: started.info.sid, ...whereFrom(init.from), detail },
        // A user keeps at most MAX_SESSIONS: the least recently used ended to make room.
        ...this.#signedOut({ by: 'limit' }).filter((e) => e.sid && started.ended.some((x) => x.sid === e.sid)),
      ],
      init.user,
    );
    await this.#alarm.by(started.endsAt);
    return { session: started.info, ended: started.ended };
  }

  /** Takes over a session of the last version's D1 table (see `legacy.ts`); false if it already ended. */
  async adopt(session: ImportedSession): Promise<boolean> {
    await this.#alarm.know();
    if (!this.#sessions.adopt(session, Date.now())) return false;
    await this.#alarm.by(session.ends_at);
    return true;
  }

  /** The live session `sid` (each authenticated request asks), marked used at most every ten minutes. */
  check(sid: string): SessionInfo | null {
    return this.#read(null, () => this.#sessions.check(sid, Date.now()));
  }

  /** Whether refreshes are limited (`RATE_LIMIT=off` turns every limit off, for load tests). */
  get #limited(): boolean {
    return this.env.RATE_LIMIT !== 'off';
  }

  /** Rotates a refresh token of the family `family` (`RefreshFamilies`); a reused one ends its session tree. */
  refresh(
    hash: string,
    nextHash: string,
    clientId: string | null,
    family: string | null = null,
    from: SignInFrom | null = null,
    /** The DPoP key the refresh proved (null: none). */
    jkt: string | null = null,
  ): RefreshOutcome {
    if (!this.#stored) return { ok: false, reason: 'unknown', revoked: [] };
    const outcome = this.#refresh.refresh(hash, nextHash, family, clientId, Date.now(), this.#limited, jkt);
    if (!outcome.ok && outcome.reason === 'reused') {
      // Theft: where the reused token came from, and the sessions it ended.
      const root = outcome.revoked[0]?.sid;
      const ended = this.#signedOut({ by: 'reuse' }, root);
      const session = ended.find((e) => e.sid === root);
      this.#record([
        {
          kind: 'refresh_token_reused',
          ...(root ? { sid: root } : {}),
          ...(from ? whereFrom(from) : {}),
          detail: { session_device: session?.device ?? null },
        },
        ...ended,
      ]);
    }
    if (!outcome.ok && outcome.revoked.length > 0) this.#emptyIfNothingLeft();
    return outcome;
  }

  /**
   * Before a refresh that asks D1 first: the live session whose current refresh token has this
   * hash, for `clientId`, and the seconds it must wait for its refresh rate (0: none); or null.
   */
  refreshable(
    hash: string,
    clientId: string | null,
    jkt: string | null = null,
  ): { session: SessionInfo; retryAfter: number } | null {
    return this.#read(null, () => this.#refresh.refreshable(hash, clientId, Date.now(), this.#limited, jkt));
  }

  /** The live session whose current refresh token has this hash (introspection), or null. */
  sessionOfRefresh(hash: string): (SessionInfo & { issued_at: number; expires_at: number }) | null {
    return this.#read(null, () => this.#refresh.sessionOfRefresh(hash, Date.now()));
  }

  /** Signs out the session whose refresh token (current, rotated, or older of its family) has this hash; the sessions ended. */
  revokeByRefresh(hash: string, clientId: string | null, family: string | null = null): EndedSession[] {
    if (!this.#stored) return [];
    const sid = this.#refresh.sidOfRefresh(hash, family);
    const client = sid ? this.#sessions.clientOf(sid) : undefined;
    // RFC 7009 §2.1: a client revokes only its own tokens (a page's session has no client).
    if (!sid || client === undefined || (clientId !== null && client !== clientId)) return [];
    return this.revoke(sid);
  }

  /** Signs out `sid` and every session it approved, and theirs in turn, said to be by `cause`: the sessions that ended. */
  revoke(sid: string, cause: SignOutCause = { by: 'self' }): EndedSession[] {
    const ended = this.#read<EndedSession[]>([], () => {
      // The device that signs `sid` out, named before anything ends (it may be in the tree).
      const by = cause.by === 'device' && cause.sid ? this.#sessions.live(cause.sid, Date.now()) : null;
      const tree = this.#sessions.revokeTree(sid);
      this.#record(this.#signedOut(cause, sid, by?.user_agent), null);
      return tree;
    });
    if (ended.length > 0) this.#emptyIfNothingLeft();
    return ended;
  }

  /**
   * The account was found disabled or deleted: every session of it ends at once, so none of them
   * approves a login any more (a hand-out needs a live approver). The sessions that ended.
   */
  closeAccount(): EndedSession[] {
    const ended = this.#read<EndedSession[]>([], () => {
      const all = this.#sessions.revokeAll();
      this.#record(this.#signedOut({ by: 'disabled' }));
      return all;
    });
    if (ended.length > 0) this.#emptyIfNothingLeft();
    return ended;
  }

  /**
   * An admin disabled the account (`actor`): every session of it ends at once, and the event says
   * who did it. The sessions that ended.
   */
  async disable(user: ActorRef, actor: ActorRef, where: Where): Promise<EndedSession[]> {
    await this.#alarm.know();
    const all = this.#read<EndedSession[]>([], () => this.#sessions.revokeAll());
    this.#record([{ kind: 'account_disabled', actor, ...where }, ...this.#signedOut({ by: 'disabled', actor })], user);
    if (all.length > 0) this.#emptyIfNothingLeft();
    return all;
  }

  /** The user's live sessions, most recently used first (at most `MAX_SESSIONS`; a browser's grants listed under it). */
  list(currentSid: string | null): SessionListing[] {
    return this.#read([], () => this.#oidc.grouped(this.#sessions.list(currentSid, Date.now())));
  }

  /** The user as last signed in (for webhooks about a session), or null for a user with no session. */
  user(): UserRef | null {
    return this.#sessions.user();
  }

  // ---------------------------------------------------------------- pages watching their sessions (see watchers.ts)

  /**
   * A page watching its session (the Worker checked its access token): a hibernatable socket
   * tagged with the session, accepted only while the session is alive, at most
   * `MAX_WATCHERS_PER_SESSION` per session. Reads only; an object without tables makes none.
   */
  override async fetch(request: Request): Promise<Response> {
    const sid = readWatchRequest(request);
    if (sid === null) return new Response(null, { status: 404 });
    if (!this.#read(null, () => this.#sessions.live(sid, Date.now()))) return watchRefused('unknown');
    if (watchersFull(this.ctx, sid)) return watchRefused('full');
    return acceptWatcher(this.ctx, sid);
  }

  /** The Worker at the other end sends nothing; anything that came would change nothing. */
  override webSocketMessage(): void {}

  override webSocketClose(socket: WebSocket, code: number): void {
    closeWatcher(socket, code);
  }

  // ---------------------------------------------------------------- the OpenID Provider (see oidc-store.ts)

  /**
   * A browser signs in through `/oauth/authorize`: its session, its cookie and its first code
   * (see `OidcStore`), and the sessions ended to make room for it.
   */
  async startBrowser(
    init: NewSession,
    cookieHash: string,
    code: NewCode,
  ): Promise<{ browser: BrowserSession; ended: EndedSession[] } | null> {
    await this.#alarm.know();
    const started = this.#oidc.startBrowser(init, cookieHash, code, Date.now());
    if (!started) return null;
    this.#record(
      [
        {
          kind: 'sign_in',
          sid: started.browser.sid,
          ...whereFrom(init.from),
          // The browser signed in for this client's request: the event names it.
          detail: { via: init.via, client_id: code.binding.client_id, client_name: code.binding.client_name },
        },
        ...this.#signedOut({ by: 'limit' }).filter((e) => e.sid && started.ended.some((x) => x.sid === e.sid)),
      ],
      init.user,
    );
    await this.#alarm.by(started.alarmAt);
    return { browser: started.browser, ended: started.ended };
  }

  /**
   * Signs out the browser session `sid` with every grant under it (RP-Initiated Logout): only a
   * browser's single sign-on session, never any other session of the user. The sessions ended.
   */
  endBrowser(sid: string): EndedSession[] {
    const isBrowser = this.#read(false, () => {
      const row = this.#sessions.row(sid);
      return row !== null && row.via === 'oidc' && row.client_id === null;
    });
    return isBrowser ? this.revoke(sid) : [];
  }

  /** The live browser session a cookie names, or null. */
  browserSession(cookieHash: string): BrowserSession | null {
    return this.#read(null, () => this.#oidc.browserSession(cookieHash, Date.now()));
  }

  /** A code for the live browser session a cookie names, signed in within `maxAgeMs` ("Continue as", `prompt=none`). */
  async codeForBrowser(cookieHash: string, code: NewCode, maxAgeMs: number | null): Promise<BrowserSession | null> {
    if (!this.#stored) return null;
    await this.#alarm.know();
    const issued = this.#oidc.codeForBrowser(cookieHash, code, maxAgeMs, Date.now());
    if (issued) await this.#alarm.by(issued.alarmAt);
    return issued?.browser ?? null;
  }

  /** The token endpoint exchanges a code: the client's grant starts, or a reused code revokes it. */
  async exchangeCode(
    hash: string,
    presented: CodePresented,
    refresh: { hash: string; family: string },
  ): Promise<CodeExchange> {
    if (!this.#stored) return { ok: false, reason: 'unknown', revoked: [] };
    await this.#alarm.know();
    const { outcome, alarmAt } = this.#oidc.exchange(hash, presented, refresh, Date.now());
    if (alarmAt !== null) await this.#alarm.by(alarmAt);
    if (!outcome.ok && outcome.revoked.length > 0) this.#emptyIfNothingLeft();
    return outcome;
  }

  // ---------------------------------------------------------------- activity

  /** The user's recent security events (the last 100, at most 90 days), newest first. */
  activity(): ActivityEvent[] {
    return this.#read([], () => this.#activity.list(Date.now()));
  }

  /**
   * Records an event that the Worker decided (a wrong password, a refused passkey, an account
   * enabled by an admin) for `user`, with its id and time, and hands it to the audit log.
   */
  async note(user: ActorRef, draft: ActivityDraft): Promise<ActivityEvent> {
    await this.#alarm.know();
    const [event] = this.#record([draft], user);
    return event!;
  }

  /**
   * Session `sid` just proved a passkey (an admin's step-up): noted on the session, and as an
   * event. False when `sid` is not a live session of this user (nothing is written).
   */
  async steppedUp(sid: string, where: Where): Promise<boolean> {
    await this.#alarm.know();
    if (!this.#stored || !this.#sessions.markPasskey(sid, Date.now())) return false;
    this.#record([{ kind: 'admin_step_up', sid, ...where }]);
    return true;
  }

  /** When live session `sid` last proved a passkey (signed in with one, or stepped up since), or null. */
  passkeyAt(sid: string): number | null {
    return this.#read(null, () => this.#sessions.passkeyAt(sid, Date.now()));
  }

  /** The sessions just ended (`takeEnded`) as sign-out events (see `signOutEvents`). */
  #signedOut(cause: SignOutCause, root?: string, byDevice?: string): ActivityDraft[] {
    return signOutEvents(this.#sessions.takeEnded(), cause, root, byDevice);
  }

  /**
   * Writes `drafts` as events of this user (`user`, or the user as last signed in) and hands
   * them to the audit log after the answer; the events.
   */
  #record(drafts: ActivityDraft[], user: ActorRef | null = null): ActivityEvent[] {
    if (drafts.length === 0) return [];
    const now = Date.now();
    const who = user ?? this.#sessions.user() ?? { id: '', username: '' };
    const events = drafts.map((draft) => newEvent(who, draft, now));
    this.#activity.add(events, now);
    // Any alarm already set looks at the events when it rings; without one, set one.
    if (this.#alarm.at === null || this.#alarm.at === undefined) {
      this.ctx.waitUntil(this.#alarm.know().then(() => this.#alarm.by(now + ACTIVITY_MS)));
    }
    this.#forward(events);
    return events;
  }

  /** Queues `events` for the audit log, after the answer (see `forwardToAudit`). */
  #forward(events: ActivityEvent[]): void {
    forwardToAudit(this.env.AUDIT, events, (work) => this.ctx.waitUntil(work));
  }

  // ---------------------------------------------------------------- passkeys

  /**
   * Whether session `sid` may add or remove passkeys: a site's token (no session) and a user
   * without a passkey may; else only a session that signed in within `RECENT_SIGN_IN_MS`.
   */
  #mayChangePasskeys(sid: string | null, now: number): boolean {
    if (sid === null || this.#passkeys.count() === 0) return true;
    const row = this.#sessions.live(sid, now);
    return row !== null && now - row.created_at <= RECENT_SIGN_IN_MS;
  }

  /**
   * A single-use challenge for a passkey ceremony of this user (5 minutes), and the user's
   * passkeys. Null for a registration from a session that may not change passkeys.
   */
  async passkeyChallenge(
    purpose: ChallengePurpose,
    binding: string,
    sid: string | null,
  ): Promise<IssuedChallenge | null> {
    await this.#alarm.know();
    const now = Date.now();
    if (purpose === 'register' && !this.#mayChangePasskeys(sid, now)) return null;
    const issued = this.#passkeys.issue(purpose, binding, now);
    // An object with no alarm (no session: a site's user) forgets its challenge by one; any
    // other forgets it when its alarm comes, and meanwhile the number of challenges is bounded.
    if (this.#alarm.at === null) await this.#alarm.by(issued.expires_at);
    return issued;
  }

  /**
   * Stores a registered passkey, spending the registration challenge bound to `binding`: `stale`
   * when session `sid` may not change passkeys now (checked again here, not only when the
   * options were issued: a registration may come minutes after them). Who `user` is is kept
   * too: a site's user who has no session here is named by it when signing in with the passkey.
   */
  addPasskey(
    passkey: NewPasskey,
    name: string,
    binding: string,
    sid: string | null,
    context: { user?: UserRef; from?: SignInFrom } = {},
  ): AddOutcome {
    // No tables, so no challenge: refused as a spent one is.
    return this.#read({ ok: false, reason: 'challenge' }, () => {
      const now = Date.now();
      if (!this.#mayChangePasskeys(sid, now)) return { ok: false, reason: 'stale' };
      const added = this.#passkeys.add(passkey, name, binding, now);
      if (added.ok && context.user) this.#sessions.remember(context.user);
      if (added.ok) {
        const where = context.from ? whereFrom(context.from) : {};
        this.#record([{ kind: 'passkey_added', ...(sid ? { sid } : {}), ...where, detail: { name } }], context.user);
      }
      return added;
    });
  }

  /** The stored key of this user's passkey `id`, or null. */
  passkey(id: string): PasskeyKey | null {
    return this.#read(null, () => this.#passkeys.key(id));
  }

  /** Records a use of passkey `id` whose assertion held (see `PasskeyStore.use`). */
  usePasskey(id: string, use: PasskeyUse, challenge: ExpectedChallenge | null): UseOutcome {
    return this.#read('unknown', () => this.#passkeys.use(id, use, challenge, Date.now()));
  }

  /** The user's passkeys, most recently used first. */
  passkeys(): PasskeyInfo[] {
    return this.#read([], () => this.#passkeys.list());
  }

  /** Removes passkey `id`: `stale` when `sid` may not change passkeys now, `unknown` when there is no such passkey. */
  removePasskey(
    id: string,
    sid: string | null,
    context: { user?: UserRef; from?: SignInFrom } = {},
  ): 'removed' | 'unknown' | 'stale' {
    if (!this.passkey(id)) return 'unknown';
    if (!this.#mayChangePasskeys(sid, Date.now())) return 'stale';
    const name = this.#passkeys.list().find((p) => p.id === id)?.name ?? null;
    this.#passkeys.remove(id);
    const where = context.from ? whereFrom(context.from) : {};
    this.#record([{ kind: 'passkey_removed', ...(sid ? { sid } : {}), ...where, detail: { name } }], context.user);
    this.#emptyIfNothingLeft();
    return 'removed';
  }

  // ---------------------------------------------------------------- cleaning up

  /** Whether nothing is left to keep: no session, no passkey, no challenge, no code remembered, no recent event. */
  #isEmpty(): boolean {
    return (
      !this.#stored ||
      (this.#sessions.isEmpty() && this.#passkeys.isEmpty() && this.#oidc.isEmpty() && this.#activity.isEmpty())
    );
  }

  /**
   * When the last session is gone (and no passkey is kept), the alarm rings now: it empties the
   * object, or forgets the codes it can and comes back for the rest (codes ring no alarm of their
   * own while a session lives: see `oidc-store.ts`).
   */
  #emptyIfNothingLeft(): void {
    if (!this.#stored || (this.#sessions.isEmpty() && this.#passkeys.isEmpty())) this.#alarm.now();
  }

  /**
   * Forgets ended sessions, rotated-out hashes past their own end, expired challenges and events
   * past 90 days; empties storage once nothing is left (passkeys stay until their user removes them).
   */
  override async alarm(): Promise<void> {
    this.#alarm.rang();
    const now = Date.now();
    const ends = this.#read([], () => {
      const next = [
        this.#sessions.forgetEnded(now),
        this.#passkeys.forgetExpired(now),
        this.#oidc.forgetEnded(now, (sid) => this.#sessions.live(sid, now) !== null),
        this.#activity.forgetOld(now),
      ];
      // Sessions that reached their end are no sign-out of anyone's: no event.
      this.#sessions.takeEnded();
      return next;
    }).filter((at) => at !== null);
    if (ends.length > 0) {
      await this.#alarm.by(Math.min(...ends));
      return;
    }
    // Nobody is signed in and nothing waits: free the storage unless passkeys are kept (the
    // alarm is already spent), with no call in between.
    await this.ctx.blockConcurrencyWhile(async () => {
      if (!this.#isEmpty()) return;
      await this.ctx.storage.deleteAll();
      this.#ready = false;
      this.#oidc.emptied();
    });
  }
}
