/**
 * @module
 * A user's passkeys and the challenges of their ceremonies (registration, and the step-up bound
 * to one QR login), as two tables of that user's own object, `UserSessions`, whose verbs call
 * these. Every method is synchronous (SQLite), so what it checks and what it writes happen in
 * one step that no other call can interleave: the Worker does the slow crypto first (see
 * `webauthn.ts`), then the object takes the challenge and moves the counter, checking both
 * again. A challenge is spent only by a ceremony that held; a refused one changes nothing.
 */
import { randomToken } from '../http/crypto';
import type { NewPasskey, PasskeyKey, PasskeyUse } from '../passkeys/webauthn';

export const PASSKEY_SCHEMA = `
  CREATE TABLE IF NOT EXISTS passkeys (
    id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    algorithm INTEGER NOT NULL,
    counter INTEGER NOT NULL,
    backup_eligible INTEGER NOT NULL,
    backed_up INTEGER NOT NULL,
    transports TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
  );
  CREATE TABLE IF NOT EXISTS challenges (
    challenge TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    binding TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
`;

/** A challenge lives at most this long. */
export const CHALLENGE_TTL_MS = 5 * 60_000;
/** The most passkeys one user keeps. */
export const MAX_PASSKEYS = 20;
/** The most live challenges one user has at once (the oldest go first). */
const MAX_CHALLENGES = 20;

/**
 * What a challenge is for: a new passkey (bound to the session that asked), or the step-up of
 * one QR login (bound to its id).
 */
export type ChallengePurpose = 'register' | 'step-up';

/** The challenge an assertion or a registration must have answered. */
export interface ExpectedChallenge {
  value: string;
  purpose: ChallengePurpose;
  binding: string;
}

/** A passkey as the user's list shows it. */
export interface PasskeyInfo {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
}

/** What options name of a passkey: its id and how the browser may reach it. */
export interface PasskeyDescriptor {
  id: string;
  transports: string[];
}

/** A new challenge, and the user's passkeys (excluded from a registration, allowed for a step-up). */
export interface IssuedChallenge {
  challenge: string;
  expires_at: number;
  passkeys: PasskeyDescriptor[];
}

/** A passkey just registered, as `POST /api/passkeys/register` answers it. */
export type CreatedPasskey = Omit<PasskeyInfo, 'last_used_at'>;

export type AddOutcome =
  | { ok: true; passkey: CreatedPasskey }
  | { ok: false; reason: 'challenge' | 'duplicate' | 'too_many' | 'stale' };

/** A use that held (`ok`), or why not: no such passkey, a challenge spent, expired or of another purpose, a counter behind. */
export type UseOutcome = 'ok' | 'unknown' | 'challenge' | 'counter';

interface PasskeyRow {
  id: string;
  public_key: string;
  algorithm: number;
  counter: number;
  backup_eligible: number;
  backed_up: number;
  transports: string;
  name: string;
  created_at: number;
  last_used_at: number | null;
  [key: string]: SqlStorageValue;
}

const iso = (ms: number) => new Date(ms).toISOString();

export class PasskeyStore {
  constructor(private readonly sql: () => SqlStorage) {}

