/**
 * @module
 * A user's refresh-token families, in the user's object beside its sessions (`session-store.ts`):
 * the table `rotated` holds the hashes of each session's last `ROTATED_KEPT` refresh tokens
 * rotated out, kept to tell reuse (theft) from a race; each verb is synchronous SQL over the
 * session rows, so a refresh decides and writes in one step.
 *
 * A session's refresh tokens are one family: each token is the object's id, then the family's
 * 21 random characters (the same in every token of the session), then 22 of its own (see
 * `sessions/index.ts`). The object keeps the SHA-256 of the family's part, so a token whose hash
 * it no longer keeps (older than the last `ROTATED_KEPT` rotations) is still known as one of
 * that session's, and reuse of it still ends the session: the history is bounded, detection is
 * not. The price: once a session has forgotten some, a token of its family that is neither its
 * current one nor a kept one is taken for a forgotten one, a mangled copy too; only a holder of
 * one of its tokens can make such a token, and that holder can sign the session out anyway. A
 * session refreshes at most `REFRESH_LIMIT` times in `REFRESH_WINDOW_MS`, counted from the
 * rotations kept.
 */
import type { Lifetimes } from '../tokens/lifetimes';
import type { SessionStore } from './session-store';
import { endOf, type SessionRow } from './session-tables';
import type { EndedSession, RefreshOutcome, RefreshRefusal, SessionInfo } from './types';

/** A refresh token sent again within this time of its rotation is two tabs racing, not theft. */
export const REUSE_GRACE_MS = 10_000;
/** A session's newest rotated-out refresh tokens kept by hash (each with when it was rotated). */
export const ROTATED_KEPT = 10;
/**
 * At most this many refreshes of one session in `REFRESH_WINDOW_MS` (a page renews once per
 * access token, every fifteen minutes): more is `429`, and nothing rotates. Counted from the
 * rotated rows, so `ROTATED_KEPT` is at least this.
 */
export const REFRESH_LIMIT = 10;
export const REFRESH_WINDOW_MS = 60_000;
const refuse = (reason: RefreshRefusal, revoked: EndedSession[] = []): RefreshOutcome & { ok: false } => ({
  ok: false,
  reason,
  revoked,
});

/** Whether a refresh proved the key the session is bound to (a session bound to none needs no proof). */
const provedBy = (row: Pick<SessionRow, 'jkt'>, jkt: string | null): boolean => !row.jkt || row.jkt === jkt;

export class RefreshFamilies {
  constructor(
    private readonly sql: () => SqlStorage,
    private readonly sessions: SessionStore,
    private readonly lifetimes: () => Lifetimes,
  ) {}

  /**
   * Rotates a refresh token: the one whose hash is `hash` (of the family whose part hashes to
   * `family`) stops working and `nextHash` takes its place. The checks run in a fixed order (as
   * node-oidc-provider's refresh grant): found → issued to this client → proved by the key
   * the session is bound to (`jkt`: a copied token without its key spends and revokes nothing) → not expired → not
   * already rotated (within 10 s of its rotation: two tabs racing, refused and nothing else;
   * later: theft, and the whole session is revoked) → not refreshed `REFRESH_LIMIT` times in
   * the last `REFRESH_WINDOW_MS` (when `limited`; refused with the seconds to wait, nothing
   * spent) → rotate, forgetting the hash rotated out `ROTATED_KEPT` rotations ago.
   */
  refresh(
    hash: string,
    nextHash: string,
    family: string | null,
    clientId: string | null,
    now: number,
    limited: boolean,
    jkt: string | null = null,
  ): RefreshOutcome {
    const row = this.sessions.byRefresh(hash);
    if (!row) return this.#notCurrent(hash, family, clientId, now, jkt);
    if (row.client_id !== clientId) return refuse('other_client');
    if (!provedBy(row, jkt)) return refuse('wrong_key');
    if (now >= endOf(row)) return refuse('expired');
    const wait = limited ? this.#refreshWait(row.sid, now) : 0;
    if (wait > 0) return { ...refuse('rate_limited'), retryAfter: wait };
    const { refreshTtlMs } = this.lifetimes();
    this.sql().exec(
      'INSERT INTO rotated (hash, sid, rotated_at, expires_at, generation) VALUES (?, ?, ?, ?, ?)',
      hash,
      row.sid,
      now,
      row.refresh_expires_at ?? row.ends_at,
      row.generation,
    );
    // A session of an earlier version takes the family of the token it refreshes with.
    this.sql().exec(
      `UPDATE sessions SET refresh_hash = ?, refresh_expires_at = ?, last_used_at = ?, refreshed_at = ?,
         family = COALESCE(family, ?), generation = generation + 1 WHERE sid = ?`,
      nextHash,
      Math.min(now + refreshTtlMs, row.ends_at),
      now,
      now,
      family,
      row.sid,
    );
    // The family tells the older ones (see `#notCurrent`).
    this.sql().exec('DELETE FROM rotated WHERE sid = ? AND generation <= ?', row.sid, row.generation - ROTATED_KEPT);
    return { ok: true, session: this.sessions.info(row) };
  }

