/**
 * @module
 * Linked devices: one D1 row per signed-in session (`sid` in every token). A token is good
 * only while its row is not revoked, checked on every request that checks a token.
 */
import type { Env } from '../env';
import type { UserRef } from '../session/state';
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
  via: SignInMethod;
  current: boolean;
}

/** Records a new session for `user` and returns its `sid`. */
export async function openSession(env: Env, user: UserRef, via: SignInMethod, device: DeviceInfo): Promise<string> {
  const sid = crypto.randomUUID();
  await query(() =>
    env.DB.prepare('INSERT INTO sessions (sid, user_id, via, user_agent, ip, place) VALUES (?, ?, ?, ?, ?, ?)')
      .bind(sid, user.id, via, device.user_agent, device.ip, device.place)
      .run(),
  );
  return sid;
}

/** The user of a live (not revoked) session, or null. One indexed query per checked request. */
export async function sessionUser(env: Env, sid: string, userId: string): Promise<UserRef | null> {
  return query(() =>
    env.DB.prepare(
      `SELECT u.id, u.username, u.display_name FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.sid = ? AND s.user_id = ? AND s.revoked_at IS NULL`,
    )
      .bind(sid, userId)
      .first<UserRef>(),
  );
}

/** The user's live sessions, newest first. */
export async function listSessions(env: Env, userId: string, currentSid: string): Promise<LinkedDevice[]> {
  const { results } = await query(() =>
    env.DB.prepare(
      `SELECT sid, created_at, via, user_agent, ip, place FROM sessions
       WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at DESC, sid`,
    )
      .bind(userId)
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
