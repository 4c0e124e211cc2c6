/**
 * @module
 * The Worker's side of a user's sessions (their object is `user/`): the verbs the routes call, as thinly as they call `LoginSession`: sign in (a session and
 * its two tokens), check, refresh, revoke, list. The refresh token names its user's object, so
 * no shared table is needed to find it: it is the object's id (64 hex digits) followed by 43
 * random base64url characters (258 bits), all of it base64url text; only the SHA-256 of the
 * whole is stored. The first 21 of those are the session's refresh family, the same in each of
 * its tokens (the object keeps their SHA-256 too, to know a reused token whose hash it has
 * forgotten); the 22 after them are new at each rotation.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../http/app-env';
import { randomToken, sha256Hex } from '../http/crypto';
import { ApiError } from '../http/errors';
import { requester, signInFrom } from '../http/request-info';
import { userById } from '../identity/accounts';
import { accessTtlSeconds, type IdTokenAlg, issueIdToken, issueToken } from '../tokens/signing';
import { askUser, FAMILY_CHARS, identityMode, openRefreshToken, userObjectId, userSessions } from '../user';
import type { EndedSession, NewSession, SessionInfo, SignInFrom, SignInMethod, UserRef } from '../user/types';
import { revoked } from './ended';

export { revoked } from './ended';

/** `n` random base64url characters (6 random bits each). */
const randomChars = (n: number): string => randomToken(Math.ceil((n * 6) / 8)).slice(0, n);

/** The 43 random characters after the object's id: the family's 21, then the token's own 22. */
const TOKEN_CHARS = 43;

/**
 * A new refresh token for the user whose object is `objectId`, its hash and its family's hash:
 * of a new family (a sign-in), or of `familyPart`'s (a rotation).
 */
export async function newRefreshToken(
  objectId: DurableObjectId,
  familyPart = randomChars(FAMILY_CHARS),
): Promise<{ token: string; hash: string; family: string }> {
  const token = `${objectId.toString()}${familyPart}${randomChars(TOKEN_CHARS - FAMILY_CHARS)}`;
  return { token, hash: await sha256Hex(token), family: await sha256Hex(familyPart) };
}

/** What a login answers: the access token, the refresh token, and (with `openid`) an id_token. */
export interface IssuedTokens {
  sid: string;
  /** The DPoP key the tokens are bound to (their `token_type` is then `DPoP`), or null. */
  jkt: string | null;
  token: string;
  refresh_token: string;
  expires_in: number;
  id_token?: string;
  /** The scope granted, said to a code-flow client. */
  scope?: string;
}

/** What a new session needs besides the user and how they signed in. */
export interface SignInOptions {
  from: SignInFrom;
  approver?: string | null;
  clientId?: string | null;
  /** A device-flow client's registered name, shown in the linked devices. */
  clientName?: string | null;
  scope?: string | null;
  /** The phone typed the login's code (the sign-in event says so). */
  typed?: boolean;
  /** The DPoP key the login was bound to: the session's tokens are bound to it. */
  jkt?: string | null;
}

const wantsIdToken = (session: SessionInfo) =>
  session.client_id !== null && (session.scope ?? '').split(' ').includes('openid');

/** The tokens of `session`, its refresh token given; a client's id_token signed as it asked (`alg`). */
async function tokensOf(
  c: Context<AppEnv>,
  session: SessionInfo,
  refreshToken: string,
  alg?: IdTokenAlg,
): Promise<IssuedTokens> {
  const token = await issueToken(c, session.user, session.sid, session.client_id, session.jkt);
  const issued: IssuedTokens = {
    sid: session.sid,
    jkt: session.jkt,
    token,
    refresh_token: refreshToken,
    expires_in: accessTtlSeconds(c.env),
  };
  if (wantsIdToken(session)) {
    // A code-flow client's grant: the id_token names the browser's session (the one logout
    // ends), says the profile only with `profile`, and carries at_hash, as at the code exchange.
    const oidc = session.via === 'oidc';
    issued.id_token = await issueIdToken(c, {
      user: session.user,
      sid: oidc ? (session.approver ?? session.sid) : session.sid,
      clientId: session.client_id!,
      authTimeMs: session.created_at,
      ...(oidc ? { accessToken: token, profile: (session.scope ?? '').split(' ').includes('profile'), alg } : {}),
    });
    if (oidc) issued.scope = session.scope ?? 'openid';
  }
  return issued;
}

/**
 * Starts a session for `user` and hands out its tokens. Null when the login was approved by a
 * session that has since been signed out: then nobody is signed in. A session that the user's
 * object ended to make room (a user keeps at most 50) is announced as signed out.
 */
