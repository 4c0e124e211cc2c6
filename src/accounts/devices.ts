/**
 * @module
 * Linked devices: one D1 row per signed-in session (`sid` in every token). A token is good only
 * while its row is neither revoked nor past its `expires_at`, checked on every request that
 * checks a token. The row keeps who the session is for, so it serves a site's own users
 * (`IDENTITY=jwt`) as well as this Worker's accounts.
 */
import type { Env } from '../env';
import type { UserRef } from '../login/state';
import { query } from './db';

export type SignInMethod = 'password' | 'qrcode';

/** Where a session was signed in from. */
export interface DeviceInfo {
  user_agent: string;
  ip: string;
  place: string | null;
}

/** A linked device as `GET /api/sessions` lists it. */
export interface LinkedDevice extends DeviceInfo {
  sid: string;
  created_at: string;
  last_used_at: string;
  via: SignInMethod;
  current: boolean;
}

/** `last_used_at` is written at most this often per session, so checking a token rarely writes. */
const LAST_USED_GRANULARITY_MS = 10 * 60_000;

const iso = (ms: number) => new Date(ms).toISOString();

/** Records a new session for `user`, valid for `ttlSeconds`, and returns its `sid`. */
export async function openSession(
  env: Env,
  user: UserRef,
  via: SignInMethod,
  device: DeviceInfo,
  ttlSeconds: number,
): Promise<string> {
  const sid = crypto.randomUUID();
  const now = Date.now();
  await query(() =>
    env.DB.prepare(
      `INSERT INTO sessions (sid, user_id, username, display_name, via, user_agent, ip, place, created_at, expires_at, last_used_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
      .bind(
        sid,
        user.id,
        user.username,
        user.display_name,
        via,
        device.user_agent,
        device.ip,
        device.place,
        iso(now),
        iso(now + ttlSeconds * 1000),
        iso(now),
      )
      .run(),
  );
  return sid;
}

interface SessionRow extends UserRef {
  last_used_at: string | null;
}

/**
 * The user of a live (not revoked, not expired) session, or null: one indexed read per checked
 * request. Marks the session used, at most every ten minutes, in `waitUntil` so no answer waits.
 */
export async function sessionUser(
  env: Env,
  sid: string,
  userId: string,
  waitUntil?: (p: Promise<unknown>) => void,
): Promise<UserRef | null> {
  const now = Date.now();
  const row = await query(() =>
    env.DB.prepare(
      `SELECT user_id AS id, username, display_name, last_used_at FROM sessions
       WHERE sid = ? AND user_id = ? AND revoked_at IS NULL AND expires_at > ?`,
    )
      .bind(sid, userId, iso(now))
      .first<SessionRow>(),
  );
  if (!row) return null;
  if (waitUntil && (!row.last_used_at || Date.parse(row.last_used_at) < now - LAST_USED_GRANULARITY_MS)) {
    waitUntil(
      env.DB.prepare('UPDATE sessions SET last_used_at = ? WHERE sid = ?')
        .bind(iso(now), sid)
        .run()
        .catch(() => undefined),
    );
  }
  return { id: row.id, username: row.username, display_name: row.display_name };
}

/** The user's live sessions, most recently used first. */
export async function listSessions(env: Env, userId: string, currentSid: string | null): Promise<LinkedDevice[]> {
  const { results } = await query(() =>
    env.DB.prepare(
      `SELECT sid, created_at, COALESCE(last_used_at, created_at) AS last_used_at, via, user_agent, ip, place
       FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?
       ORDER BY last_used_at DESC, created_at DESC, sid`,
    )
      .bind(userId, iso(Date.now()))
      .all<Omit<LinkedDevice, 'current'>>(),
  );
  return results.map((row) => ({ ...row, current: row.sid === currentSid }));
}

/** Revokes one of the user's own sessions; false when there is no such live session of theirs. */
export async function revokeSession(env: Env, userId: string, sid: string): Promise<boolean> {
  const result = await query(() =>
    env.DB.prepare(
      `UPDATE sessions SET revoked_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
       WHERE sid = ? AND user_id = ? AND revoked_at IS NULL`,
    )
      .bind(sid, userId)
      .run(),
  );
  return result.meta.changes > 0;
}
