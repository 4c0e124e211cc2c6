/**
 * @module
 * Finishing a login the session object has just handed out (to a PC's status poll, or to a
 * device's token poll): a linked-device session for the new device, its token, and the
 * `login.succeeded` webhook. If any of that fails (D1 down, say), the object takes its one-time
 * hand-out back, so that the client's retry still signs in instead of losing the login.
 */
import type { Context } from 'hono';
import { openSession } from '../accounts/devices';
import type { AppEnv } from '../app-env';
import { deviceOf } from '../request-info';
import { issueToken, tokenTtlSeconds } from '../tokens/signing';
import { emit } from '../webhooks/events';
import type { LoginSession } from './login-session';
import type { Requester, UserRef } from './state';

/** The signed-in user and who asked, as the session object hands them out. */
export interface HandOut {
  user: UserRef;
  requester: Requester;
}

/** The new device's token and how long it lives, in seconds. */
export async function finishLogin(
  c: Context<AppEnv>,
  session: DurableObjectStub<LoginSession>,
  qrcodeId: string,
  { user, requester }: HandOut,
): Promise<{ token: string; ttl: number }> {
  try {
    const ttl = tokenTtlSeconds(c.env);
    const sid = await openSession(c.env, user, 'qrcode', deviceOf(requester), ttl);
    const token = await issueToken(c, user, sid);
    emit(c, 'login.succeeded', { qrcode_id: qrcodeId, sid, user, requester });
    return { token, ttl };
  } catch (err) {
    await session.undeliver().catch(() => false);
    throw err;
  }
}
