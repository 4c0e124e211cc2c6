/**
 * @module
 * The Worker's side of the OpenID Provider's sessions (their storage is `user/oidc-store.ts`):
 *
 * - A browser that signs in through `/oauth/authorize` gets a session of its own (`via: "oidc"`,
 *   approved by the phone's session) and a single sign-on cookie naming it: `__Host-sso` on an
 *   https origin (`sso` on http, for localhost), `HttpOnly`, `SameSite=Lax`, `Path=/`. Its value
 *   is the user's object id (64 hex digits) and 32 random bytes; the object keeps only its
 *   SHA-256, and the cookie is worth exactly as much as that session: signed out, it opens nothing.
 * - Each authorization code has the same shape (the object's id, then 32 random bytes in
 *   base64url: 256 random bits), is stored as its SHA-256 with its binding, lives 60 seconds and
 *   works once.
 * - Exchanging a code starts the client's grant, a child session of the browser's, and issues
 *   its tokens: an access token like every other, an id_token, and a refresh token only with
 *   `offline_access`.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../http/app-env';
import { base64url, randomToken, sha256Hex } from '../http/crypto';
import { namedObject } from '../http/named-object';
import { lifetimes } from '../tokens/lifetimes';
import { accessTtlSeconds, type IdTokenAlg, issueIdToken, issueToken, tokenIssuer } from '../tokens/signing';
import { askUser, userObjectId } from '../user';
import type { AuthorizationRequest, BrowserSession, CodeBinding, CodeRefusal, OidcLogin } from '../user/oidc-types';
import type { SignInFrom, UserRef } from '../user/types';
import type { UserSessions } from '../user/user-object';
import { newRefreshToken, revoked, signOutBrowser } from '.';

type UserSessionsStub = DurableObjectStub<UserSessions>;

/** A cookie value or a code: the user's object id, then 32 random bytes (base64url). */
const CREDENTIAL = /^([0-9a-f]{64})([A-Za-z0-9_-]{43})$/;

/** A new credential naming the object `objectId`, and its hash. */
async function newCredential(objectId: DurableObjectId): Promise<{ value: string; hash: string }> {
  const value = `${objectId.toString()}${randomToken(32)}`;
  return { value, hash: await sha256Hex(value) };
}

/** The object a credential names and the credential's hash, or null for anything that is not one of ours. */
async function openCredential(
  c: Context<AppEnv>,
  value: string,
): Promise<{ stub: UserSessionsStub; hash: string } | null> {
  const match = CREDENTIAL.exec(value);
  const stub = match ? namedObject(c.env.USER_SESSIONS, match[1]!) : null;
  return stub && { stub, hash: await sha256Hex(value) };
}

// ---------------------------------------------------------------- the authorization response

/**
 * Where the browser goes back to (RFC 6749 §4.1.2, RFC 9207): the redirect URI with `params`
 * (those that are null left out) and `iss` added to its query.
 */
export function authorizationResponse(
  c: Context<AppEnv>,
  redirectUri: string,
  params: Record<string, string | null | undefined>,
): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value != null) url.searchParams.append(name, value);
  url.searchParams.append('iss', tokenIssuer(c));
  return url.toString();
}

/** The response that says the user said no (the phone's Cancel, the page's, or a request too old). */
export const deniedResponse = (
  c: Context<AppEnv>,
  request: Pick<AuthorizationRequest, 'redirect_uri' | 'state'>,
  description: string,
) =>
  authorizationResponse(c, request.redirect_uri, {
    error: 'access_denied',
    error_description: description,
    state: request.state,
  });

const codeResponse = (c: Context<AppEnv>, request: AuthorizationRequest, code: string) =>
  authorizationResponse(c, request.redirect_uri, { code, state: request.state });

const bindingOf = ({ client_name, request }: OidcLogin): CodeBinding => ({
  client_id: request.client_id,
  client_name,
  redirect_uri: request.redirect_uri,
  code_challenge: request.code_challenge,
  nonce: request.nonce,
  scope: request.scope,
  ...(request.dpop_jkt ? { dpop_jkt: request.dpop_jkt } : {}),
});

// ---------------------------------------------------------------- the cookie

