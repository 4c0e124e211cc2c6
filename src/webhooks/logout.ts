/**
 * @module
 * Back-Channel Logout 1.0 travels on the webhook queue beside the events: when a session ends,
 * `sessions/` hands `queueLogouts` one notice per client to tell (its `backchannel_logout_uri`,
 * the algorithm of its id_tokens, and what the logout token says); the consumer (`deliver.ts`)
 * signs a fresh logout token for each attempt (`tokens/logout-token.ts`: it lives two minutes,
 * a retry may come hours later) and POSTs it as `logout_token=<JWT>`, a form body (§2.5). A 2xx
 * answer acknowledges it (the spec's 200 and 204 among them); anything else is retried on the
 * webhooks' schedule, then kept with the dead letters. Queued after the answer, never failing it,
 * like the events; independent of `WEBHOOK_URL` (a site may tell its clients without webhooks).
 */
import type { Env } from '../env';
import { type BackgroundContext, inBackground } from '../http/background';
import { randomToken } from '../http/crypto';
import type { SigningAlg } from '../tokens/keys';
import { issueLogoutToken } from '../tokens/logout-token';

/** The queue message's `type` of a back-channel logout (not an event: no webhook is sent for it). */
export const LOGOUT_MESSAGE = 'backchannel_logout';

/** One client to tell that a session of its user ended. */
export interface LogoutNotice {
  client_id: string;
  /** Its `backchannel_logout_uri`. */
  uri: string;
  /** Its `id_token_signed_response_alg`: logout tokens are signed like its id_tokens. */
  alg: SigningAlg;
  iss: string;
  sub: string;
  /** The sid its id_tokens named (the browser's single sign-on session). */
  sid: string;
}

/** One queue message: a notice, shaped like an event so that the dead letters keep it alike. */
export interface QueuedLogout {
  /** Unique per notice, the same on every retry (a dead letter's key). */
  id: string;
  type: typeof LOGOUT_MESSAGE;
  /** The notice as JSON text. */
  payload: string;
}

const ALGS: readonly string[] = ['RS256', 'ES256', 'EdDSA'];

/** A queue message's body as a notice (with its message), or null when it is not one. */
export function asQueuedLogout(body: unknown): { message: QueuedLogout; notice: LogoutNotice } | null {
  if (typeof body !== 'object' || body === null) return null;
  const { id, type, payload } = body as Record<string, unknown>;
  if (type !== LOGOUT_MESSAGE || typeof id !== 'string' || typeof payload !== 'string') return null;
  let notice: Record<string, unknown>;
  try {
    notice = JSON.parse(payload);
  } catch {
    return null;
  }
  const fields = ['client_id', 'uri', 'alg', 'iss', 'sub', 'sid'] as const;
  if (fields.some((f) => typeof notice[f] !== 'string') || !ALGS.includes(notice.alg as string)) return null;
  return { message: { id, type: LOGOUT_MESSAGE, payload }, notice: notice as unknown as LogoutNotice };
}

/** A notice as it is queued. */
export const queuedLogout = (notice: LogoutNotice): QueuedLogout => ({
  id: `bcl_${randomToken(18)}`,
  type: LOGOUT_MESSAGE,
  payload: JSON.stringify(notice),
});

/** Queues the notices after the answer; never throws, never waits. */
export function queueLogouts(c: BackgroundContext, notices: LogoutNotice[]): void {
  if (notices.length === 0) return;
  const queue = c.env.WEBHOOKS;
  if (!queue) {
    // `npm run deploy` keeps the queue when a client registers a backchannel_logout_uri.
    for (const n of notices) {
      console.error(
        `back-channel logout to client "${n.client_id}" not sent: the WEBHOOKS queue binding is missing (see wrangler.toml).`,
      );
    }
    return;
  }
  for (const notice of notices) {
    const message = queuedLogout(notice);
    inBackground(
      c,
      queue.send(message, { contentType: 'json' }).catch((err) => {
        console.error(
          `back-channel logout ${message.id} to client "${notice.client_id}" could not be queued and is lost: ${message.payload}`,
          err,
        );
      }),
    );
  }
}

/** POSTs a fresh logout token for `notice`; null on a 2xx answer, else why it failed. */
export async function postLogout(env: Env, notice: LogoutNotice, timeoutMs: number): Promise<string | null> {
  let token: string;
  try {
    token = await issueLogoutToken(env, {
      iss: notice.iss,
      aud: notice.client_id,
      sub: notice.sub,
      sid: notice.sid,
      alg: notice.alg,
    });
  } catch (err) {
    return `the logout token could not be signed: ${err instanceof Error ? err.message : String(err)}`;
  }
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  try {
    const res = await fetch(notice.uri, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        'User-Agent': 'qrcode-login-backchannel-logout',
      },
      body: new URLSearchParams({ logout_token: token }).toString(),
      // A redirect is not a delivery: the token must reach the registered URI itself.
      redirect: 'manual',
      signal: timeout.signal,
    });
    await res.body?.cancel().catch(() => {});
    return res.ok ? null : `HTTP ${res.status}`;
  } catch (err) {
    if (timeout.signal.aborted) return `no answer within ${timeoutMs / 1000} s`;
    return `request failed: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    clearTimeout(timer);
  }
}
