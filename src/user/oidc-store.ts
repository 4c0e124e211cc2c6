/**
 * @module
 * What the OpenID Provider keeps in the user's object, beside the sessions (`session-store.ts`):
 * three tables of its own, created the first time a browser signs in through `/oauth/authorize`
 * (never by a read: a user who never used it has none).
 *
 * - `oidc_codes`: each authorization code's SHA-256 with what it is bound to (the client, the
 *   redirect URI, the PKCE challenge, the nonce, the scope), the browser's session and its
 *   `auth_time`; 60 seconds to use it, once. An exchanged code remembers the grant it made
 *   (`used_by`) for ten minutes more, so that a second use revokes that grant (RFC 6749 §4.1.2).
 *   Codes past that are forgotten when the next code is made, or by the alarm that ends the
 *   sessions: a code rings no alarm of its own (a sign-in costs no alarm invocation), and the
 *   table holds at most the codes of the last eleven minutes, and those of live sessions.
 * - `oidc_cookies`: the SHA-256 of each single sign-on cookie and the browser session it names.
 *   A cookie is worth exactly as much as that session: the session store says whether it lives.
 * - `oidc_clients`: the clients each browser session signed in to (id and name), kept as long as
 *   that session lives, even after a grant without `offline_access` ended with its access token:
 *   the linked devices list them under the browser's session, and they are the ones to tell
 *   when it ends (back-channel logout).
 *
 * Every method is synchronous SQL, so each check and its write happen in one step of the object.
 */
import { constantTimeEqual } from '../http/crypto';
import type {
  BrowserSession,
  CodeBinding,
  CodeExchange,
  CodeJudgement,
  CodePresented,
  CodeRefusal,
  NewCode,
  StoredCode,
} from './oidc-types';
import type { SessionStore } from './session-store';
import { endOf } from './session-tables';
import type { EndedSession, NewSession, SessionListing } from './types';

