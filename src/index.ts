/**
 * @module
 * The Worker's entry: the router, the queue consumer (webhooks), the Cron Trigger (expired
 * sessions), and the Durable Object classes it binds.
 */
import { pruneExpiredSessions } from './accounts/prune';
import { app } from './app';
import type { Env } from './env';
import { handleQueue } from './webhooks/queue';

export { RateLimiter } from './limits/rate-limiter';
export { LoginSession } from './login/login-session';
export { UserCode } from './login/user-code';

export default {
  fetch: app.fetch,
  queue: handleQueue,
  /** The Cron Trigger (`[triggers] crons` in wrangler.toml): forget expired linked devices. */
  async scheduled(controller, env) {
    const deleted = await pruneExpiredSessions(env, controller.scheduledTime);
    if (deleted > 0) console.log(`pruned ${deleted} expired sessions`);
  },
} satisfies ExportedHandler<Env>;
