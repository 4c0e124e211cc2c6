/**
 * @module
 * Handing out a confirmed login: once the login's object has given a client's poll (the PC's
 * status, a device's token poll) its one-time hand-out, the new device gets a session of its own
 * in the user's object, its tokens, and the `login.succeeded` webhook. The session starts only
 * while the phone session that confirmed is alive: if it was signed out in between, nobody is
 * signed in (null). If the rest fails (the user's object unreachable, say), the login's object
 * takes its hand-out back, so that the client's retry still signs in instead of losing the login.
 *
 * A caller checks the signing key (`ensureSigningKey`) before it claims the hand-out: a
 * misconfigured Worker must not spend a login.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../http/app-env';
import { signInFrom } from '../http/request-info';
import { type IssuedTokens, signIn } from '../sessions';
import { type BrowserSignIn, signInBrowser } from '../sessions/sso';
import type { OidcLogin } from '../user/oidc-types';
import type { UserRef } from '../user/types';
import { emit } from '../webhooks/events';
import type { LoginSession } from './login-session';
import type { HandOut } from './state';

/** Who the new device is: a PC (QR or typed code), or a device-flow client and its scope. */
export type SignInVia =
  | { via: 'qrcode' }
  | { via: 'device'; clientId: string; clientName: string | null; scope: string | null };

/** A finished login: the new device's tokens, and who signed in. */
export type SignedIn = IssuedTokens & { user: UserRef };

/** Signs in the device that collected `out` from login `qrcodeId`; null when the approving session is gone. */
export async function handOut(
  c: Context<AppEnv>,
  login: DurableObjectStub<LoginSession>,
  qrcodeId: string,
  { user, requester, approver, typed, jkt }: HandOut,
  device: SignInVia = { via: 'qrcode' },
  /** The DPoP key the collecting request proved (a bound login's own; else the device's, if it sent one). */
  provedJkt: string | null = null,
): Promise<SignedIn | null> {
  let tokens: IssuedTokens | null;
  try {
    tokens = await signIn(c, user, device.via, {
      from: signInFrom(requester),
      approver,
      ...(typed ? { typed } : {}),
      jkt: jkt ?? provedJkt,
      ...(device.via === 'device'
        ? { clientId: device.clientId, clientName: device.clientName, scope: device.scope }
        : {}),
    });
  } catch (err) {
    await login.undeliver().catch(() => false);
    throw err;
  }
  if (!tokens) return null;
  emit(c, 'login.succeeded', { qrcode_id: qrcodeId, sid: tokens.sid, user, requester });
  return { ...tokens, user };
}

/**
 * Signs in the browser that collected `out`, a login made for an OpenID Connect authorization
 * request: a session of its own with its single sign-on cookie, and a code for the client (see
 * `sessions/sso.ts`); no token reaches the page. Null when the approving session is gone.
 */
export async function handOutToBrowser(
  c: Context<AppEnv>,
  login: DurableObjectStub<LoginSession>,
  qrcodeId: string,
  { user, requester, approver, oidc }: HandOut & { oidc: OidcLogin },
): Promise<BrowserSignIn | null> {
  let browser: BrowserSignIn | null;
  try {
    browser = await signInBrowser(c, user, signInFrom(requester), approver, oidc);
  } catch (err) {
    await login.undeliver().catch(() => false);
    throw err;
  }
  if (!browser) return null;
  emit(c, 'login.succeeded', { qrcode_id: qrcodeId, sid: browser.sid, user, requester });
  return browser;
}
