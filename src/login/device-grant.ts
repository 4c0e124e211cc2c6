/**
 * @module
 * The OAuth device flow's token poll (RFC 8628 §3.4–3.5) as a pure function of the login
 * record and the clock, applied by `LoginSession`. The checks run in a fixed order, as in
 * node-oidc-provider: unknown (or not proved by the key it is bound to) → expired → pending (or too fast) → denied → issue once.
 */
import { constantTimeEqual } from '../http/crypto';
import { type DeviceGrant, type HandOut, handOutOf, isOpen, type LoginRecord } from './state';

/** The interval the device authorization answer announces, in seconds. */
export const DEVICE_POLL_INTERVAL_S = 5;
/** What RFC 8628 §3.5 adds to the interval on each `slow_down`. */
const SLOW_DOWN_STEP_S = 5;

/** The token endpoint's answers for a device code, other than success (RFC 8628 §3.5, RFC 6749 §5.2). */
export type DevicePollError =
  | 'invalid_grant'
  | 'expired_token'
  | 'authorization_pending'
  | 'slow_down'
  | 'access_denied';

/** What one token poll yields: the user to sign in (the code is then used up), or why not. */
export type DevicePoll =
  | ({ ok: true; scope: string | null } & HandOut)
  | { ok: false; error: DevicePollError; interval?: number };

/** The grant a new device-flow login starts with. */
export const newDeviceGrant = (
  clientId: string,
  scope: string | null = null,
  clientName: string | null = null,
): DeviceGrant => ({
  client_id: clientId,
  ...(clientName ? { client_name: clientName } : {}),
  interval_s: DEVICE_POLL_INTERVAL_S,
  last_poll_at: null,
  scope,
});

/**
 * One token poll. `next` is the record to store (only the poll's time and interval: no state
 * changes here, so no version bump); on success the caller ends the login, which is what
 * makes the code usable once.
 */
export function pollDevice(
  rec: LoginRecord | null,
  secretHash: string,
  clientId: string,
  now: number,
  /** The DPoP key the poll proved (null: none). */
  jkt: string | null = null,
): { next: LoginRecord | null; outcome: DevicePoll } {
  const refuse = (error: DevicePollError) => ({ next: null, outcome: { ok: false as const, error } });

  // Unknown: never issued, already used and ended, another client's, or not a device-flow login.
  const grant = rec?.device;
  if (!rec || !grant || !constantTimeEqual(rec.poll_hash, secretHash) || grant.client_id !== clientId) {
    return refuse('invalid_grant');
  }
  // A device code bound to a key (RFC 9449) is worth nothing without it: refused, and not counted as a poll.
  if (rec.jkt && rec.jkt !== jkt) return refuse('invalid_grant');
  if (rec.status === 'expired' || (isOpen(rec.status) && now >= rec.expires_at)) return refuse('expired_token');

  if (isOpen(rec.status)) {
    // Every poll counts, a refused one too: a client that keeps hammering keeps being told.
    const tooSoon = grant.last_poll_at !== null && now - grant.last_poll_at < grant.interval_s * 1000;
    const interval_s = tooSoon ? grant.interval_s + SLOW_DOWN_STEP_S : grant.interval_s;
    return {
      next: { ...rec, device: { ...grant, interval_s, last_poll_at: now } },
      outcome: tooSoon
        ? { ok: false, error: 'slow_down', interval: interval_s }
        : { ok: false, error: 'authorization_pending' },
    };
  }
  if (rec.status === 'scan-cancel') return refuse('access_denied');
  if (rec.status === 'scan-confirm' && rec.scanner) {
    return {
      next: null,
      outcome: { ok: true, scope: grant.scope ?? null, ...handOutOf({ ...rec, scanner: rec.scanner }) },
    };
  }
  return refuse('invalid_grant');
}
