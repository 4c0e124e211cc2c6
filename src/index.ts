/**
 * @module
 * The Worker's entry: the router, the queue consumer (webhooks), and the Durable Object classes it binds.
 */
import { app } from './app';
import type { Env } from './env';
import { handleQueue } from './webhooks/queue';

export { RateLimiter } from './limits/rate-limiter';
export { LoginSession } from './session/login-session';
export { UserCode } from './session/user-code';

export default {
  fetch: app.fetch,
  queue: handleQueue,
} satisfies ExportedHandler<Env>;
