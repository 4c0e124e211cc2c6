/**
 * @module
 * The words of the OpenID Provider's storage (`oidc-store.ts`): the authorization request a
 * login and a code are bound to, the codes, a browser's single sign-on session, and what the
 * verbs answer.
 */
import type { EndedSession, SessionInfo, UserRef } from './types';

/**
 * An authorization request as the checks of `/oauth/authorize` left it: what the code will be
 * bound to, and what the sign-in must satisfy (`prompt`, `max_age`). It travels signed in the
 * authorize page's `authorization`, and in the record of the QR login made for it.
 */
export interface AuthorizationRequest {
  client_id: string;
  redirect_uri: string;
  /** The known scopes asked for, `openid` among them (unknown ones are dropped). */
  scope: string;
  state: string | null;
  nonce: string | null;
  /** The S256 PKCE challenge. */
  code_challenge: string;
  /** Seconds: a sign-in older than this needs a new scan. */
  max_age: number | null;
  /** `login` asks for a new scan whatever the browser's session; `consent` is the phone's confirm. */
  prompt: 'login' | 'consent' | null;
  /** When the authorize request came (epoch seconds): the page may replace its QR for 10 minutes. */
  iat: number;
  /** The DPoP key the code is bound to (RFC 9449 §10: `dpop_jkt`, or the key PAR's proof proved). */
  dpop_jkt?: string | null;
}

/** A QR login made for an authorization request: the client it signs in to, and the request. */
export interface OidcLogin {
  client_id: string;
  client_name: string;
  request: AuthorizationRequest;
}

/** What an authorization code is bound to (OpenID Connect Core §3.1.2, RFC 7636). */
export interface CodeBinding {
  client_id: string;
  /** As the linked devices show the grant. */
  client_name: string;
  redirect_uri: string;
  /** The S256 PKCE challenge. */
  code_challenge: string;
  nonce: string | null;
  /** The scope granted: the known scopes of the request, `openid` among them. */
  scope: string;
  /** The DPoP key the code is bound to: the token request must prove it. */
  dpop_jkt?: string;
}

/** A new code: the SHA-256 of its value, and its binding. */
export interface NewCode {
  hash: string;
  binding: CodeBinding;
}

/** What the token endpoint presents with a code (the verifier already hashed to its S256 challenge). */
export interface CodePresented {
  client_id: string;
  redirect_uri: string;
  verifier_challenge: string;
  /** The DPoP key the token request proved (null: none). */
  jkt: string | null;
}

/** Why a code was refused: each is `invalid_grant` to the client. */
export type CodeRefusal = 'unknown' | 'other_client' | 'wrong_key' | 'reused' | 'expired' | 'redirect_uri' | 'verifier';

export interface StoredCode {
  binding: CodeBinding;
  browser_sid: string;
  auth_time: number;
}

export type CodeJudgement =
  | { ok: true; code: StoredCode }
  | { ok: false; reason: CodeRefusal /** The grant a reused code made, to revoke. */; usedBy: string | null };

/** A browser's single sign-on session: its sid, when its user scanned (`auth_time`), when it ends. */
export interface BrowserSession {
  sid: string;
  /** Epoch ms. */
  auth_time: number;
  ends_at: number;
  user: UserRef;
}

/** A code exchanged: the client's grant, and what its id_token says; or why not. */
export type CodeExchange =
  | {
      ok: true;
      /** The grant: a session of its own, a child of the browser's. */
      session: SessionInfo;
      browser_sid: string;
      auth_time: number;
      nonce: string | null;
      /** Whether the grant has a refresh token (`offline_access`). */
      refresh: boolean;
      /** The sessions ended to make room for the grant (a user keeps at most `MAX_SESSIONS`). */
      ended: EndedSession[];
    }
  | { ok: false; reason: CodeRefusal | 'signed_out' /** The sessions a reused code ended. */; revoked: EndedSession[] };
