/**
 * @module
 * `UserSessions`: the Durable Object that owns one user's sessions (one object per user, named
 * `<identity source>:<user id>`). A session is one signed-in device: how it signed in, who
 * approved it, where it was, the SHA-256 of its current refresh token and of every token it
 * rotated out, and when it ends. Every check that a session is alive, every refresh and every
 * revocation is answered here, so it is strongly consistent and sharded per user: no table that
 * every login shares is read or written on a login's path.
 *
 * The user's passkeys and their ceremonies' challenges live here too (see `passkeys/store.ts`).
 *
 * Each verb decides and writes in one synchronous step (SQLite calls are synchronous), so
 * concurrent calls cannot interleave: of two refreshes of one token exactly one rotates it. An
 * alarm at the earliest end forgets ended sessions and expired challenges, and empties the
 * storage once nothing is left: no session, no passkey, no challenge.
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import type { UserRef } from '../login/state';
import {
  type AddOutcome,
  type ChallengePurpose,
  type ExpectedChallenge,
  type IssuedChallenge,
  PASSKEY_SCHEMA,
  type PasskeyInfo,
  PasskeyStore,
  type UseOutcome,
} from '../passkeys/store';
import type { NewPasskey, PasskeyKey, PasskeyUse } from '../passkeys/webauthn';
import { type Lifetimes, lifetimes } from './lifetimes';

/** How a session signed in. */
export type SignInMethod = 'password' | 'passkey' | 'site' | 'qrcode' | 'device';

/**
 * Sessions that signed in on the phone itself: only they may approve logins and sign other
 * devices out. A session that a QR login or the device flow made (a PC, a CLI) may not, so a
 * stolen PC token cannot approve new logins nor sign the phone out.
 */
export const FIRST_HAND: readonly SignInMethod[] = ['password', 'passkey', 'site'];

/** Where a session was signed in from. */
export interface DeviceInfo {
  user_agent: string;
  ip: string;
  place: string | null;
}

/** What the Worker asks of a new session. */
export interface NewSession {
  user: UserRef;
  via: SignInMethod;
  device: DeviceInfo;
  /** SHA-256 (hex) of the new refresh token; only the hash is stored. */
  refreshHash: string;
  /** The session that approved this login (the phone's), which must still be alive. */
  approvedBy?: string | null;
  /** The OAuth client of a device-flow session: its refresh token is bound to it. */
  clientId?: string | null;
  /** The scope a device-flow client was granted (`openid` brings an id_token). */
  scope?: string | null;
}

/** A session taken over from the last version's D1 table: no refresh token, its old end. */
export interface ImportedSession {
  sid: string;
  user: UserRef;
  via: 'password' | 'qrcode';
  device: DeviceInfo;
  created_at: number;
  ends_at: number;
}

/** A live session, as the verbs answer it. */
export interface SessionInfo {
  sid: string;
  via: SignInMethod;
  user: UserRef;
  client_id: string | null;
  scope: string | null;
  /** When the user signed in (epoch ms): an id_token's `auth_time`. */
  created_at: number;
}

/** A linked device as `GET /api/sessions` lists it. */
export interface LinkedDevice extends DeviceInfo {
  sid: string;
  created_at: string;
  last_used_at: string;
  via: SignInMethod;
  current: boolean;
}

/** Why a refresh was refused (each is `invalid_grant` to the client). */
export type RefreshRefusal = 'unknown' | 'other_client' | 'expired' | 'just_rotated' | 'reused';

export type RefreshOutcome =
  | { ok: true; session: SessionInfo }
  | { ok: false; reason: RefreshRefusal; revoked: string[] };

/** A refresh token sent again within this time of its rotation is two tabs racing, not theft. */
export const REUSE_GRACE_MS = 10_000;
/**
 * A user who has a passkey adds or removes one only from a session that signed in this
 * recently: otherwise a phone session someone else picks up could swap in a passkey of theirs
 * and pass every step-up.
 */
export const RECENT_SIGN_IN_MS = 10 * 60_000;
/** `last_used_at` is written at most this often per session, so a check rarely writes. */
const LAST_USED_GRANULARITY_MS = 10 * 60_000;

