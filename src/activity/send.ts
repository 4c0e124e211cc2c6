/**
 * @module
 * Events that only the operator's log keeps (what an admin looked at: `admin_search`,
 * `admin_view`, `admin_audit`): the route that answers decides them, and queues them itself,
 * after its answer, as the users' objects queue theirs.
 */
import { type BackgroundContext, inBackground } from '../http/background';
import { type ActivityDraft, type ActorRef, type AuditMessage, newEvent } from '../user';

/** Queues an event of `user` for the audit log only, after the answer; a failure is logged with the event. */
export function sendAudit(c: BackgroundContext, user: ActorRef, draft: ActivityDraft): void {
  const queue = c.env.AUDIT;
  const message: AuditMessage = { audit: [newEvent(user, draft)] };
  if (!queue) {
    console.error(`audit: the AUDIT queue binding is missing (see wrangler.toml): ${JSON.stringify(message)}`);
    return;
  }
  inBackground(
    c,
    queue.send(message, { contentType: 'json' }).catch((err: unknown) => {
      console.error(
        `audit: an event could not be queued and is missing from the audit log: ${JSON.stringify(message)}`,
        err,
      );
    }),
  );
}
