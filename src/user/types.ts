/**
 * @module
 * The words of a user's object: who the user is (`UserRef`, as every token and webhook names
 * them), how a session signed in, where from, and what the object's verbs answer.
 */

/** A signed-in user as tokens, sessions and webhooks name them. */
export interface UserRef {
  id: string;
  username: string;
  display_name: string;
}

/** How a session signed in. */
export type SignInMethod = 'password' | 'passkey' | 'site' | 'qrcode' | 'device' | 'oidc';

/**
 * Sessions that signed in on the phone itself: only they may approve logins and sign other
 * devices out. A session that a QR login or the device flow made (a PC, a CLI) may not, so a
 * stolen PC token cannot approve new logins nor sign the phone out.
 */
export const FIRST_HAND: readonly SignInMethod[] = ['password', 'passkey', 'site'];

/** Where a session was signed in from. */
export interface SignInFrom {
  user_agent: string;
  ip: string;
  place: string | null;
}

/** What the Worker asks of a new session. */
export interface NewSession {
  user: UserRef;
  via: SignInMethod;
  from: SignInFrom;
  /**
   * SHA-256 (hex) of the new refresh token; only the hash is stored. Null for a session without
   * one: a browser's single sign-on session, or a client's grant without `offline_access`.
   */
  refreshHash: string | null;
  /** SHA-256 (hex) of its family's part, which every later token of the session shares (null without a refresh token). */
  family: string | null;
  /** An earlier end than the session's longest life (epoch ms), for a session without a refresh token. */
  endsAt?: number;
  /** When the user signed in, if before this session started (a client's grant: the scan's time). */
  authTime?: number;
  /** The session that approved this login (the phone's), which must still be alive. */
  approver?: string | null;
  /** The OAuth client of a device-flow session: its refresh token is bound to it. */
  clientId?: string | null;
  /** That client's registered name (`OAUTH_CLIENTS` as `id=Name`), for the linked devices. */
  clientName?: string | null;
  /** The scope a device-flow client was granted (`openid` brings an id_token). */
  scope?: string | null;
  /** The phone typed the login's code instead of scanning its QR (the sign-in event says so). */
  typed?: boolean;
  /** The DPoP key (JWK thumbprint) the session's tokens are bound to (RFC 9449); none: bearer tokens. */
  jkt?: string | null;
}

/** A session taken over from the last version's D1 table: no refresh token, its old end. */
export interface ImportedSession {
  sid: string;
  user: UserRef;
  via: 'password' | 'qrcode';
  from: SignInFrom;
  created_at: number;
  ends_at: number;
}

/**
 * Why a session ended, as its watching pages hear it (`GET /api/sessions/watch`):
 * - `signed_out`: someone signed it out (itself, the phone's linked devices, the session that
 *   approved it, `/oauth/revoke`, `/oauth/end_session`);
 * - `reused`: a refresh token (or an authorization code) of it was used again: taken for theft;
 * - `disabled`: its account was disabled or deleted;
 * - `expired`: its longest life, or its refresh token's idle life, is over;
 * - `too_many`: the user signed in a 51st time and this was the least recently used session.
 */
export type EndReason = 'signed_out' | 'reused' | 'disabled' | 'expired' | 'too_many';

/** A live session, as the verbs answer it. */
export interface SessionInfo {
  sid: string;
  via: SignInMethod;
  user: UserRef;
  client_id: string | null;
  scope: string | null;
  /** When the user signed in (epoch ms): an id_token's `auth_time`. */
  created_at: number;
  /** The session that approved this one (a client's grant: the browser's session), or null. */
  approver: string | null;
  /** The DPoP key its tokens are bound to: every access token carries it as `cnf.jkt`, and a refresh must prove it. */
  jkt: string | null;
}

/** A linked device as `GET /api/sessions` lists it. */
export interface SessionListing extends SignInFrom {
  sid: string;
  created_at: string;
  last_used_at: string;
  via: SignInMethod;
  current: boolean;
  /**
   * A browser's single sign-on session (`via: "oidc"`): the clients it signed in to; a device-flow
   * session (`via: "device"`): its one client, by its registered name (else its id).
   */
  clients?: { client_id: string; client_name: string }[];
}

/**
 * A session that was ended by someone or something (signed out, revoked, reused, made room for,
 * its account closed), not one that ran out: its sid, and the OpenID clients to tell
 * (Back-Channel Logout), each with the sid its id_tokens named. A browser's single sign-on
 * session names every client it signed in to; a client's grant names its own client; both under
 * the browser session's sid. Every verb that ends sessions answers these, so that the Worker
 * tells the site's backend and the clients in one place (`sessions/`).
 */
export interface EndedSession {
  sid: string;
  /** Whose it was (as last signed in): said here, since the object may be emptied right after. */
  user: UserRef;
  clients: { client_id: string; sid: string }[];
}

/** Why a refresh was refused (each is `invalid_grant` to the client, but `rate_limited`: 429). */
export type RefreshRefusal =
  | 'unknown'
  | 'other_client'
  | 'wrong_key'
  | 'expired'
  | 'just_rotated'
  | 'reused'
  | 'rate_limited';

export type RefreshOutcome =
  | { ok: true; session: SessionInfo }
  /** `retryAfter`: the seconds a `rate_limited` refresh must wait. */
  | { ok: false; reason: RefreshRefusal; revoked: EndedSession[]; retryAfter?: number };
