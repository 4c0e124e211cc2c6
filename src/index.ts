/**
 * @module
 * The Worker's entry: the router, the queue consumer (webhooks), and the Durable Object classes
 * it binds. No cron: each object's own alarms forget what has ended.
 */
import { app } from './app';
import type { Env } from './env';
import { handleQueue } from './webhooks/queue';

export { RateLimiter } from './limits/rate-limiter';
export { LoginSession } from './login/login-session';
export { UserCode } from './login/user-code';
export { PushedRequest } from './oauth/pushed-request';
export { PasskeyChallenge } from './passkeys/passkey-challenge';
export { DpopReplay } from './tokens/dpop-replay';
export { UserSessions } from './user/user-object';

export default {
  fetch: app.fetch,
  queue: handleQueue,
} satisfies ExportedHandler<Env>;