/** `__Host-sso` where the origin is https (the prefix needs `Secure`), `sso` on http (localhost). */
const cookieName = (c: Context<AppEnv>) => (new URL(c.req.url).protocol === 'https:' ? '__Host-sso' : 'sso');

/** The `Set-Cookie` of a browser session's cookie, living as long as the session may. */
function ssoCookie(c: Context<AppEnv>, value: string, endsAt: number): string {
  const name = cookieName(c);
  const maxAge = Math.max(0, Math.floor((endsAt - Date.now()) / 1000));
  return `${name}=${value}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${name.startsWith('__Host-') ? '; Secure' : ''}`;
}

/** The `Set-Cookie` that forgets a cookie that opens nothing any more. */
export const clearedSsoCookie = (c: Context<AppEnv>) => ssoCookie(c, '', 0);

/** The cookie's value in this request, or null. */
function cookieValue(c: Context<AppEnv>): string | null {
  const name = cookieName(c);
  for (const part of (c.req.header('Cookie') ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return null;
}

/** Whether this request carries a single sign-on cookie at all (alive or not). */
export const hasSsoCookie = (c: Context<AppEnv>): boolean => cookieValue(c) !== null;

/** The live browser session this request's cookie names, or null. */
export async function browserSession(c: Context<AppEnv>): Promise<BrowserSession | null> {
  const value = cookieValue(c);
  const opened = value ? await openCredential(c, value) : null;
  if (!opened) return null;
  return askUser(async () => await opened.stub.browserSession(opened.hash));
}

/**
 * What ties a sign-out's confirmation to this browser (RP-Initiated Logout): the SHA-256 of its
 * cookie's value, or of nothing when it has none. Only the browser that holds the cookie can
 * send it back.
 */
export const ssoCookieHash = (c: Context<AppEnv>): Promise<string> => sha256Hex(`sso:${cookieValue(c) ?? ''}`);

/**
 * Signs out the browser session this request's cookie names, with every grant under it (and
 * says so, see `ended.ts`); the `Set-Cookie` that forgets the cookie, or null without one.
 */
export async function signOutThisBrowser(c: Context<AppEnv>): Promise<string | null> {
  if (!hasSsoCookie(c)) return null;
  const session = await browserSession(c);
  if (session) await signOutBrowser(c, session.user.id, session.sid);
  return clearedSsoCookie(c);
}

/** Whether a browser session satisfies a request: `prompt=login` never does, `max_age` when recent enough. */
export function satisfies(session: BrowserSession, request: Pick<AuthorizationRequest, 'prompt' | 'max_age'>): boolean {
  if (request.prompt === 'login') return false;
  return request.max_age === null || Date.now() - session.auth_time <= request.max_age * 1000;
}

// ---------------------------------------------------------------- signing in, and codes

/** A browser signed in: where it goes now (with its code), and its cookie. */
export interface BrowserSignIn {
  sid: string;
  redirect_to: string;
  /** The `Set-Cookie` header. */
  cookie: string;
}

/**
 * The browser that asked for a confirmed QR login of an authorization request signs in: its
 * session (approved by `approver`, the phone's, which must still be alive: else null), its cookie
 * and the code, in one call of the user's object.
 */
export async function signInBrowser(
  c: Context<AppEnv>,
  user: UserRef,
  from: SignInFrom,
  approver: string | null,
  login: OidcLogin,
): Promise<BrowserSignIn | null> {
  const objectId = userObjectId(c.env, user.id);
  const [cookie, code] = await Promise.all([newCredential(objectId), newCredential(objectId)]);
  const { refreshTtlMs } = lifetimes(c.env);
  const stub = c.env.USER_SESSIONS.get(objectId);
  const started = await askUser(
    async () =>
      await stub.startBrowser(
        { user, via: 'oidc', from, approver, refreshHash: null, family: null, endsAt: Date.now() + refreshTtlMs },
        cookie.hash,
        { hash: code.hash, binding: bindingOf(login) },
      ),
  );
  if (!started) return null;
  // A user keeps at most MAX_SESSIONS: the least recently used ended to make room.
  revoked(c, started.ended);
  const { browser } = started;
  return {
    sid: browser.sid,
    redirect_to: codeResponse(c, login.request, code.value),
    cookie: ssoCookie(c, cookie.value, browser.ends_at),
  };
}

/**
 * A code for the live browser session of this request's cookie ("Continue as", `prompt=none`),
 * when that session satisfies the request's `prompt` and `max_age`: where the browser goes with
 * it, or null (then no code exists).
 */
export async function continueAs(c: Context<AppEnv>, login: OidcLogin): Promise<string | null> {
  if (login.request.prompt === 'login') return null;
  const value = cookieValue(c);
  const opened = value ? await openCredential(c, value) : null;
  if (!opened) return null;
  const code = await newCredential(opened.stub.id);
  const maxAgeMs = login.request.max_age === null ? null : login.request.max_age * 1000;
  const browser = await askUser(
    async () => await opened.stub.codeForBrowser(opened.hash, { hash: code.hash, binding: bindingOf(login) }, maxAgeMs),
  );
  return browser ? codeResponse(c, login.request, code.value) : null;
}

// ---------------------------------------------------------------- the token endpoint

/** What a client presents with its code. */
export interface PresentedCode {
  code: string;
  client_id: string;
  redirect_uri: string;
  code_verifier: string;
  /** The DPoP key the token request proved, if any: a bound code needs it, and the tokens are bound to it. */
  jkt?: string | null;
}

/** The tokens of a code: RFC 6749 §5.1's answer in our words. */
export interface CodeTokens {
  token: string;
  expires_in: number;
  scope: string;
  id_token: string;
  refresh_token?: string;
  /** The DPoP key the tokens are bound to, or null. */
  jkt: string | null;
}

export type CodeGrant = { ok: true; tokens: CodeTokens } | { ok: false; reason: string };

const CODE_REFUSALS: Record<CodeRefusal | 'signed_out', string> = {
  unknown: 'This authorization code is unknown or has expired.',
  other_client: 'This authorization code was issued to another client.',
  wrong_key:
    'This authorization code is bound to a DPoP key (dpop_jkt): send a DPoP proof of that key. Nothing was spent.',
  reused: 'This authorization code was already used: the tokens issued from it are revoked.',
  expired: 'This authorization code has expired (60 seconds): sign in again.',
  redirect_uri: 'redirect_uri is not the one of the authorization request.',
  verifier: 'code_verifier does not match the code_challenge of the authorization request (S256).',
  signed_out: 'The sign-in this code came from was signed out.',
};

/** The S256 challenge of a PKCE verifier (RFC 7636 §4.2). */
async function s256(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

/**
 * Exchanges an authorization code for the client's tokens (see `UserSessions.exchangeCode` for
 * the checks). A code used again revokes what it gave (and the site hears `session.revoked`).
 */
export async function exchangeCode(c: Context<AppEnv>, presented: PresentedCode, alg: IdTokenAlg): Promise<CodeGrant> {
  const opened = await openCredential(c, presented.code);
  if (!opened) return { ok: false, reason: CODE_REFUSALS.unknown };
  const [verifierChallenge, refresh] = await Promise.all([
    s256(presented.code_verifier),
    newRefreshToken(opened.stub.id),
  ]);
  const outcome = await askUser(
    async () =>
      await opened.stub.exchangeCode(
        opened.hash,
        {
          client_id: presented.client_id,
          redirect_uri: presented.redirect_uri,
          verifier_challenge: verifierChallenge,
          jkt: presented.jkt ?? null,
        },
        { hash: refresh.hash, family: refresh.family },
      ),
  );
  if (!outcome.ok) {
    revoked(c, outcome.revoked);
    return { ok: false, reason: CODE_REFUSALS[outcome.reason] };
  }
  const { session } = outcome;
  revoked(c, outcome.ended);
  const scope = session.scope ?? 'openid';
  const token = await issueToken(c, session.user, session.sid, session.client_id, session.jkt);
  const id_token = await issueIdToken(c, {
    user: session.user,
    sid: outcome.browser_sid,
    clientId: presented.client_id,
    authTimeMs: outcome.auth_time,
    nonce: outcome.nonce,
    accessToken: token,
    profile: scope.split(' ').includes('profile'),
    alg,
  });
  const tokens: CodeTokens = { token, expires_in: accessTtlSeconds(c.env), scope, id_token, jkt: session.jkt };
  if (outcome.refresh) tokens.refresh_token = refresh.token;
  return { ok: true, tokens };
}
