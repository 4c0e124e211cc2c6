/**
 * @module
 * `FloorUser`: the floor's per-user sessions object (the app's `UserSessions`, issue 16), with
 * only what a login needs of it: a new session's row (its refresh token's hash and its end) at
 * the hand-out, and, with the contract, the check that a phone's session is alive on each phone
 * request. One SQLite row per session, as the app writes.
 */
import { DurableObject } from 'cloudflare:workers';

export class FloorUser extends DurableObject {
  /** @param {DurableObjectState} ctx @param {unknown} env */
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      'CREATE TABLE IF NOT EXISTS sessions (sid TEXT PRIMARY KEY, refresh_hash TEXT UNIQUE, ends_at INTEGER NOT NULL, user_agent TEXT, ip TEXT)',
    );
  }

  /** A new session. @param {string} sid @param {string} refreshHash @param {number} endsAt @param {string} userAgent @param {string} ip */
  start(sid, refreshHash, endsAt, userAgent, ip) {
    this.ctx.storage.sql.exec(
      'INSERT INTO sessions (sid, refresh_hash, ends_at, user_agent, ip) VALUES (?, ?, ?, ?, ?)',
      sid,
      refreshHash,
      endsAt,
      userAgent,
      ip,
    );
    return true;
  }

  /** Whether the session `sid` is alive. @param {string} sid */
  alive(sid) {
    return (
      this.ctx.storage.sql.exec('SELECT 1 FROM sessions WHERE sid = ? AND ends_at > ?', sid, Date.now()).toArray()
        .length > 0
    );
  }
}