export async function signIn(
  c: Context<AppEnv>,
  user: UserRef,
  via: SignInMethod,
  options: SignInOptions,
): Promise<IssuedTokens | null> {
  const objectId = userObjectId(c.env, user.id);
  const refresh = await newRefreshToken(objectId);
  const init: NewSession = { user, via, refreshHash: refresh.hash, family: refresh.family, ...options };
  const started = await askUser(() => c.env.USER_SESSIONS.get(objectId).start(init));
  if (!started) return null;
  // A user keeps at most MAX_SESSIONS: the least recently used ended to make room.
  revoked(c, started.ended);
  return tokensOf(c, started.session, refresh.token);
}

/**
 * Signs `user`'s session `sid` out with every session it approved, and says so; the sessions that
 * ended. Their events say who did it: the session itself, or the signed-in device that asked.
 */
export async function signOut(c: Context<AppEnv>, user: UserRef, sid: string): Promise<EndedSession[]> {
  // No signed-in request (a client's own token, say): the session ends itself.
  const own = c.get('sid') as string | null | undefined;
  const cause = own === undefined || own === sid ? ({ by: 'self' } as const) : ({ by: 'device', sid: own } as const);
  const ended = await askUser(async () => userSessions(c.env, user.id).revoke(sid, cause));
  revoked(c, ended);
  return ended;
}

/**
 * Signs out the browser session `sid` of the user `userId` (RP-Initiated Logout) with every
 * grant under it, and says so; nothing when `sid` is not a browser's single sign-on session of
 * theirs.
 */
export async function signOutBrowser(c: Context<AppEnv>, userId: string, sid: string): Promise<EndedSession[]> {
  const ended = await askUser(async () => userSessions(c.env, userId).endBrowser(sid));
  revoked(c, ended);
  return ended;
}

/** The outcome of a refresh: new tokens, or why not (each is `invalid_grant`). */
export type Refreshed = { ok: true; tokens: IssuedTokens } | { ok: false; reason: string };

const REFUSALS: Record<string, string> = {
  unknown: 'This refresh token is unknown, malformed, or its session was signed out.',
  other_client: 'This refresh token was issued to another client.',
  wrong_key: 'This refresh token is bound to a DPoP key: send a DPoP proof of that key. Nothing was spent.',
  expired: 'This refresh token has expired: sign in again.',
  just_rotated: 'This refresh token was just rotated: use the one its refresh answered.',
  reused: 'This refresh token had already been used: its session is signed out.',
  disabled: 'This account is disabled or was deleted: its session is signed out.',
};

/** A session that refreshes faster than anyone needs: 429 with `Retry-After`, and nothing is spent. */
function tooFast(retryAfter: number): ApiError {
  return new ApiError(
    'rate_limited',
    `This session has refreshed too often: try again in ${retryAfter} s (its refresh token still works).`,
    { 'Retry-After': String(retryAfter) },
  );
}

/**
 * Rotates `token` (RFC 6749 §6, RFC 9700 §4.14): the answer carries its successor, and the
 * session's access token is renewed. A reused token signs its session out (and says so to the
 * webhook). A session that refreshed 10 times in the last minute is refused with 429 and its
 * `Retry-After` (an `ApiError`), before anything is read or spent.
 */
export async function refreshSession(
  c: Context<AppEnv>,
  token: string,
  clientId: string | null,
  /** A code-flow client's `id_token_signed_response_alg`. */
  alg?: IdTokenAlg,
  /** The DPoP key the request proved, if any: a bound session refreshes only with it. */
  jkt: string | null = null,
): Promise<Refreshed> {
  const opened = await openRefreshToken(c.env, token);
  if (!opened) return { ok: false, reason: REFUSALS.unknown! };
  // An account disabled (or deleted) since it signed in renews nothing, and the first refresh of
  // any of its sessions ends all of them at once: from then on none of its phones approves a
  // login (the hand-out needs its approver alive), and no access token of it is renewed, so each
  // is the last, at most one access-token lifetime after the account closed. Asked before the
  // rotation: D1 down is a 503 that spends nothing, not a token lost mid-rotation.
  if (identityMode(c.env) === 'accounts') {
    const current = await askUser(async () => opened.stub.refreshable(opened.hash, clientId, jkt));
    // Too fast: refused before D1 is read.
    if (current && current.retryAfter > 0) throw tooFast(current.retryAfter);
    if (current && !(await userById(c.env, current.session.user.id))) {
      const ended = await askUser(async () => opened.stub.closeAccount());
      revoked(c, ended);
      return { ok: false, reason: REFUSALS.disabled! };
    }
  }
  const next = await newRefreshToken(opened.stub.id, opened.familyPart);
  // Where the token came from: a reused one's event says so.
  const from = signInFrom(requester(c));
  const outcome = await askUser(
    async () => await opened.stub.refresh(opened.hash, next.hash, clientId, opened.family, from, jkt),
  );
  if (!outcome.ok) {
    if (outcome.reason === 'rate_limited') throw tooFast(outcome.retryAfter ?? 1);
    revoked(c, outcome.revoked);
    return { ok: false, reason: REFUSALS[outcome.reason] ?? REFUSALS.unknown! };
  }
  return { ok: true, tokens: await tokensOf(c, outcome.session, next.token, alg) };
}
