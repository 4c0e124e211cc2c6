/**
 * @module
 * A user's sessions as two tables of that user's own object (`user-object.ts`): `sessions`, one
 * row per signed-in device (how it signed in, which session approved it, where it was, the
 * SHA-256 of its current refresh token, when it ends), and `rotated`, the hashes each session's
 * refresh tokens rotated out, kept to tell reuse (theft) from a race. Every verb is synchronous
 * SQL, so the object's single thread makes each one atomic.
 */
import { randomToken } from '../http/crypto';
import type { Lifetimes } from '../tokens/lifetimes';
import type {
  ImportedSession,
  NewSession,
  RefreshOutcome,
  RefreshRefusal,
  SessionInfo,
  SessionListing,
  SignInMethod,
  UserRef,
} from './types';

/** A refresh token sent again within this time of its rotation is two tabs racing, not theft. */
export const REUSE_GRACE_MS = 10_000;
/** `last_used_at` is written at most this often per session, so a check rarely writes. */
const LAST_USED_GRANULARITY_MS = 10 * 60_000;

export interface SessionRow {
  sid: string;
  via: SignInMethod;
  /** The approver: the session that approved this one (the column's name predates the word). */
  parent: string | null;
  client_id: string | null;
  scope: string | null;
  user_agent: string;
  ip: string;
  place: string | null;
  created_at: number;
  last_used_at: number;
  ends_at: number;
  refresh_hash: string | null;
  refresh_expires_at: number | null;
  /** When the current refresh token was issued (the login, or the last refresh). */
  refreshed_at: number;
  [key: string]: SqlStorageValue;
}

export const SESSION_SCHEMA = `
  CREATE TABLE IF NOT EXISTS sessions (
    sid TEXT PRIMARY KEY,
    via TEXT NOT NULL,
    parent TEXT,
    client_id TEXT,
    scope TEXT,
    user_agent TEXT NOT NULL,
    ip TEXT NOT NULL,
    place TEXT,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    refresh_hash TEXT UNIQUE,
    refresh_expires_at INTEGER,
    refreshed_at INTEGER NOT NULL
  );
  -- No index on parent: a user's sessions are few, and every index entry is a billed row
  -- written at each sign-in (an insert here writes 3 rows: the row, sid's and refresh_hash's).
  DROP INDEX IF EXISTS sessions_by_parent;
  CREATE TABLE IF NOT EXISTS rotated (
    hash TEXT PRIMARY KEY,
    sid TEXT NOT NULL,
    rotated_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS rotated_by_sid ON rotated(sid);
`;

/** A session's end: its longest life, or its refresh token's idle end, whichever comes first. */
export const endOf = (row: Pick<SessionRow, 'ends_at' | 'refresh_expires_at'>): number =>
  row.refresh_expires_at === null ? row.ends_at : Math.min(row.ends_at, row.refresh_expires_at);

const USER_KEY = 'user';

export class SessionStore {
  constructor(
    private readonly sql: () => SqlStorage,
    private readonly kv: () => SyncKvStorage,
    private readonly lifetimes: () => Lifetimes,
  ) {}

