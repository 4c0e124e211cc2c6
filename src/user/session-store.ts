/**
 * @module
 * A user's sessions as two tables of that user's own object (`user-object.ts`): `sessions`, one
 * row per signed-in device (how it signed in, which session approved it, where it was, the
 * SHA-256 of its current refresh token, its refresh family and generation, when it ends), and
 * `rotated`, the hashes of each session's refresh tokens rotated out (its verbs, the refresh
 * families, are `refresh-families.ts`). Every verb is synchronous SQL, so the object's single
 * thread makes each one atomic. A session ends in one place, `#forget`, whoever ends it (a
 * sign-out, a reused token, a closed account, the cap of 50, its expiry): that place tells the
 * object (`ended`), which tells the session's watching pages why.
 *
 * It is over 400 lines because every statement that reads or writes the `sessions` table is
 * here, so that a session's end has one place and a new column one file to change.
 */
import { randomToken } from '../http/crypto';
import type { Lifetimes } from '../tokens/lifetimes';
import { endOf, type SessionRow } from './session-tables';
import type {
  EndedSession,
  EndReason,
  ImportedSession,
  NewSession,
  SessionInfo,
  SessionListing,
  SignInMethod,
  UserRef,
} from './types';

/**
 * The most sessions one user keeps: a sign-in past it first ends the least recently used
 * session that approved none (see `start`), so the devices list and the object stay bounded.
 */
export const MAX_SESSIONS = 50;
/** `last_used_at` is written at most this often per session, so a check rarely writes. */
const LAST_USED_GRANULARITY_MS = 10 * 60_000;

/** A session just ended, as its sign-out event names it (see `takeEnded`). */
export interface EndedRow {
  sid: string;
  user_agent: string;
  ip: string;
  place: string | null;
}

const USER_KEY = 'user';

export class SessionStore {
  /** The sessions ended since the last `takeEnded()`: a verb that ends sessions says so in their events. */
  #ended: EndedRow[] = [];

  constructor(
    private readonly sql: () => SqlStorage,
    private readonly kv: () => SyncKvStorage,
    private readonly lifetimes: () => Lifetimes,
    /** The clients a browser's single sign-on session signed in to (`oidc-store.ts` keeps them). */
    private readonly clientsOf: (sid: string) => { client_id: string }[],
    /** Told of every session that ends, and why (the object tells its watching pages). */
    private readonly ended: (sid: string, reason: EndReason) => void = () => {},
  ) {}

  row(sid: string): SessionRow | null {
    return this.sql().exec<SessionRow>('SELECT * FROM sessions WHERE sid = ?', sid).toArray()[0] ?? null;
  }

  byRefresh(hash: string): SessionRow | null {
    return this.sql().exec<SessionRow>('SELECT * FROM sessions WHERE refresh_hash = ?', hash).toArray()[0] ?? null;
  }

  /** The user as last signed in, or null for a user with no session yet. */
  user(): UserRef | null {
    return this.kv().get<UserRef>(USER_KEY) ?? null;
  }

  info(row: SessionRow): SessionInfo {
    return {
      sid: row.sid,
      via: row.via,
      user: this.user() ?? { id: '', username: '', display_name: '' },
      client_id: row.client_id,
      scope: row.scope,
      created_at: row.created_at,
      approver: row.parent,
      jkt: row.jkt ?? null,
    };
  }

  /** The live session `sid`, or null (unknown, revoked, ended). */
  live(sid: string, now: number): SessionRow | null {
    const row = this.row(sid);
    return row && now < endOf(row) ? row : null;
  }

  /**
   * Starts a session for a login; its end, and the sessions it ended to stay within
   * `MAX_SESSIONS`. With `approver`, only while that session is alive: a login whose approver
   * was signed out between the confirm and the hand-out gets none (null).
   */
  start(init: NewSession, now: number): { info: SessionInfo; endsAt: number; ended: EndedSession[] } | null {
    if (init.approver && !this.live(init.approver, now)) return null;
    const ended = this.#makeRoom(init.approver ?? null, now);
    const { refreshTtlMs, sessionMaxMs } = this.lifetimes();
    const endsAt = Math.min(now + sessionMaxMs, init.endsAt ?? Number.POSITIVE_INFINITY);
    const row: SessionRow = {
      // 16 random bytes, base64url (the last version's ids were UUIDs).
      sid: randomToken(16),
      via: init.via,
      parent: init.approver ?? null,
      client_id: init.clientId ?? null,
      client_name: init.clientName ?? null,
      scope: init.scope ?? null,
      user_agent: init.from.user_agent,
      ip: init.from.ip,
      place: init.from.place,
      created_at: init.authTime ?? now,
      last_used_at: now,
      ends_at: endsAt,
      refresh_hash: init.refreshHash,
      refresh_expires_at: init.refreshHash === null ? null : Math.min(now + refreshTtlMs, endsAt),
      refreshed_at: now,
      family: init.family,
      generation: 0,
      jkt: init.jkt ?? null,
    };
    this.#insert(row, init.user);
    return { info: this.info(row), endsAt: endOf(row), ended };
  }

