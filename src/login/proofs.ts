/**
 * @module
 * The Worker's half of what confirming a login needs (the login's object judges, `state.ts`):
 * what the scan tells the object, so that it can fix whether a passkey will be needed; the
 * step-up's request options that the scan's answer then carries; and the proofs a confirm
 * brings, verified here (a passkey needs the user's object and WebCrypto, which the login's
 * object has not) before the object sees them.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../http/app-env';
import {
  type AssertionJson,
  confirmWith,
  issueStepUp,
  noteRefusal,
  type RequestOptions,
  relyingPartyOf,
  verifyStepUp,
} from '../passkeys';
import { phonePlace } from './phone-context';
import type { GivenProofs, PhoneView, ScanContext } from './state';

/** What the binding scan needs to fix the step-up: `CONFIRM_WITH`, and where this phone is. */
export function scanContext(c: Context<AppEnv>): ScanContext {
  const { ip, country } = phonePlace(c);
  return { confirm_with: confirmWith(c.env), phone: { ip, country } };
}

/**
 * The scan's answer with `step_up` when confirming needs a passkey: request options for the
 * user's passkeys, with a fresh challenge bound to this QR (a repeated scan replaces it).
 */
export async function withStepUp(
  c: Context<AppEnv>,
  qrcodeId: string,
  view: PhoneView,
): Promise<PhoneView & { step_up?: RequestOptions }> {
  if (!view.step_up_reason) return view;
  return { ...view, step_up: await issueStepUp(c.env, relyingPartyOf(c), c.get('user'), qrcodeId) };
}

/**
 * The proofs of a confirm body, each verified as far as the Worker can: the match code is passed
 * on (only the object knows the number); a passkey must answer this user's challenge for this QR
 * (403 `step_up_failed` or 400 here when it does not, and nothing changes). With
 * `CONFIRM_WITH=tap` no step-up exists and a passkey sent anyway is ignored.
 */
export async function givenProofs(
  c: Context<AppEnv>,
  qrcodeId: string,
  body: { match_code?: string; passkey?: AssertionJson },
): Promise<GivenProofs> {
  const given: GivenProofs = {};
  if (body.match_code !== undefined) given.match_code = body.match_code;
  if (body.passkey !== undefined && confirmWith(c.env) !== 'tap') {
    const user = c.get('user');
    const refused = noteRefusal(c, user, 'step_up_refused', { for: 'login' });
    given.passkey = await verifyStepUp(c.env, relyingPartyOf(c), user, qrcodeId, body.passkey, refused);
  }
  return given;
}