  #row(sid: string): SessionRow | null {
    return this.sql().exec<SessionRow>('SELECT * FROM sessions WHERE sid = ?', sid).toArray()[0] ?? null;
  }

  #byRefresh(hash: string): SessionRow | null {
    return this.sql().exec<SessionRow>('SELECT * FROM sessions WHERE refresh_hash = ?', hash).toArray()[0] ?? null;
  }

  /** The user as last signed in, or null for a user with no session yet. */
  user(): UserRef | null {
    return this.kv().get<UserRef>(USER_KEY) ?? null;
  }

  #info(row: SessionRow): SessionInfo {
    return {
      sid: row.sid,
      via: row.via,
      user: this.user() ?? { id: '', username: '', display_name: '' },
      client_id: row.client_id,
      scope: row.scope,
      created_at: row.created_at,
      approver: row.parent,
    };
  }

  /** The live session `sid`, or null (unknown, revoked, ended). */
  live(sid: string, now: number): SessionRow | null {
    const row = this.#row(sid);
    return row && now < endOf(row) ? row : null;
  }

  /**
   * Starts a session for a login; its end. With `approver`, only while that session is alive:
   * a login whose approver was signed out between the confirm and the hand-out gets none (null).
   */
  start(init: NewSession, now: number): { info: SessionInfo; endsAt: number } | null {
    if (init.approver && !this.live(init.approver, now)) return null;
    const { refreshTtlMs, sessionMaxMs } = this.lifetimes();
    const endsAt = Math.min(now + sessionMaxMs, init.endsAt ?? Number.POSITIVE_INFINITY);
    const row: SessionRow = {
      // 16 random bytes, base64url (the last version's ids were UUIDs).
      sid: randomToken(16),
      via: init.via,
      parent: init.approver ?? null,
      client_id: init.clientId ?? null,
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
    };
    this.#insert(row, init.user);
    return { info: this.#info(row), endsAt: endOf(row) };
  }

  /** Takes over a session of the last version's D1 table (see `legacy.ts`); false if it already ended. */
  adopt(session: ImportedSession, now: number): boolean {
    if (now >= session.ends_at) return false;
    if (this.#row(session.sid)) return true;
    this.#insert(
      {
        sid: session.sid,
        via: session.via,
        parent: null,
        client_id: null,
        scope: null,
        ...session.from,
        created_at: session.created_at,
        last_used_at: session.created_at,
        ends_at: session.ends_at,
        refresh_hash: null,
        refresh_expires_at: null,
        refreshed_at: session.created_at,
      },
      session.user,
    );
    return true;
  }

  #insert(row: SessionRow, user: UserRef): void {
    this.sql().exec(
      `INSERT INTO sessions (sid, via, parent, client_id, scope, user_agent, ip, place, created_at, last_used_at,
         ends_at, refresh_hash, refresh_expires_at, refreshed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      row.sid,
      row.via,
      row.parent,
      row.client_id,
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
    );
    // The name shown on the devices list and in webhooks follows the latest sign-in.
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
    return this.#info(row);
  }

  /**
   * Rotates a refresh token: the one whose hash is `hash` stops working and `nextHash` takes its
   * place. The checks run in a fixed order (as node-oidc-provider's refresh grant): found →
   * issued to this client → not expired → not already rotated (within 10 s of its rotation: two
   * tabs racing, refused and nothing else; later: theft, and the whole session is revoked) →
   * rotate.
   */
  refresh(hash: string, nextHash: string, clientId: string | null, now: number): RefreshOutcome {
    const refuse = (reason: RefreshRefusal, revoked: string[] = []): RefreshOutcome => ({ ok: false, reason, revoked });
    const row = this.#byRefresh(hash);
    if (!row) {
      const old = this.sql()
        .exec<{ sid: string; rotated_at: number; expires_at: number }>(
          'SELECT sid, rotated_at, expires_at FROM rotated WHERE hash = ?',
          hash,
        )
        .toArray()[0];
      if (!old) return refuse('unknown');
      const session = this.#row(old.sid);
      if (!session) return refuse('unknown');
      if (session.client_id !== clientId) return refuse('other_client');
      if (now >= old.expires_at || now >= endOf(session)) return refuse('expired');
      if (now - old.rotated_at <= REUSE_GRACE_MS) return refuse('just_rotated');
      return refuse('reused', this.revokeTree(old.sid));
    }
    if (row.client_id !== clientId) return refuse('other_client');
    if (now >= endOf(row)) return refuse('expired');
    const { refreshTtlMs } = this.lifetimes();
    this.sql().exec(
      'INSERT INTO rotated (hash, sid, rotated_at, expires_at) VALUES (?, ?, ?, ?)',
      hash,
      row.sid,
      now,
      row.refresh_expires_at ?? row.ends_at,
    );
    this.sql().exec(
      'UPDATE sessions SET refresh_hash = ?, refresh_expires_at = ?, last_used_at = ?, refreshed_at = ? WHERE sid = ?',
      nextHash,
      Math.min(now + refreshTtlMs, row.ends_at),
      now,
      now,
      row.sid,
    );
    return { ok: true, session: this.#info(row) };
  }

  /** The live session whose current refresh token has this hash (introspection), or null. */
  sessionOfRefresh(hash: string, now: number): (SessionInfo & { issued_at: number; expires_at: number }) | null {
    const row = this.#byRefresh(hash);
    if (!row || now >= endOf(row)) return null;
    return { ...this.#info(row), issued_at: row.refreshed_at, expires_at: endOf(row) };
  }

  /** The session whose refresh token (current or rotated) has this hash, or null. */
  sidOfRefresh(hash: string): string | null {
    return (
      this.#byRefresh(hash)?.sid ??
      this.sql().exec<{ sid: string }>('SELECT sid FROM rotated WHERE hash = ?', hash).toArray()[0]?.sid ??
      null
    );
  }

  /** The client a session signed in to (null for a page's session), or undefined for no such session. */
  clientOf(sid: string): string | null | undefined {
    const row = this.#row(sid);
    return row ? row.client_id : undefined;
  }

  /** Ends `sid` and every session it approved, and theirs in turn; the sessions that ended. */
  revokeTree(sid: string): string[] {
    if (!this.#row(sid)) return [];
    const tree = this.sql()
      .exec<{ sid: string }>(
        `WITH RECURSIVE tree(sid) AS (
           SELECT ? UNION SELECT s.sid FROM sessions s JOIN tree t ON s.parent = t.sid
         ) SELECT sid FROM tree`,
        sid,
      )
      .toArray()
      .map((r) => r.sid);
    for (const each of tree) this.#forget(each);
    return tree;
  }

  /** Deletes session `sid` and the hashes it rotated out. */
  #forget(sid: string): void {
    this.sql().exec('DELETE FROM sessions WHERE sid = ?', sid);
    this.sql().exec('DELETE FROM rotated WHERE sid = ?', sid);
  }

  /** Whether no session is left. */
  isEmpty(): boolean {
    return this.sql().exec('SELECT 1 FROM sessions LIMIT 1').toArray().length === 0;
  }

  /** The user's live sessions, most recently used first. */
  list(currentSid: string | null, now: number): SessionListing[] {
    const iso = (ms: number) => new Date(ms).toISOString();
    return this.sql()
      .exec<SessionRow>('SELECT * FROM sessions ORDER BY last_used_at DESC, created_at DESC, sid')
      .toArray()
      .filter((row) => now < endOf(row))
      .map((row) => ({
        sid: row.sid,
        created_at: iso(row.created_at),
        last_used_at: iso(row.last_used_at),
        via: row.via as SignInMethod,
        user_agent: row.user_agent,
        ip: row.ip,
        place: row.place,
        current: row.sid === currentSid,
      }));
  }

  /** Forgets ended sessions and rotated-out hashes past their own end; the next end, or null. */
  forgetEnded(now: number): number | null {
    const ended = this.sql()
      .exec<SessionRow>('SELECT * FROM sessions')
      .toArray()
      .filter((row) => now >= endOf(row))
      .map((row) => row.sid);
    for (const sid of ended) this.#forget(sid);
    this.sql().exec('DELETE FROM rotated WHERE expires_at <= ?', now);
    return this.sql()
      .exec<{ at: number | null }>(
        'SELECT MIN(MIN(ends_at, COALESCE(refresh_expires_at, ends_at))) AS at FROM sessions',
      )
      .one().at;
  }
}