  /**
   * Makes room for one more session: forgets ended ones, then, while `MAX_SESSIONS` are live,
   * ends the least recently used one that approved no live session (its end ends nothing else),
   * never `keep` (the approver of the session to start). The sessions ended.
   */
  #makeRoom(keep: string | null, now: number): EndedSession[] {
    type Seen = Pick<SessionRow, 'sid' | 'parent' | 'last_used_at' | 'created_at' | 'ends_at' | 'refresh_expires_at'>;
    const rows = this.sql()
      .exec<Seen & Record<string, SqlStorageValue>>(
        'SELECT sid, parent, last_used_at, created_at, ends_at, refresh_expires_at FROM sessions',
      )
      .toArray();
    if (rows.length < MAX_SESSIONS) return [];
    for (const row of rows) if (now >= endOf(row)) this.#forget(row.sid, 'expired');
    const live = rows.filter((row) => now < endOf(row));
    const approved = new Map<string, number>();
    for (const row of live) if (row.parent) approved.set(row.parent, (approved.get(row.parent) ?? 0) + 1);
    const idleFirst = (a: Seen, b: Seen) =>
      a.last_used_at - b.last_used_at || a.created_at - b.created_at || (a.sid < b.sid ? -1 : 1);
    const ended: EndedSession[] = [];
    while (live.length >= MAX_SESSIONS) {
      const leaves = live.filter((row) => row.sid !== keep && !approved.get(row.sid));
      const idlest = leaves.sort(idleFirst)[0];
      if (!idlest) break;
      ended.push(...this.#end([idlest.sid], 'too_many'));
      live.splice(live.indexOf(idlest), 1);
      if (idlest.parent) approved.set(idlest.parent, (approved.get(idlest.parent) ?? 1) - 1);
    }
    return ended;
  }

