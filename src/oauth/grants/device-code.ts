/**
 * @module
 * The device code grant (RFC 8628 §3.4–3.5) of `POST /oauth/token`: a device-flow client's poll,
 * which the login's object answers (`login/device-grant.ts` holds its checks, in the order of
 * node-oidc-provider: unknown → expired → pending → already used). Once the phone confirmed, the
 * first poll collects the hand-out and signs the device in.
 *
 * The device code is `<qrcode_id>.<poll secret>`: the id finds the login's object without a
 * lookup table (a forged id is refused before any object wakes), and the object keeps only
 * the secret's SHA-256, as it does for a PC's poll token.
 */
import type { Context } from 'hono';
import type { Env } from '../../env';
import type { AppEnv } from '../../http/app-env';
import { sha256Hex } from '../../http/crypto';
import { namedObject } from '../../http/named-object';
import { reachLogin } from '../../login/call-object';
import type { DevicePoll } from '../../login/device-grant';
import { handOut } from '../../login/hand-out';
import { provedKey } from '../../tokens/dpop';
import { ensureSigningKey } from '../../tokens/signing';
import { OAuthError, tokenAnswer } from '../errors';
import { deviceClientName, publicClient } from '../form';

const DEVICE_CODE = /^([0-9a-f]{64})\.([A-Za-z0-9_-]{43})$/;

/** Each refusal's wording (`error_description`). */
const REFUSALS: Record<Exclude<DevicePoll, { ok: true }>['error'] | 'approver_gone', string> = {
  approver_gone: 'The phone that approved this sign-in was signed out before the device collected it.',
  invalid_grant:
    'This device code is unknown, was issued to another client, was already used, or is bound to a DPoP key this request did not prove.',
  expired_token: 'This device code has expired: start again with a new device authorization request.',
  authorization_pending: 'Waiting for the user to confirm on their phone; poll again after the interval.',
  slow_down: 'Polling too fast.',
  access_denied: 'The user cancelled the sign-in on their phone.',
};

/** The login's object a device code names, and its secret; anything else is `invalid_grant`. */
function openDeviceCode(env: Env, code: string) {
  const invalid = () => new OAuthError('invalid_grant', REFUSALS.invalid_grant);
  const match = DEVICE_CODE.exec(code);
  if (!match) throw invalid();
  const login = namedObject(env.LOGIN_SESSION, match[1]!);
  if (!login) throw invalid();
  return { qrcodeId: match[1]!, login, secret: match[2]! };
}

export interface DeviceCodeForm {
  device_code?: string;
  client_id?: string;
}

export async function deviceCodeGrant(c: Context<AppEnv>, form: DeviceCodeForm): Promise<Response> {
  if (!form.device_code) throw new OAuthError('invalid_request', '`device_code` is required.');
  if (!form.client_id) throw new OAuthError('invalid_request', '`client_id` is required.');
  const clientId = publicClient(c.env, form.client_id);
  const { qrcodeId, login, secret } = openDeviceCode(c.env, form.device_code);
  const secretHash = await sha256Hex(secret);
  // The proof first: a refused one (a nonce to fetch, say) is not a poll and never counts toward `slow_down`.
  const jkt = await provedKey(c);
  // Check the key before the poll claims the login: a misconfigured Worker must not spend it.
  ensureSigningKey(c.env);
  const poll = await reachLogin(async (): Promise<DevicePoll> => login.pollDeviceToken(secretHash, clientId, jkt));
  if (!poll.ok) {
    const message =
      poll.error === 'slow_down' ? `Polling too fast: wait ${poll.interval} s between polls.` : REFUSALS[poll.error];
    throw new OAuthError(poll.error, message);
  }
  // The site's backend hears of a device's sign-in as of a PC's; a 503 while finishing it
  // gives the login back to the object, so the device's next poll still signs in.
  const signedIn = await handOut(
    c,
    login,
    qrcodeId,
    poll,
    {
      via: 'device',
      clientId,
      clientName: deviceClientName(c.env, clientId),
      scope: poll.scope,
    },
    jkt,
  );
  // The phone session that approved was signed out before the device collected: nobody signs in.
  if (!signedIn) throw new OAuthError('access_denied', REFUSALS.approver_gone);
  return tokenAnswer(c, signedIn);
}
