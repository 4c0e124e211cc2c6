/**
 * @module
 * Finishing a login the login's object has just handed out (to a PC's status poll, or to a
 * device's token poll): a session of its own for the new device in the user's sessions object,
 * its tokens, and the `login.succeeded` webhook. The session starts only while the phone session
 * that confirmed is alive: if it was signed out in between, nobody is signed in (null). If the
 * rest fails (the user's object unreachable, say), the login's object takes its one-time
 * hand-out back, so that the client's retry still signs in instead of losing the login.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../http/app-env';
import { deviceOf } from '../http/request-info';
import { type IssuedTokens, signIn } from '../sessions';
import { emit } from '../webhooks/events';
import type { LoginSession } from './login-session';
import type { HandOut } from './state';

/** Who the new device is: a PC (QR or typed code), or a device-flow client and its scope. */
export type Finisher = { via: 'qrcode' } | { via: 'device'; clientId: string; scope: string | null };

/** The new device's tokens, or null when the approving session is gone. */
export async function finishLogin(
  c: Context<AppEnv>,
  login: DurableObjectStub<LoginSession>,
  qrcodeId: string,
  { user, requester, approver }: HandOut,
  finisher: Finisher = { via: 'qrcode' },
): Promise<IssuedTokens | null> {
  let tokens: IssuedTokens | null;
  try {
    tokens = await signIn(c, user, finisher.via, {
      device: deviceOf(requester),
      approvedBy: approver,
      ...(finisher.via === 'device' ? { clientId: finisher.clientId, scope: finisher.scope } : {}),
    });
  } catch (err) {
    await login.undeliver().catch(() => false);
    throw err;
  }
  if (tokens) emit(c, 'login.succeeded', { qrcode_id: qrcodeId, sid: tokens.sid, user, requester });
  return tokens;
}
