/**
 * @module
 * The Worker's entry: the router, the queue consumers (the audit log, webhooks), and the Durable Object classes
 * it binds. No cron: each object's own alarms forget what has ended.
 */
import { AUDIT_QUEUE, keepAudit } from './activity/audit-queue';
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
  queue: (batch, env) => (batch.queue === AUDIT_QUEUE ? keepAudit(batch, env) : handleQueue(batch, env)),
} satisfies ExportedHandler<Env>;
