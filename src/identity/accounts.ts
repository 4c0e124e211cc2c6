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

/** An account as an admin sees it: who, since when, and whether it is disabled. */
export interface AccountInfo extends UserRef {
  created_at: string;
  disabled_at: string | null;
}

const ACCOUNT_COLUMNS = 'id, username, display_name, created_at, disabled_at';

/** The account with this id, disabled or not, or null. */
export function accountById(env: Env, id: string): Promise<AccountInfo | null> {
  return query(() => env.DB.prepare(`SELECT ${ACCOUNT_COLUMNS} FROM users WHERE id = ?`).bind(id).first<AccountInfo>());
}

/**
 * Accounts whose username begins with `prefix` (any case), in username order after `after`: at
 * most `limit`, and whether there are more; on the first page, first the account whose id is
 * `prefix`, if any. The prefix rides the unique index on `username` (a case-insensitive `LIKE` on
 * a `NOCASE` column is a range of that index), the id the primary key: never a scan of the table.
 */
export async function findAccounts(
  env: Env,
  prefix: string,
  after: string | null,
  limit: number,
): Promise<{ accounts: AccountInfo[]; more: boolean }> {
  const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const { results } = await query(() =>
    env.DB.prepare(
      `SELECT ${ACCOUNT_COLUMNS} FROM users WHERE username LIKE ? ESCAPE '\\' AND username > ? ORDER BY username LIMIT ?`,
    )
      .bind(pattern, after ?? '', limit + 1)
      .all<AccountInfo>(),
  );
  const byId = after === null && prefix ? await accountById(env, prefix) : null;
  const accounts = results.slice(0, limit);
  if (byId && !accounts.some((a) => a.id === byId.id)) accounts.unshift(byId);
  return { accounts, more: results.length > limit };
}

/**
 * Disables (`disabled: true`) or enables account `id`: the account as it is now, and whether
 * this call changed it (false when it already was so); null when there is no such account.
 */
export async function setDisabled(
  env: Env,
  id: string,
  disabled: boolean,
): Promise<{ account: AccountInfo; changed: boolean } | null> {
  const changed = await query(() =>
    env.DB.prepare(
      disabled
        ? "UPDATE users SET disabled_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ? AND disabled_at IS NULL RETURNING id"
        : 'UPDATE users SET disabled_at = NULL WHERE id = ? AND disabled_at IS NOT NULL RETURNING id',
    )
      .bind(id)
      .first(),
  );
  const account = await accountById(env, id);
  return account ? { account, changed: changed !== null } : null;
}
