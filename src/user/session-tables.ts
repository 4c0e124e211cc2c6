/**
 * @module
 * The tables of a user's sessions (`session-store.ts` owns their verbs): `sessions`, one row per
 * signed-in device, and `rotated`, the hashes of refresh tokens rotated out; the columns an
 * earlier version's tables lack, added once; when a row's session ends.
 */
import type { SignInMethod } from './types';

export interface SessionRow {
  sid: string;
  via: SignInMethod;
  /** The approver: the session that approved this one (the column's name predates the word). */
  parent: string | null;
  client_id: string | null;
  /** A device-flow client's registered name when it signed in (null: none, or not a device). */
  client_name: string | null;
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
  /** SHA-256 of the refresh family's part of its tokens (null: a session of an earlier version, until it refreshes). */
  family: string | null;
  /** How many times its refresh token rotated (since it had a family). */
  generation: number;
  /** The DPoP key (JWK thumbprint) its tokens are bound to; null: bearer tokens. */
  jkt: string | null;
  [key: string]: SqlStorageValue;
}

export const SESSION_SCHEMA = `
  CREATE TABLE IF NOT EXISTS sessions (
    sid TEXT PRIMARY KEY,
    via TEXT NOT NULL,
    parent TEXT,
    client_id TEXT,
    client_name TEXT,
    scope TEXT,
    user_agent TEXT NOT NULL,
    ip TEXT NOT NULL,
    place TEXT,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    refresh_hash TEXT UNIQUE,
    refresh_expires_at INTEGER,
    refreshed_at INTEGER NOT NULL,
    family TEXT,
    generation INTEGER NOT NULL DEFAULT 0,
    jkt TEXT
  );
  -- No index on parent: a user's sessions are few, and every index entry is a billed row
  -- written at each sign-in (an insert here writes 3 rows: the row, sid's and refresh_hash's).
  DROP INDEX IF EXISTS sessions_by_parent;
  CREATE TABLE IF NOT EXISTS rotated (
    hash TEXT PRIMARY KEY,
    sid TEXT NOT NULL,
    rotated_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    generation INTEGER
  );
  CREATE INDEX IF NOT EXISTS rotated_by_sid ON rotated(sid);
`;

/** Columns that tables made by an earlier version lack (`ALTER TABLE … ADD COLUMN`, once). */
const ADDED_COLUMNS: [table: string, column: string, definition: string][] = [
  ['sessions', 'family', 'TEXT'],
  ['sessions', 'generation', 'INTEGER NOT NULL DEFAULT 0'],
  // Null for a hash rotated out before families: kept until its own end, as it was.
  ['rotated', 'generation', 'INTEGER'],
  ['sessions', 'client_name', 'TEXT'],
  // When the session last proved a passkey after it signed in (an admin's step-up).
  ['sessions', 'passkey_at', 'INTEGER'],
  ['sessions', 'jkt', 'TEXT'],
];

/** Brings tables made by an earlier version up to date (after `SESSION_SCHEMA`). */
export function addMissingColumns(sql: SqlStorage): void {
  for (const [table, column, definition] of ADDED_COLUMNS) {
    const has = sql.exec('SELECT 1 FROM pragma_table_info(?) WHERE name = ?', table, column).toArray().length > 0;
    if (!has) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
  }
}

/** A session's end: its longest life, or its refresh token's idle end, whichever comes first. */
export const endOf = (row: Pick<SessionRow, 'ends_at' | 'refresh_expires_at'>): number =>
  row.refresh_expires_at === null ? row.ends_at : Math.min(row.ends_at, row.refresh_expires_at);
