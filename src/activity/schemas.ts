/**
 * @module
 * The shape of an event (the user's recent activity, the audit log) as a valibot schema, for
 * `GET /api/openapi.json`.
 */
import * as v from 'valibot';
import { isoTime } from '../http/schema-kit';
import { ACTIVITY_KINDS } from '../user';

const Ref = v.object({ id: v.string(), username: v.string() });

export const ActivityAnswer = v.object({
  id: v.pipe(v.string(), v.description('`evt_…`: the same in the user’s object and in the audit log.')),
  at: isoTime,
  kind: v.picklist(ACTIVITY_KINDS),
  user: Ref,
  actor: v.optional(v.pipe(Ref, v.description('The admin who acted, for an admin’s action.'))),
  sid: v.optional(v.string()),
  device: v.optional(v.pipe(v.string(), v.description('The User-Agent of the device.'))),
  ip: v.optional(v.string()),
  place: v.optional(v.string()),
  detail: v.optional(
    v.pipe(
      v.record(v.string(), v.union([v.string(), v.number(), v.boolean(), v.null()])),
      v.description(
        '`sign_in`: `via` (password, passkey, site, qrcode, code, device, oidc), `client_id` and `client_name` (a device-flow or OpenID client: its registered name); `sign_in_refused`: ' +
          '`reason` (password, passkey, disabled), `why`; `step_up_refused`: `for` (login, admin), `why`; `sign_out`: `by` ' +
          '(self, device, admin, reuse, disabled, limit, approver), `by_device`; `refresh_token_reused`: `session_device`; ' +
          '`passkey_added`, `passkey_removed`: `name`.',
      ),
    ),
  ),
});
