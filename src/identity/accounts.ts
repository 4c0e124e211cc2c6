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
  disabled_at: string | null;
}

/**
 * A password sign-in's outcome: the user, or why not (for the account's own record of refused
 * attempts: which account was tried, if it exists, and whether it is disabled). The caller answers
 * every refusal alike.
 */
export type PasswordCheck =
  | { ok: true; user: UserRef }
  | { ok: false; account: UserRef | null; reason: 'password' | 'disabled' | 'unknown' };

/**
 * Checks a password: an unknown or disabled user costs the same time as a wrong password, and
 * the caller gives all three the same answer.
 */
export async function checkPassword(env: Env, username: string, password: string): Promise<PasswordCheck> {
  const row = await query(() =>
    env.DB.prepare('SELECT id, username, display_name, password_hash, disabled_at FROM users WHERE username = ?')
      .bind(username)
      .first<UserRow>(),
  );
  const ok = await verifyPassword(password, row?.password_hash ?? null);
  if (!row) return { ok: false, account: null, reason: 'unknown' };
  const user = { id: row.id, username: row.username, display_name: row.display_name };
  if (!ok) return { ok: false, account: user, reason: 'password' };
  if (row.disabled_at !== null) return { ok: false, account: user, reason: 'disabled' };
  return { ok: true, user };
}

/**
 * The user with this username and password, or null; an unknown or disabled user costs the same
 * time, and gets the same answer, as a wrong password.
 */
export async function authenticate(env: Env, username: string, password: string): Promise<UserRef | null> {
  const checked = await checkPassword(env, username, password);
  return checked.ok ? checked.user : null;
}

/** The account with this id, or null (deleted, disabled, or never ours). */
export async function userById(env: Env, id: string): Promise<UserRef | null> {
  return query(() =>
    env.DB.prepare('SELECT id, username, display_name FROM users WHERE id = ? AND disabled_at IS NULL')
      .bind(id)
      .first<UserRef>(),
  );
}
