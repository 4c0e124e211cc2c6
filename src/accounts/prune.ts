/**
 * @module
 * Forgets linked-device sessions whose token has expired, from the Worker's Cron Trigger: past
 * `expires_at` a row only stops a token that could not be used anyway, so keeping it would only
 * grow the `sessions` table with every login. Deleted in batches, so that one run never holds
 * the database long; what a run leaves, the next one takes.
 */
import type { Env } from '../env';

const BATCH = 500;
const MAX_BATCHES = 40;

/** Deletes the sessions past their token's `exp` at `now`; returns how many. */
export async function pruneExpiredSessions(env: Env, now: number): Promise<number> {
  const cutoff = new Date(now).toISOString();
  const statement = env.DB.prepare(
    'DELETE FROM sessions WHERE sid IN (SELECT sid FROM sessions WHERE expires_at <= ? LIMIT ?)',
  ).bind(cutoff, BATCH);
  let deleted = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const { meta } = await statement.run();
    deleted += meta.changes;
    if (meta.changes < BATCH) break;
  }
  return deleted;
}