interface SessionRow {
  sid: string;
  via: SignInMethod;
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

const SCHEMA = `
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
  ${PASSKEY_SCHEMA}
`;

const USER_KEY = 'user';

/** A session's end: its longest life, or its refresh token's idle end, whichever comes first. */
const endOf = (row: Pick<SessionRow, 'ends_at' | 'refresh_expires_at'>): number =>
  row.refresh_expires_at === null ? row.ends_at : Math.min(row.ends_at, row.refresh_expires_at);

/** A random session id: 16 bytes, base64url (the last version's ids were UUIDs). */
function newSid(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

export class UserSessions extends DurableObject<Env> {
  /** Whether the tables exist in this instance's storage (false again after the storage is emptied). */
  #ready = false;
  /** The alarm as last read or set by this instance; undefined until known. */
  #alarmAt: number | null | undefined;
  readonly #passkeys = new PasskeyStore(() => this.#sql);

  get #sql(): SqlStorage {
    if (!this.#ready) {
      this.ctx.storage.sql.exec(SCHEMA);
      this.#ready = true;
    }
    return this.ctx.storage.sql;
  }

  get #lifetimes(): Lifetimes {
    return lifetimes(this.env);
  }

  #row(sid: string): SessionRow | null {
    return this.#sql.exec<SessionRow>('SELECT * FROM sessions WHERE sid = ?', sid).toArray()[0] ?? null;
  }

  #user(): UserRef | null {
    return this.ctx.storage.kv.get<UserRef>(USER_KEY) ?? null;
  }

  #info(row: SessionRow): SessionInfo {
    return {
      sid: row.sid,
      via: row.via,
      user: this.#user() ?? { id: '', username: '', display_name: '' },
      client_id: row.client_id,
      scope: row.scope,
      created_at: row.created_at,
    };
  }

  /** The live session `sid`, or null (unknown, revoked, ended). */
  #live(sid: string, now: number): SessionRow | null {
    const row = this.#row(sid);
    return row && now < endOf(row) ? row : null;
  }

  /** Learns where the alarm is, once per instance, before a verb that may need it earlier. */
  async #knowAlarm(): Promise<void> {
    if (this.#alarmAt !== undefined) return;
    const stored = await this.ctx.storage.getAlarm();
    // Another call may have set it while this one read.
    if (this.#alarmAt === undefined) this.#alarmAt = stored;
  }

  /** Makes sure an alarm rings no later than `at` (every `setAlarm` is a billed row). */
  #alarmBy(at: number): Promise<void> | undefined {
    if (this.#alarmAt != null && this.#alarmAt <= at) return;
    this.#alarmAt = at;
    return this.ctx.storage.setAlarm(at);
  }

  /**
   * Starts a session for a login. With `approvedBy`, only while that session is alive: a login
   * whose approver was signed out between the confirm and the hand-out gets no session (null).
   */
  async start(init: NewSession): Promise<SessionInfo | null> {
    await this.#knowAlarm();
    const now = Date.now();
    if (init.approvedBy && !this.#live(init.approvedBy, now)) return null;
    const { refreshTtlMs, sessionMaxMs } = this.#lifetimes;
    const row: SessionRow = {
      sid: newSid(),
      via: init.via,
      parent: init.approvedBy ?? null,
      client_id: init.clientId ?? null,
      scope: init.scope ?? null,
      user_agent: init.device.user_agent,
      ip: init.device.ip,
      place: init.device.place,
      created_at: now,
      last_used_at: now,
      ends_at: now + sessionMaxMs,
      refresh_hash: init.refreshHash,
      refresh_expires_at: now + Math.min(refreshTtlMs, sessionMaxMs),
      refreshed_at: now,
    };
    this.#insert(row, init.user);
    await this.#alarmBy(endOf(row));
    return this.#info(row);
  }

  /** Takes over a session of the last version's D1 table (see `legacy.ts`); false if it already ended. */
  async adopt(session: ImportedSession): Promise<boolean> {
    await this.#knowAlarm();
    if (Date.now() >= session.ends_at) return false;
    if (!this.#row(session.sid)) {
      this.#insert(
        {
          sid: session.sid,
          via: session.via,
          parent: null,
          client_id: null,
          scope: null,
          ...session.device,
          created_at: session.created_at,
          last_used_at: session.created_at,
          ends_at: session.ends_at,
          refresh_hash: null,
          refresh_expires_at: null,
          refreshed_at: session.created_at,
        },
        session.user,
      );
    }
    await this.#alarmBy(session.ends_at);
    return true;
  }

  #insert(row: SessionRow, user: UserRef): void {
    this.#sql.exec(
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
    const known = this.#user();
    if (known?.username !== user.username || known.display_name !== user.display_name) {
      this.ctx.storage.kv.put(USER_KEY, user);
    }
  }

  /** The live session `sid` (each authenticated request asks), marked used at most every ten minutes. */
  check(sid: string): SessionInfo | null {
    const now = Date.now();
    const row = this.#live(sid, now);
    if (!row) return null;
    if (now - row.last_used_at >= LAST_USED_GRANULARITY_MS) {
      this.#sql.exec('UPDATE sessions SET last_used_at = ? WHERE sid = ?', now, sid);
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
  refresh(hash: string, nextHash: string, clientId: string | null): RefreshOutcome {
    const refuse = (reason: RefreshRefusal, revoked: string[] = []): RefreshOutcome => ({ ok: false, reason, revoked });
    const now = Date.now();
    const row = this.#sql.exec<SessionRow>('SELECT * FROM sessions WHERE refresh_hash = ?', hash).toArray()[0];
    if (!row) {
      const old = this.#sql
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
      return refuse('reused', this.#revokeTree(old.sid));
    }
    if (row.client_id !== clientId) return refuse('other_client');
    if (now >= endOf(row)) return refuse('expired');
    const { refreshTtlMs } = this.#lifetimes;
    this.#sql.exec(
      'INSERT INTO rotated (hash, sid, rotated_at, expires_at) VALUES (?, ?, ?, ?)',
      hash,
      row.sid,
      now,
      row.refresh_expires_at ?? row.ends_at,
    );
    this.#sql.exec(
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
  sessionOfRefresh(hash: string): (SessionInfo & { issued_at: number; expires_at: number }) | null {
    const row = this.#sql.exec<SessionRow>('SELECT * FROM sessions WHERE refresh_hash = ?', hash).toArray()[0];
    if (!row || Date.now() >= endOf(row)) return null;
    return { ...this.#info(row), issued_at: row.refreshed_at, expires_at: endOf(row) };
  }

  /** Signs out the session whose refresh token (current or rotated) has this hash; the sessions ended. */
  revokeByRefresh(hash: string, clientId: string | null): string[] {
    const sid =
      this.#sql.exec<{ sid: string }>('SELECT sid FROM sessions WHERE refresh_hash = ?', hash).toArray()[0]?.sid ??
      this.#sql.exec<{ sid: string }>('SELECT sid FROM rotated WHERE hash = ?', hash).toArray()[0]?.sid;
    const row = sid ? this.#row(sid) : null;
    // RFC 7009 §2.1: a client revokes only its own tokens (a page's session has no client).
    if (!row || (clientId !== null && row.client_id !== clientId)) return [];
    return this.#revokeTree(row.sid);
  }

  /**
   * Signs out `sid` and every session it approved, and theirs in turn. Returns the sessions that
   * ended (empty when `sid` is not a session of this user).
   */
  revoke(sid: string): string[] {
    return this.#row(sid) ? this.#revokeTree(sid) : [];
  }

  /** Ends `sid` and its approved sessions; when that was the last session, the alarm empties the object now. */
  #revokeTree(sid: string): string[] {
    const tree = this.#sql
      .exec<{ sid: string }>(
        `WITH RECURSIVE tree(sid) AS (
           SELECT ? UNION SELECT s.sid FROM sessions s JOIN tree t ON s.parent = t.sid
         ) SELECT sid FROM tree`,
        sid,
      )
      .toArray()
      .map((r) => r.sid);
    for (const each of tree) this.#forget(each);
    this.#emptyIfNothingLeft();
    return tree;
  }

  /** Deletes session `sid` and the hashes it rotated out. */
  #forget(sid: string): void {
    this.#sql.exec('DELETE FROM sessions WHERE sid = ?', sid);
    this.#sql.exec('DELETE FROM rotated WHERE sid = ?', sid);
  }

  /** Whether nothing is left to keep: no session, no passkey, no challenge. */
  #isEmpty(): boolean {
    return this.#sql.exec('SELECT 1 FROM sessions LIMIT 1').toArray().length === 0 && this.#passkeys.isEmpty();
  }

  /** When the last thing to keep is gone, the alarm empties the object now. */
  #emptyIfNothingLeft(): void {
    if (!this.#isEmpty()) return;
    this.#alarmAt = Date.now();
    void this.ctx.storage.setAlarm(this.#alarmAt);
  }

  /** The user's live sessions, most recently used first. */
  list(currentSid: string | null): LinkedDevice[] {
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    return this.#sql
      .exec<SessionRow>('SELECT * FROM sessions ORDER BY last_used_at DESC, created_at DESC, sid')
      .toArray()
      .filter((row) => now < endOf(row))
      .map((row) => ({
        sid: row.sid,
        created_at: iso(row.created_at),
        last_used_at: iso(row.last_used_at),
        via: row.via,
        user_agent: row.user_agent,
        ip: row.ip,
        place: row.place,
        current: row.sid === currentSid,
      }));
  }

  /** The user as last signed in (for webhooks about a session), or null for a user with no session. */
  user(): UserRef | null {
    return this.#user();
  }

  /**
   * Whether session `sid` may add or remove passkeys: a site's token (no session) and a user
   * without a passkey may; else only a session that signed in within `RECENT_SIGN_IN_MS`.
   */
  #mayChangePasskeys(sid: string | null, now: number): boolean {
    if (sid === null || this.#passkeys.count() === 0) return true;
    const row = this.#live(sid, now);
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
    await this.#knowAlarm();
    const now = Date.now();
    if (purpose === 'register' && !this.#mayChangePasskeys(sid, now)) return null;
    const issued = this.#passkeys.issue(purpose, binding, now);
    // An object with no alarm (no session: a site's user) forgets its challenge by one; any
    // other forgets it when its alarm comes, and meanwhile the number of challenges is bounded.
    if (this.#alarmAt === null) await this.#alarmBy(issued.expires_at);
    return issued;
  }

  /**
   * Stores a registered passkey, spending the registration challenge bound to `binding`: `stale`
   * when session `sid` may not change passkeys now (checked again here, not only when the
   * options were issued: a registration may come minutes after them).
   */
  addPasskey(passkey: NewPasskey, name: string, binding: string, sid: string | null): AddOutcome {
    const now = Date.now();
    if (!this.#mayChangePasskeys(sid, now)) return { ok: false, reason: 'stale' };
    return this.#passkeys.add(passkey, name, binding, now);
  }

  /** The stored key of this user's passkey `id`, or null. */
  passkey(id: string): PasskeyKey | null {
    return this.#passkeys.key(id);
  }

  /** Records a use of passkey `id` whose assertion held (see `PasskeyStore.use`). */
  usePasskey(id: string, use: PasskeyUse, challenge: ExpectedChallenge | null): UseOutcome {
    return this.#passkeys.use(id, use, challenge, Date.now());
  }

  /** The user's passkeys, most recently used first. */
  passkeys(): PasskeyInfo[] {
    return this.#passkeys.list();
  }

  /** Removes passkey `id`: `stale` when `sid` may not change passkeys now, `unknown` when there is no such passkey. */
  removePasskey(id: string, sid: string | null): 'removed' | 'unknown' | 'stale' {
    if (!this.#passkeys.key(id)) return 'unknown';
    if (!this.#mayChangePasskeys(sid, Date.now())) return 'stale';
    this.#passkeys.remove(id);
    this.#emptyIfNothingLeft();
    return 'removed';
  }

  /**
   * Forgets ended sessions, rotated-out hashes past their own end and expired challenges;
   * empties storage once nothing is left (passkeys stay until their user removes them).
   */
  override async alarm(): Promise<void> {
    this.#alarmAt = null;
    const now = Date.now();
    const sql = this.#sql;
    const ended = sql
      .exec<SessionRow>('SELECT * FROM sessions')
      .toArray()
      .filter((row) => now >= endOf(row))
      .map((row) => row.sid);
    for (const sid of ended) this.#forget(sid);
    sql.exec('DELETE FROM rotated WHERE expires_at <= ?', now);
    const sessionEnd = sql
      .exec<{ at: number | null }>(
        'SELECT MIN(MIN(ends_at, COALESCE(refresh_expires_at, ends_at))) AS at FROM sessions',
      )
      .one().at;
    const challengeEnd = this.#passkeys.forgetExpired(now);
    const ends = [sessionEnd, challengeEnd].filter((at) => at !== null);
    if (ends.length > 0) {
      await this.#alarmBy(Math.min(...ends));
      return;
    }
    // Nobody is signed in and nothing waits: free the storage unless passkeys are kept (the
    // alarm is already spent), with no call in between.
    await this.ctx.blockConcurrencyWhile(async () => {
      if (!this.#isEmpty()) return;
      await this.ctx.storage.deleteAll();
      this.#ready = false;
    });
  }
}
