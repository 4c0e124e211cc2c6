/**
 * @module
 * User accounts in D1: look-up by username or id, and password sign-in. A disabled account
 * (`disabled_at` set, by `npm run accounts -- disable`) is looked up as if it did not exist.
 */
import type { Env } from '../env';
import type { UserRef } from '../user/types';
import { query } from './d1';
import { verifyPassword } from './passwords';

interface UserRow extends UserRef {
  password_hash: string;
}

/**
 * The user with this username and password, or null; an unknown or disabled user costs the same
 * time, and gets the same answer, as a wrong password.
 */
export async function authenticate(env: Env, username: string, password: string): Promise<UserRef | null> {
  const row = await query(() =>
    env.DB.prepare(
      'SELECT id, username, display_name, password_hash FROM users WHERE username = ? AND disabled_at IS NULL',
    )
      .bind(username)
      .first<UserRow>(),
  );
  const ok = await verifyPassword(password, row?.password_hash ?? null);
  return ok && row ? { id: row.id, username: row.username, display_name: row.display_name } : null;
}

/** The account with this id, or null (deleted, disabled, or never ours). */
export async function userById(env: Env, id: string): Promise<UserRef | null> {
  return query(() =>
    env.DB.prepare('SELECT id, username, display_name FROM users WHERE id = ? AND disabled_at IS NULL')
      .bind(id)
      .first<UserRef>(),
  );
}
