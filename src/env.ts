/**
 * @module
 * The one declaration of the Worker's bindings and variables (see wrangler.toml and .dev.vars), and how a list variable reads.
 */

import type { RateLimiter } from './limits/rate-limiter';
import type { LoginSession } from './login/login-session';
import type { UserCode } from './login/user-code';
import type { PushedRequest } from './oauth/pushed-request';
import type { PasskeyChallenge } from './passkeys/passkey-challenge';
import type { DpopReplay } from './tokens/dpop-replay';
import type { AuditMessage } from './user/activity-store';
import type { UserSessions } from './user/user-object';
import type { QueuedEvent } from './webhooks/events';
import type { QueuedLogout } from './webhooks/logout';

export interface Env {
  /** One Durable Object per QR code: the session's only owner. */
  LOGIN_SESSION: DurableObjectNamespace<LoginSession>;
  /** One Durable Object per code to type, pointing to its QR session. */
  USER_CODE: DurableObjectNamespace<UserCode>;
  /** One Durable Object per user: that user's sessions (signed-in devices) and refresh tokens. */
  USER_SESSIONS: DurableObjectNamespace<UserSessions>;
  /** One Durable Object per passkey sign-in challenge (no user is known yet when it is made). */
  PASSKEY_CHALLENGE: DurableObjectNamespace<PasskeyChallenge>;
  /** One Durable Object per pushed authorization request (RFC 9126): one use, one minute. */
  PUSHED_REQUEST: DurableObjectNamespace<PushedRequest>;
  /** One Durable Object per DPoP key (its JWK thumbprint): the `jti`s of its proofs, each accepted once. */
  DPOP_REPLAY: DurableObjectNamespace<DpopReplay>;
  /** Shared counters behind the request limits, one object per counted key. */
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  /** The accounts of `IDENTITY=accounts` (and, until drained, the last version's sessions: see user/legacy.ts). */
  DB: D1Database;
  /** The pages in `public/`. */
  ASSETS: Fetcher;
  /** Private JWK (EdDSA or ES256, with `kid`) that signs every token. A secret; `.dev.vars` locally. */
  SIGNING_KEY?: string;
  /** The key being rotated out: still published and still verifies, never signs. */
  SIGNING_KEY_PREVIOUS?: string;
  /** `iss` of issued tokens (default the public origin). */
  TOKEN_ISSUER?: string;
  /** `aud` of issued tokens (default `qrcode-login`). */
  TOKEN_AUDIENCE?: string;
  /** Who the phone user is: `accounts` (default, our D1 users) or `jwt` (the site's own tokens). */
  IDENTITY?: string;
  /** `IDENTITY=jwt`: the site's JWKS (https, or http for localhost). */
  IDENTITY_JWKS_URL?: string;
  /** `IDENTITY=jwt`: instead of a JWKS, the site's HS256 secret (at least 32 bytes). */
  IDENTITY_JWT_SECRET?: string;
  /** `IDENTITY=jwt`: the `iss` and `aud` the site's tokens must carry. */
  IDENTITY_ISSUER?: string;
  IDENTITY_AUDIENCE?: string;
  /** `IDENTITY=jwt`: where the phone page sends a user to sign in with the site. */
  IDENTITY_LOGIN_URL?: string;
  /** The name the phone shows ("Sign in to <SITE_NAME> on a computer?"); default `QR Login`. */
  SITE_NAME?: string;
  /** The accent (`#rrggbb`) of the pages' and the element's controls; refused below 3:1 (see `branding.ts`). */
  SITE_ACCENT?: string;
  /** An image of the site (a path under `public/` or a `data:` URL) on the phone pages and in the element. */
  SITE_LOGO?: string;
  /** What the QR opens, with `{id}`; default `<origin>/confirm?id={id}`. */
  SCAN_URL_TEMPLATE?: string;
  /** Origins whose pages may call the API (CORS), comma-separated. */
  ALLOWED_ORIGINS?: string;
  /** Lifetime of a QR code in seconds (default 120). */
  QR_TTL_SECONDS?: string;
  /** Lifetime of an access token in seconds (default 900). */
  JWT_TTL_SECONDS?: string;
  /** A refresh token's life after its session's last refresh, in seconds (default 30 days). */
  REFRESH_TTL_SECONDS?: string;
  /** A session's longest life after its login, in seconds (default 90 days). */
  SESSION_MAX_SECONDS?: string;
  /** `id:secret` pairs, comma-separated, allowed to call `/oauth/introspect` (HTTP Basic). A secret. */
  INTROSPECTION_CLIENTS?: string;
  /** Origin put into `scan_url`, for a phone on the LAN; default the request's own. */
  PUBLIC_ORIGIN?: string;
  /** `off` disables the request limits (load tests on a developer machine only). */
  RATE_LIMIT?: string;
  /** The WebAuthn relying party id (default the public origin's host; may be a parent domain of it). */
  PASSKEY_RP_ID?: string;
  /** The relying party's name shown by the authenticator (default `SITE_NAME`). */
  PASSKEY_RP_NAME?: string;
  /** What confirming a login needs: `tap` (default), `passkey` or `passkey-when-risky`. */
  CONFIRM_WITH?: string;
  /** `on`: every DPoP proof must carry a nonce of this Worker (`DPoP-Nonce`); default `off`. */
  DPOP_NONCE?: string;
  /** `on` requires number matching on confirm. */
  MATCH_CODE?: string;
  /** Where webhook events are POSTed; with `WEBHOOK_SECRET`, turns webhooks on. */
  WEBHOOK_URL?: string;
  /** The Standard Webhooks signing key, `whsec_` + base64. A secret in production. */
  WEBHOOK_SECRET?: string;
  /**
   * The queue of webhook events and back-channel logouts; this Worker is also its consumer (see
   * `src/webhooks/`).
   */
  WEBHOOKS?: Queue<QueuedEvent | QueuedLogout>;
  /**
   * The queue of security events on their way to the audit log in D1 (`activity/`); the users'
   * objects send to it, and this Worker consumes it. Needed on every deploy.
   */
  AUDIT?: Queue<AuditMessage>;
  /** Who may open `/admin`: usernames or user ids of this Worker's accounts, comma-separated (default none). */
  ADMIN_USERS?: string;
  /** How many days the audit log keeps an event (default 90). */
  AUDIT_RETENTION_DAYS?: string;
  /** Client ids allowed to use the OAuth device flow, comma-separated, each `id` or `id=Name` (default none). */
  OAUTH_CLIENTS?: string;
  /**
   * The OpenID Connect clients (authorization code flow), a JSON array of objects: `client_id`,
   * `client_name`, `redirect_uris`, … (see `oauth/clients.ts`). Default none.
   */
  OIDC_CLIENTS?: string;
  /** The confidential OpenID Connect clients' secrets, `id:secret` pairs, comma-separated. A secret. */
  OIDC_CLIENT_SECRETS?: string;
  /** `development` on a local server: the phone page names the demo accounts. */
  ENVIRONMENT?: string;
  /**
   * Local servers only (`npm start`, `npm run dev`): the per-run secret of the front that sets
   * `CF-Connecting-IP` from the connection (see `request-info.ts`). Never set on Cloudflare.
   */
  LOCAL_FRONT_SECRET?: string;
}

/** A comma-separated variable (`ALLOWED_ORIGINS`, `OAUTH_CLIENTS`) as its trimmed, non-empty items. */
export function commaList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}