/** How long a code may be exchanged after it was issued. */
export const CODE_TTL_MS = 60_000;
/** How long a code is remembered after its end, so that a late second use still revokes its grant. */
const REPLAY_MEMORY_MS = 10 * 60_000;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS oidc_codes (
    hash TEXT PRIMARY KEY,
    binding TEXT NOT NULL,
    browser_sid TEXT NOT NULL,
    auth_time INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_by TEXT
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS oidc_cookies (hash TEXT PRIMARY KEY, sid TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS oidc_clients (
    sid TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_name TEXT NOT NULL,
    PRIMARY KEY (sid, client_id)
  ) WITHOUT ROWID;
`;

interface CodeRow extends StoredCode {
  expires_at: number;
  used_by: string | null;
}

export class OidcStore {
  /** Whether the tables exist in this instance's storage (forgotten when the storage is emptied). */
  #ready = false;

  constructor(
    private readonly sql: () => SqlStorage,
    /** The user's sessions: a browser's session and each grant are sessions there. */
    private readonly sessions: SessionStore,
    /** An access token's lifetime: a grant without `offline_access` ends with it. */
    private readonly accessTtlMs: () => number,
  ) {}

  // ---------------------------------------------------------------- the verbs

  /**
   * A browser signs in: its session (`init`, approved by the phone's, which must still be
   * alive: else null), the cookie that names it, and the first code, in one step; and when the
   * object's alarm must ring by.
   */
  startBrowser(
    init: NewSession,
    cookieHash: string,
    code: NewCode,
    now: number,
  ): { browser: BrowserSession; ended: EndedSession[]; alarmAt: number } | null {
    const started = this.sessions.start(init, now);
    if (!started) return null;
    const { sid, user } = started.info;
    this.addCookie(cookieHash, sid);
    this.addCode(code, sid, now, now);
    // The session's end: its alarm forgets the codes too (see `addCode`).
    return {
      browser: { sid, auth_time: now, ends_at: started.endsAt, user },
      ended: started.ended,
      alarmAt: started.endsAt,
    };
  }

  /** The live browser session a cookie names, or null (unknown, or its session ended or was signed out). */
  browserSession(cookieHash: string, now: number): BrowserSession | null {
    const sid = this.cookieSid(cookieHash);
    const row = sid ? this.sessions.live(sid, now) : null;
    const user = this.sessions.user();
    return row && user ? { sid: row.sid, auth_time: row.created_at, ends_at: endOf(row), user } : null;
  }

  /**
   * A code for the live browser session a cookie names ("Continue as", `prompt=none`), if that
   * session signed in within `maxAgeMs` (null: any time); else null and nothing is kept.
   */
  codeForBrowser(
    cookieHash: string,
    code: NewCode,
    maxAgeMs: number | null,
    now: number,
  ): { browser: BrowserSession; alarmAt: number } | null {
    const browser = this.browserSession(cookieHash, now);
    if (!browser || (maxAgeMs !== null && now - browser.auth_time > maxAgeMs)) return null;
    this.addCode(code, browser.sid, browser.auth_time, now);
    return { browser, alarmAt: browser.ends_at };
  }

  /**
   * Exchanges a code (judged by `judge`): the client's grant starts, a child of the browser's
   * session, with its own refresh token (`refreshHash`) only when `offline_access` was granted,
   * else ending with its access token. A code used again revokes the grant it made.
   */
  exchange(
    hash: string,
    presented: CodePresented,
    refresh: { hash: string; family: string },
    now: number,
  ): { outcome: CodeExchange; alarmAt: number | null } {
    const refuse = (reason: CodeRefusal | 'signed_out', revoked: EndedSession[] = []) => ({
      outcome: { ok: false as const, reason, revoked },
      alarmAt: null,
    });
    const judged = this.judge(hash, presented, now);
    if (!judged.ok)
      return refuse(judged.reason, judged.usedBy ? this.sessions.revokeTree(judged.usedBy, 'reused') : []);
    const { binding, browser_sid, auth_time } = judged.code;
    const browser = this.sessions.live(browser_sid, now);
    const user = this.sessions.user();
    if (!browser || !user) return refuse('signed_out');
    const offline = binding.scope.split(' ').includes('offline_access');
    const started = this.sessions.start(
      {
        user,
        via: 'oidc',
        from: { user_agent: browser.user_agent, ip: browser.ip, place: browser.place },
        refreshHash: offline ? refresh.hash : null,
        family: offline ? refresh.family : null,
        endsAt: offline ? undefined : now + this.accessTtlMs(),
        approver: browser_sid,
        authTime: auth_time,
        clientId: binding.client_id,
        scope: binding.scope,
        jkt: presented.jkt,
      },
      now,
    );
    if (!started) return refuse('signed_out');
    this.spend(hash, started.info.sid, browser_sid, binding);
    return {
      outcome: {
        ok: true,
        session: started.info,
        browser_sid,
        auth_time,
        nonce: binding.nonce,
        refresh: offline,
        ended: started.ended,
      },
      alarmAt: started.endsAt,
    };
  }

  // ---------------------------------------------------------------- the tables

  /** Whether the tables exist; with `create`, makes them first. */
  #tables(create: boolean): boolean {
    if (this.#ready) return true;
    const sql = this.sql();
    if (create) sql.exec(SCHEMA);
    else if (
      sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'oidc_codes'").toArray().length === 0
    ) {
      return false;
    }
    this.#ready = true;
    return true;
  }

  /** The storage was emptied: the tables are gone. */
  emptied(): void {
    this.#ready = false;
  }

  /** Keeps a cookie's hash for the browser session `sid`. */
  addCookie(hash: string, sid: string): void {
    this.#tables(true);
    this.sql().exec('INSERT OR REPLACE INTO oidc_cookies (hash, sid) VALUES (?, ?)', hash, sid);
  }

  /** The browser session a cookie names (alive or not: the session store says), or null. */
  cookieSid(hash: string): string | null {
    if (!this.#tables(false)) return null;
    return (
      this.sql().exec<{ sid: string }>('SELECT sid FROM oidc_cookies WHERE hash = ?', hash).toArray()[0]?.sid ?? null
    );
  }

  /**
   * Keeps a new code of the browser session `browserSid`, and forgets the codes past their memory
   * (no alarm rings for a code: this, or the alarm of the sessions' end, forgets them).
   */
  addCode(code: NewCode, browserSid: string, authTime: number, now: number): void {
    this.#tables(true);
    const expiresAt = now + CODE_TTL_MS;
    this.sql().exec('DELETE FROM oidc_codes WHERE expires_at + ? <= ?', REPLAY_MEMORY_MS, now);
    this.sql().exec(
      'INSERT INTO oidc_codes (hash, binding, browser_sid, auth_time, expires_at, used_by) VALUES (?, ?, ?, ?, ?, NULL)',
      code.hash,
      JSON.stringify(code.binding),
      browserSid,
      authTime,
      expiresAt,
    );
  }

  /**
   * Judges a code presented at the token endpoint, in a fixed order (as node-oidc-provider's
   * grant does): known → issued to this client → proved by its DPoP key, if bound → not used before (a second use names the grant
   * to revoke) → not expired → the same redirect URI → the PKCE verifier. A refusal spends
   * nothing.
   */
  judge(hash: string, presented: CodePresented, now: number): CodeJudgement {
    const refuse = (reason: CodeRefusal, usedBy: string | null = null): CodeJudgement => ({
      ok: false,
      reason,
      usedBy,
    });
    if (!this.#tables(false)) return refuse('unknown');
    const row = this.sql()
      .exec<{ binding: string; browser_sid: string; auth_time: number; expires_at: number; used_by: string | null }>(
        'SELECT binding, browser_sid, auth_time, expires_at, used_by FROM oidc_codes WHERE hash = ?',
        hash,
      )
      .toArray()[0];
    if (!row) return refuse('unknown');
    const code: CodeRow = { ...row, binding: JSON.parse(row.binding) as CodeBinding };
    if (code.binding.client_id !== presented.client_id) return refuse('other_client');
    // Before the reuse check: a copied code without its key must not revoke what the code gave.
    if (code.binding.dpop_jkt && code.binding.dpop_jkt !== presented.jkt) return refuse('wrong_key');
    if (code.used_by !== null) return refuse('reused', code.used_by);
    if (now >= code.expires_at) return refuse('expired');
    if (code.binding.redirect_uri !== presented.redirect_uri) return refuse('redirect_uri');
    if (!constantTimeEqual(code.binding.code_challenge, presented.verifier_challenge)) return refuse('verifier');
    return { ok: true, code: { binding: code.binding, browser_sid: code.browser_sid, auth_time: code.auth_time } };
  }

  /** Spends a code of the browser session `browserSid` for the grant `sid` it made, and notes the client. */
  spend(hash: string, sid: string, browserSid: string, binding: CodeBinding): void {
    this.sql().exec('UPDATE oidc_codes SET used_by = ? WHERE hash = ?', sid, hash);
    this.sql().exec(
      'INSERT OR REPLACE INTO oidc_clients (sid, client_id, client_name) VALUES (?, ?, ?)',
      browserSid,
      binding.client_id,
      binding.client_name,
    );
  }

  /** The clients the browser session `sid` signed in to, in the order it did. */
  clientsOf(sid: string): { client_id: string; client_name: string }[] {
    if (!this.#tables(false)) return [];
    return this.sql()
      .exec<{ client_id: string; client_name: string }>(
        'SELECT client_id, client_name FROM oidc_clients WHERE sid = ?',
        sid,
      )
      .toArray()
      .map(({ client_id, client_name }) => ({ client_id, client_name }));
  }

  /**
   * The linked devices as `GET /api/sessions` shows them: a browser's single sign-on session
   * with the clients it signed in to, and the grants left out (signing the browser out ends
   * them). A grant that outlives its browser's session (`offline_access`) is listed on its own,
   * so that the user can still sign it out. It reads the session store's table (sid, approver,
   * client) for the sessions signed in this way.
   */
  grouped(listing: SessionListing[]): SessionListing[] {
    if (!listing.some((s) => s.via === 'oidc')) return listing;
    const live = new Set(listing.map((s) => s.sid));
    const grants = this.sql()
      .exec<{ sid: string; parent: string | null; client_id: string }>(
        "SELECT sid, parent, client_id FROM sessions WHERE via = 'oidc' AND client_id IS NOT NULL",
      )
      .toArray();
    const hidden = new Set(grants.filter((g) => g.parent !== null && live.has(g.parent)).map((g) => g.sid));
    const orphans = new Map(grants.filter((g) => !hidden.has(g.sid)).map((g) => [g.sid, g.client_id]));
    return listing
      .filter((s) => !hidden.has(s.sid))
      .map((s) => {
        if (s.via !== 'oidc') return s;
        const orphan = orphans.get(s.sid);
        const clients = orphan ? [{ client_id: orphan, client_name: this.#nameOf(orphan) }] : this.clientsOf(s.sid);
        return { ...s, clients };
      });
  }

  /** A client's name as a browser session noted it, or its id. */
  #nameOf(clientId: string): string {
    if (!this.#tables(false)) return clientId;
    return (
      this.sql()
        .exec<{ client_name: string }>('SELECT client_name FROM oidc_clients WHERE client_id = ? LIMIT 1', clientId)
        .toArray()[0]?.client_name ?? clientId
    );
  }

  /**
   * Forgets codes past their memory, and the cookies and clients of browser sessions that are
   * gone; when the next code may be forgotten (null: none left).
   */
  forgetEnded(now: number, isLive: (sid: string) => boolean): number | null {
    if (!this.#tables(false)) return null;
    const sql = this.sql();
    sql.exec('DELETE FROM oidc_codes WHERE expires_at + ? <= ?', REPLAY_MEMORY_MS, now);
    for (const table of ['oidc_cookies', 'oidc_clients'] as const) {
      for (const { sid } of sql.exec<{ sid: string }>(`SELECT DISTINCT sid FROM ${table}`).toArray()) {
        if (!isLive(sid)) sql.exec(`DELETE FROM ${table} WHERE sid = ?`, sid);
      }
    }
    const at = sql.exec<{ at: number | null }>('SELECT MIN(expires_at) AS at FROM oidc_codes').one().at;
    return at === null ? null : at + REPLAY_MEMORY_MS;
  }

  /**
   * Whether nothing here needs keeping once the sessions are gone: no code remembered (cookies
   * and clients mean nothing without their sessions).
   */
  isEmpty(): boolean {
    if (!this.#tables(false)) return true;
    return this.sql().exec('SELECT 1 FROM oidc_codes LIMIT 1').toArray().length === 0;
  }
}