  /** Takes over a session of the last version's D1 table (see `legacy.ts`); false if it already ended. */
  adopt(session: ImportedSession, now: number): boolean {
    if (now >= session.ends_at) return false;
    if (this.row(session.sid)) return true;
    this.#insert(
      {
        sid: session.sid,
        via: session.via,
        parent: null,
        client_id: null,
        client_name: null,
        scope: null,
        ...session.from,
        created_at: session.created_at,
        last_used_at: session.created_at,
        ends_at: session.ends_at,
        refresh_hash: null,
        refresh_expires_at: null,
        refreshed_at: session.created_at,
        family: null,
        generation: 0,
        jkt: null,
      },
      session.user,
    );
    return true;
  }

  #insert(row: SessionRow, user: UserRef): void {
    this.sql().exec(
      `INSERT INTO sessions (sid, via, parent, client_id, client_name, scope, user_agent, ip, place, created_at,
         last_used_at, ends_at, refresh_hash, refresh_expires_at, refreshed_at, family, generation, jkt)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      row.sid,
      row.via,
      row.parent,
      row.client_id,
      row.client_name,
      row.scope,
      row.user_agent,
      row.ip,
      row.place,
      row.created_at,
      row.last_used_at,
      row.ends_at,
      row.refresh_hash,
      row.refresh_expires_at,
      row.refreshed_at,
      row.family,
      row.generation,
      row.jkt,
    );
    this.remember(user);
  }

  /**
   * Keeps who the user is, as the latest sign-in (or a site's token that registers a passkey)
   * named them: the name shown on the devices list, in webhooks, and to a site's user signing in
   * with a passkey. Written only when it changed.
   */
  remember(user: UserRef): void {
    const known = this.user();
    if (known?.username !== user.username || known.display_name !== user.display_name) {
      this.kv().put(USER_KEY, user);
    }
  }

  /** The live session `sid`, marked used at most every ten minutes. */
  check(sid: string, now: number): SessionInfo | null {
    const row = this.live(sid, now);
    if (!row) return null;
    if (now - row.last_used_at >= LAST_USED_GRANULARITY_MS) {
      this.sql().exec('UPDATE sessions SET last_used_at = ? WHERE sid = ?', now, sid);
    }
    return this.info(row);
  }

  /** The client a session signed in to (null for a page's session), or undefined for no such session. */
  clientOf(sid: string): string | null | undefined {
    const row = this.row(sid);
    return row ? row.client_id : undefined;
  }

  /** Ends `sid` and every session it approved, and theirs in turn, for `reason`; the sessions that ended. */
  revokeTree(sid: string, reason: EndReason = 'signed_out'): EndedSession[] {
    if (!this.row(sid)) return [];
    const tree = this.sql()
      .exec<{ sid: string }>(
        `WITH RECURSIVE tree(sid) AS (
           SELECT ? UNION SELECT s.sid FROM sessions s JOIN tree t ON s.parent = t.sid
         ) SELECT sid FROM tree`,
        sid,
      )
      .toArray()
      .map((r) => r.sid);
    return this.#end(tree, reason);
  }

  /** Ends every session of the user (the account was disabled or deleted); the sessions that ended. */
  revokeAll(): EndedSession[] {
    const all = this.sql()
      .exec<{ sid: string }>('SELECT sid FROM sessions')
      .toArray()
      .map((r) => r.sid);
    return this.#end(all, 'disabled');
  }

  /**
   * Ends these sessions (by someone's action, not by time) for `reason`: each with the clients
   * to tell, read before its row goes.
   */
  #end(sids: string[], reason: EndReason): EndedSession[] {
    const ended = sids.map((sid) => this.#endedOf(this.row(sid)!));
    for (const sid of sids) this.#forget(sid, reason);
    return ended;
  }

  /**
   * The clients a session's end concerns, under the sid their id_tokens named: a grant's own
   * client under its browser session (its approver), a browser session's every client under
   * its own; none for any other session.
   */
  #endedOf(row: SessionRow): EndedSession {
    const { sid, user } = this.info(row);
    if (row.via !== 'oidc') return { sid, user, clients: [] };
    if (row.client_id !== null) return { sid, user, clients: [{ client_id: row.client_id, sid: row.parent ?? sid }] };
    return { sid, user, clients: this.clientsOf(sid).map(({ client_id }) => ({ client_id, sid })) };
  }

  /** Ends session `sid` for `reason`: deletes it and the hashes it rotated out, and says so (and notes it for `takeEnded`). */
  #forget(sid: string, reason: EndReason): void {
    const gone = this.sql()
      .exec<EndedRow & Record<string, SqlStorageValue>>(
        'DELETE FROM sessions WHERE sid = ? RETURNING sid, user_agent, ip, place',
        sid,
      )
      .toArray();
    this.#ended.push(...gone.map(({ sid, user_agent, ip, place }) => ({ sid, user_agent, ip, place })));
    this.sql().exec('DELETE FROM rotated WHERE sid = ?', sid);
    this.ended(sid, reason);
  }

  /** The sessions ended since the last call, in the order they ended (and forgets them). */
  takeEnded(): EndedRow[] {
    const ended = this.#ended;
    this.#ended = [];
    return ended;
  }

  /** Notes that live session `sid` just proved a passkey; false when it is not live. */
  markPasskey(sid: string, now: number): boolean {
    if (!this.live(sid, now)) return false;
    this.sql().exec('UPDATE sessions SET passkey_at = ? WHERE sid = ?', now, sid);
    return true;
  }

  /** When live session `sid` last proved a passkey (its passkey sign-in, or a step-up since), or null. */
  passkeyAt(sid: string, now: number): number | null {
    const row = this.live(sid, now);
    if (!row) return null;
    const { at } = this.sql()
      .exec<{ at: number | null }>('SELECT passkey_at AS at FROM sessions WHERE sid = ?', sid)
      .one();
    const times = [row.via === 'passkey' ? row.created_at : null, at].filter((t) => t !== null);
    return times.length > 0 ? Math.max(...times) : null;
  }

  /** Whether no session is left. */
  isEmpty(): boolean {
    return this.sql().exec('SELECT 1 FROM sessions LIMIT 1').toArray().length === 0;
  }

  /**
   * The user's live sessions, most recently used first: at most `MAX_SESSIONS` (an object from
   * before the cap may hold more until its next sign-in makes room).
   */
  list(currentSid: string | null, now: number): SessionListing[] {
    const iso = (ms: number) => new Date(ms).toISOString();
    return this.sql()
      .exec<SessionRow>(
        `SELECT * FROM sessions WHERE ends_at > ? AND (refresh_expires_at IS NULL OR refresh_expires_at > ?)
         ORDER BY last_used_at DESC, created_at DESC, sid LIMIT ?`,
        now,
        now,
        MAX_SESSIONS,
      )
      .toArray()
      .map((row) => ({
        sid: row.sid,
        created_at: iso(row.created_at),
        last_used_at: iso(row.last_used_at),
        via: row.via as SignInMethod,
        user_agent: row.user_agent,
        ip: row.ip,
        place: row.place,
        current: row.sid === currentSid,
        // A device-flow session is named by its client, not by the User-Agent of a CLI's HTTP library.
        ...(row.via === 'device' && row.client_id
          ? { clients: [{ client_id: row.client_id, client_name: row.client_name ?? row.client_id }] }
          : {}),
      }));
  }

  /** Forgets ended sessions and rotated-out hashes past their own end; the next end, or null. */
  forgetEnded(now: number): number | null {
    const ended = this.sql()
      .exec<SessionRow>('SELECT * FROM sessions')
      .toArray()
      .filter((row) => now >= endOf(row))
      .map((row) => row.sid);
    for (const sid of ended) this.#forget(sid, 'expired');
    this.sql().exec('DELETE FROM rotated WHERE expires_at <= ?', now);
    return this.sql()
      .exec<{ at: number | null }>(
        'SELECT MIN(MIN(ends_at, COALESCE(refresh_expires_at, ends_at))) AS at FROM sessions',
      )
      .one().at;
  }
}