  /** A refresh with a token that is not its session's current one (see `refresh`). */
  #notCurrent(
    hash: string,
    family: string | null,
    clientId: string | null,
    now: number,
    jkt: string | null,
  ): RefreshOutcome {
    const old = this.sql()
      .exec<{ sid: string; rotated_at: number; expires_at: number }>(
        'SELECT sid, rotated_at, expires_at FROM rotated WHERE hash = ?',
        hash,
      )
      .toArray()[0];
    if (old) {
      const session = this.sessions.row(old.sid);
      if (!session) return refuse('unknown');
      if (session.client_id !== clientId) return refuse('other_client');
      // A copied old token without the key is not the rightful client: it must not end the session.
      if (!provedBy(session, jkt)) return refuse('wrong_key');
      if (now >= old.expires_at || now >= endOf(session)) return refuse('expired');
      if (now - old.rotated_at <= REUSE_GRACE_MS) return refuse('just_rotated');
      return refuse('reused', this.sessions.revokeTree(old.sid, 'reused'));
    }
    // Not kept: a token of a session's family rotated out before the last `ROTATED_KEPT` (or
    // one made up by someone who holds a token of that family), or none of ours.
    const session = this.#forgetful(family);
    if (!session) return refuse('unknown');
    if (session.client_id !== clientId) return refuse('other_client');
    if (!provedBy(session, jkt)) return refuse('wrong_key');
    if (now >= endOf(session)) return refuse('expired');
    // It was rotated out before the oldest one kept: if that one is within the grace, it may be too.
    const oldest = this.sql()
      .exec<{ at: number | null }>(
        'SELECT MIN(rotated_at) AS at FROM rotated WHERE sid = ? AND generation IS NOT NULL',
        session.sid,
      )
      .one().at;
    if (oldest !== null && now - oldest <= REUSE_GRACE_MS) return refuse('just_rotated');
    return refuse('reused', this.sessions.revokeTree(session.sid, 'reused'));
  }

  /**
   * The session of this family if it has forgotten some of its tokens' hashes: one that rotated
   * more than `ROTATED_KEPT` times. Until then every token it was given is its current one or a
   * kept one, so a token of its family that is neither was never issued (a mangled copy): it is
   * refused, and changes nothing.
   */
  #forgetful(family: string | null): SessionRow | null {
    if (family === null) return null;
    const row = this.sql().exec<SessionRow>('SELECT * FROM sessions WHERE family = ?', family).toArray()[0];
    return row && row.generation > ROTATED_KEPT ? row : null;
  }

  /**
   * Seconds until session `sid` may refresh again: 0 while it refreshed fewer than
   * `REFRESH_LIMIT` times in the last `REFRESH_WINDOW_MS`, else until the oldest of those that
   * count leaves the window.
   */
  #refreshWait(sid: string, now: number): number {
    const counted = this.sql()
      .exec<{ rotated_at: number }>(
        'SELECT rotated_at FROM rotated WHERE sid = ? AND rotated_at > ? ORDER BY rotated_at DESC LIMIT 1 OFFSET ?',
        sid,
        now - REFRESH_WINDOW_MS,
        REFRESH_LIMIT - 1,
      )
      .toArray()[0];
    return counted ? Math.max(1, Math.ceil((counted.rotated_at + REFRESH_WINDOW_MS - now) / 1000)) : 0;
  }

  /**
   * Before a refresh that must first ask D1 (is the account still open?): the live session whose
   * current refresh token has this hash, for `clientId`, and the seconds it must wait (0: none),
   * so that a refresh refused for its rate reads nothing. Null when the refresh will be refused.
   */
  refreshable(
    hash: string,
    clientId: string | null,
    now: number,
    limited: boolean,
    jkt: string | null = null,
  ): { session: SessionInfo; retryAfter: number } | null {
    const row = this.sessions.byRefresh(hash);
    if (!row || row.client_id !== clientId || !provedBy(row, jkt) || now >= endOf(row)) return null;
    return { session: this.sessions.info(row), retryAfter: limited ? this.#refreshWait(row.sid, now) : 0 };
  }

  /** The live session whose current refresh token has this hash (introspection), or null. */
  sessionOfRefresh(hash: string, now: number): (SessionInfo & { issued_at: number; expires_at: number }) | null {
    const row = this.sessions.byRefresh(hash);
    if (!row || now >= endOf(row)) return null;
    return { ...this.sessions.info(row), issued_at: row.refreshed_at, expires_at: endOf(row) };
  }

  /** The session whose refresh token (current, rotated, or older of its family) has this hash, or null. */
  sidOfRefresh(hash: string, family: string | null): string | null {
    return (
      this.sessions.byRefresh(hash)?.sid ??
      this.sql().exec<{ sid: string }>('SELECT sid FROM rotated WHERE hash = ?', hash).toArray()[0]?.sid ??
      this.#forgetful(family)?.sid ??
      null
    );
  }
}
