/**
 * @module
 * The Worker's entry: the router, and the Durable Object classes it binds.
 */
import { app } from './app';
import type { Env } from './env';

export { RateLimiter } from './limits/rate-limiter';
export { LoginSession } from './session/login-session';
export { UserCode } from './session/user-code';

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
