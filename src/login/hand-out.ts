/**
 * @module
 * Handing out a confirmed login: the one way a client's poll (the PC's status, a device's token
 * poll) claims the login from its object and then finishes it (`finish.ts`). The claim is the
 * object's: it forgets the login as it answers, so of racing polls exactly one gets it. The
 * signing key is checked before, so that a misconfigured Worker never uses up a login whose
 * token it then cannot sign.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../app-env';
import { ensureSigningKey } from '../tokens/signing';
import { finishLogin, type HandOut } from './finish';
import type { LoginSession } from './login-session';
import type { UserRef } from './state';

/** A finished login: what `finishLogin` gives the new device, and who signed in. */
export type SignedIn = Awaited<ReturnType<typeof finishLogin>> & { user: UserRef };

/**
 * Asks the object with `claim`, and when its answer hands the login out (`handOutOf`), finishes
 * it. Returns the object's answer, and the sign-in when there was one.
 */
export async function handOut<T>(
  c: Context<AppEnv>,
  login: DurableObjectStub<LoginSession>,
  qrcodeId: string,
  claim: () => Promise<T>,
  handOutOf: (answer: T) => HandOut | null | undefined,
): Promise<{ answer: T; signedIn: SignedIn | null }> {
  ensureSigningKey(c.env);
  const answer = await claim();
  const out = handOutOf(answer);
  if (!out) return { answer, signedIn: null };
  // A failure here (D1 down) gives the login back to the object: the client's retry still signs in.
  return { answer, signedIn: { ...(await finishLogin(c, login, qrcodeId, out)), user: out.user } };
}
