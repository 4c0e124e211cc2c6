/**
 * @module
 * Handing out a confirmed login: the one way a client's poll (the PC's status, a device's token
 * poll) claims the login from its object and then finishes it (`finish.ts`). The claim is the
 * object's: it forgets the login as it answers, so of racing polls exactly one gets it. The
 * signing key is checked before, so that a misconfigured Worker never uses up a login whose
 * token it then cannot sign.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../http/app-env';
import type { IssuedTokens } from '../sessions';
import { ensureSigningKey } from '../tokens/signing';
import { type Finisher, finishLogin } from './finish';
import type { LoginSession } from './login-session';
import type { HandOut, UserRef } from './state';

/** A finished login: the new device's tokens, and who signed in. */
export type SignedIn = IssuedTokens & { user: UserRef };

/**
 * Asks the object with `claim`, and when its answer hands the login out (`handOutOf`), finishes
 * it as `finisher` says (a PC by default). Returns the object's answer, and the sign-in when there
 * was one: null when nothing was handed out, or when the phone session that approved it was
 * signed out in between (then nobody is signed in, and the login is over).
 */
export async function handOut<T>(
  c: Context<AppEnv>,
  login: DurableObjectStub<LoginSession>,
  qrcodeId: string,
  claim: () => Promise<T>,
  handOutOf: (answer: T) => HandOut | null | undefined,
  finisher: (answer: T) => Finisher = () => ({ via: 'qrcode' }),
): Promise<{ answer: T; signedIn: SignedIn | null }> {
  ensureSigningKey(c.env);
  const answer = await claim();
  const out = handOutOf(answer);
  if (!out) return { answer, signedIn: null };
  // A failure here (the user's object unreachable) gives the login back: the client's retry still signs in.
  const tokens = await finishLogin(c, login, qrcodeId, out, finisher(answer));
  return { answer, signedIn: tokens && { ...tokens, user: out.user } };
}
