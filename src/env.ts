/**
 * @module
 * The one declaration of the Worker's bindings and variables (see wrangler.toml and .dev.vars).
 */

import type { RateLimiter } from './limits/rate-limiter';
import type { LoginSession } from './session/login-session';
import type { UserCode } from './session/user-code';

export interface Env {
  /** One Durable Object per QR code: the session's only owner. */
  LOGIN_SESSION: DurableObjectNamespace<LoginSession>;
  /** One Durable Object per code to type, pointing to its QR session. */
  USER_CODE: DurableObjectNamespace<UserCode>;
  /** Shared counters behind the request limits, one object per counted key. */
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  /** User accounts. */
  DB: D1Database;
  /** The pages in `public/`. */
  ASSETS: Fetcher;
  /** HS256 signing key, at least 32 bytes. A secret in production, `.dev.vars` locally. */
  JWT_SECRET?: string;
  /** Lifetime of a QR code in seconds (default 120). */
  QR_TTL_SECONDS?: string;
  /** Lifetime of a login token in seconds (default 604800). */
  JWT_TTL_SECONDS?: string;
  /** Origin put into `scan_url`, for a phone on the LAN; default the request's own. */
  PUBLIC_ORIGIN?: string;
  /** `off` disables the request limits (load tests on a developer machine only). */
  RATE_LIMIT?: string;
  /** `on` requires number matching on confirm. */
  MATCH_CODE?: string;
  /** Client ids allowed to use the OAuth device flow, comma-separated (default none). */
  OAUTH_CLIENTS?: string;
  /** `iss` of issued tokens and the OAuth metadata's `issuer`; default the public origin. */
  TOKEN_ISSUER?: string;
  /** `development` on a local server: the phone page names the demo accounts. */
  ENVIRONMENT?: string;
}