  #row(id: string): PasskeyRow | null {
    return this.sql().exec<PasskeyRow>('SELECT * FROM passkeys WHERE id = ?', id).toArray()[0] ?? null;
  }

  #descriptors(): PasskeyDescriptor[] {
    return this.sql()
      .exec<{ id: string; transports: string }>('SELECT id, transports FROM passkeys ORDER BY created_at')
      .toArray()
      .map((row) => ({ id: row.id, transports: JSON.parse(row.transports) as string[] }));
  }

  /** Whether `expected` is a live challenge of this user, for that purpose and binding. */
  #holds(expected: ExpectedChallenge, now: number): boolean {
    const row = this.sql()
      .exec<{ purpose: string; binding: string; expires_at: number }>(
        'SELECT purpose, binding, expires_at FROM challenges WHERE challenge = ?',
        expected.value,
      )
      .toArray()[0];
    return row?.purpose === expected.purpose && row.binding === expected.binding && now < row.expires_at;
  }

  #spend(challenge: string): void {
    this.sql().exec('DELETE FROM challenges WHERE challenge = ?', challenge);
  }

  /**
   * A new single-use challenge for `purpose` and `binding`, replacing the one that binding had
   * (a second scan of one QR makes the first challenge void).
   */
  issue(purpose: ChallengePurpose, binding: string, now: number): IssuedChallenge {
    const sql = this.sql();
    sql.exec('DELETE FROM challenges WHERE expires_at <= ? OR (purpose = ? AND binding = ?)', now, purpose, binding);
    sql.exec(
      'DELETE FROM challenges WHERE challenge IN (SELECT challenge FROM challenges ORDER BY expires_at DESC LIMIT -1 OFFSET ?)',
      MAX_CHALLENGES - 1,
    );
    const challenge = randomToken(32);
    const expiresAt = now + CHALLENGE_TTL_MS;
    sql.exec('INSERT INTO challenges VALUES (?, ?, ?, ?)', challenge, purpose, binding, expiresAt);
    return { challenge, expires_at: expiresAt, passkeys: this.#descriptors() };
  }

  /** Stores a registered passkey, spending its registration challenge (bound to `binding`). */
  add(passkey: NewPasskey, name: string, binding: string, now: number): AddOutcome {
    if (!this.#holds({ value: passkey.challenge, purpose: 'register', binding }, now)) {
      return { ok: false, reason: 'challenge' };
    }
    if (this.#row(passkey.id)) return { ok: false, reason: 'duplicate' };
    if (this.count() >= MAX_PASSKEYS) return { ok: false, reason: 'too_many' };
    this.#spend(passkey.challenge);
    this.sql().exec(
      `INSERT INTO passkeys (id, public_key, algorithm, counter, backup_eligible, backed_up, transports, name, created_at, last_used_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
      passkey.id,
      passkey.public_key,
      passkey.algorithm,
      passkey.counter,
      Number(passkey.backup_eligible),
      Number(passkey.backed_up),
      JSON.stringify(passkey.transports),
      name,
      now,
    );
    return { ok: true, passkey: { id: passkey.id, name, created_at: iso(now) } };
  }

  /** The stored key of passkey `id`, or null. */
  key(id: string): PasskeyKey | null {
    const row = this.#row(id);
    if (!row) return null;
    return {
      public_key: row.public_key,
      algorithm: row.algorithm,
      counter: row.counter,
      backup_eligible: row.backup_eligible === 1,
    };
  }

  /**
   * Records a use of passkey `id` whose assertion held: spends `challenge` (none for a sign-in,
   * whose challenge lives in an object of its own) and moves the counter, after checking both
   * again, since another use may have been recorded while the assertion was being verified.
   */
  use(id: string, use: PasskeyUse, challenge: ExpectedChallenge | null, now: number): UseOutcome {
    const row = this.#row(id);
    if (!row) return 'unknown';
    if (challenge && !this.#holds(challenge, now)) return 'challenge';
    if ((use.counter !== 0 || row.counter !== 0) && use.counter <= row.counter) return 'counter';
    if (challenge) this.#spend(challenge.value);
    this.sql().exec(
      'UPDATE passkeys SET counter = ?, backed_up = ?, last_used_at = ? WHERE id = ?',
      use.counter,
      Number(use.backed_up),
      now,
      id,
    );
    return 'ok';
  }

  /** The user's passkeys, most recently used first. */
  list(): PasskeyInfo[] {
    return this.sql()
      .exec<PasskeyRow>('SELECT * FROM passkeys ORDER BY COALESCE(last_used_at, created_at) DESC, id')
      .toArray()
      .map((row) => ({
        id: row.id,
        name: row.name,
        created_at: iso(row.created_at),
        last_used_at: row.last_used_at === null ? null : iso(row.last_used_at),
      }));
  }

  /** Removes passkey `id`; false when the user has no such passkey. */
  remove(id: string): boolean {
    if (!this.#row(id)) return false;
    this.sql().exec('DELETE FROM passkeys WHERE id = ?', id);
    return true;
  }

  count(): number {
    return this.sql().exec<{ n: number }>('SELECT COUNT(*) AS n FROM passkeys').one().n;
  }

  /** Forgets expired challenges; when the next live one ends (null: none left). */
  forgetExpired(now: number): number | null {
    const sql = this.sql();
    sql.exec('DELETE FROM challenges WHERE expires_at <= ?', now);
    return sql.exec<{ at: number | null }>('SELECT MIN(expires_at) AS at FROM challenges').one().at;
  }

  /** Whether there is nothing to keep: no passkey and no challenge. */
  isEmpty(): boolean {
    return this.sql().exec('SELECT 1 FROM passkeys UNION ALL SELECT 1 FROM challenges LIMIT 1').toArray().length === 0;
  }
}
