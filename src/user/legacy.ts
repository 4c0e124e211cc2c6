/**
 * @module
 * The path of the last version's sessions. They were rows of the D1 table `sessions`, their
 * tokens valid seven days without a refresh token. A token of such a session keeps working
 * until its old end: the first time the user's object does not know its `sid`, the row is
 * moved into the object (and deleted from D1). Only those sids are looked up (theirs were
 * UUIDs, ours are not), and only while the table has live rows: an isolate that finds it
 * empty never reads it again, so within seven days of the upgrade D1 is off every session's
 * path. A later migration may drop the table.
 */
import type { Env } from '../env';
import { describeError } from '../http/log-safe';
import type { ImportedSession } from './types';
import type { UserSessions } from './user-object';

const LEGACY_SID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether this isolate has seen the table empty (or absent): then it is never read again. */
let drained = false;

interface LegacyRow {
  sid: string;
  user_id: string;
  username: string;
  display_name: string;
  via: 'password' | 'qrcode';
  user_agent: string;
  ip: string;
  place: string | null;
  created_at: string;
  expires_at: string;
}

/** Moves the legacy session `sid` of `userId` into `stub`; false when there is none alive. */
export async function adoptLegacySession(
  env: Env,
  stub: DurableObjectStub<UserSessions>,
  sid: string,
  userId: string,
): Promise<boolean> {
  if (drained || !LEGACY_SID.test(sid)) return false;
  const now = new Date().toISOString();
  let row: LegacyRow | null;
  try {
    // Forget what has ended; then see whether anything is left at all.
    await env.DB.prepare('DELETE FROM sessions WHERE expires_at <= ? OR revoked_at IS NOT NULL').bind(now).run();
    row = await env.DB.prepare('SELECT * FROM sessions WHERE sid = ? AND user_id = ?').bind(sid, userId).first();
    if (!row && !(await env.DB.prepare('SELECT 1 FROM sessions LIMIT 1').first())) drained = true;
  } catch (err) {
    if (/no such table/.test(String(err))) drained = true;
    else console.warn(`legacy sessions: ${describeError(err, env)}`);
    return false;
  }
  if (!row) return false;
  const session: ImportedSession = {
    sid: row.sid,
    user: { id: row.user_id, username: row.username, display_name: row.display_name },
    via: row.via,
    from: { user_agent: row.user_agent, ip: row.ip, place: row.place },
    created_at: Date.parse(row.created_at),
    ends_at: Date.parse(row.expires_at),
  };
  const adopted = await stub.adopt(session);
  await env.DB.prepare('DELETE FROM sessions WHERE sid = ?').bind(sid).run();
  return adopted;
}

/** Forgets that the table was seen empty (tests). */
export function resetLegacyDrain(): void {
  drained = false;
}
