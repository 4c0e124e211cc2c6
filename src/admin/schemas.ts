/**
 * @module
 * The shapes of `/api/admin/*` as valibot schemas: what each request may carry (a search of at
 * most 64 characters, a kind the log knows, a time, a cursor) and what each answers.
 */
import * as v from 'valibot';
import { ActivityAnswer } from '../activity/schemas';
import { isoTime, object } from '../http/schema-kit';
import { AssertionBody } from '../passkeys/schemas';
import { SessionAnswer } from '../sessions/schemas';
import { ACTIVITY_KINDS } from '../user';

/** At most the longest username: a longer search can find nothing, and is refused (400). */
const MAX_SEARCH = 64;

const optionalText = (name: string, max: number) =>
  v.optional(
    v.pipe(
      v.string(`\`${name}\` must be text.`),
      v.maxLength(max, `\`${name}\` is longer than ${max} characters.`),
      // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
      v.regex(/^[^\u0000-\u001f\u007f-\u009f]*$/, `\`${name}\` contains control characters.`),
    ),
  );

export const SearchQuery = object(
  {
    q: optionalText('q', MAX_SEARCH),
    after: optionalText('after', MAX_SEARCH),
  },
  'The query',
);

export const UserIdParam = object({ id: v.pipe(v.string(), v.maxLength(128)) });
export const UserSessionParam = object({
  id: v.pipe(v.string(), v.maxLength(128)),
  sid: v.pipe(v.string(), v.maxLength(64)),
});

export const AuditQuery = object(
  {
    user: optionalText('user', MAX_SEARCH),
    kind: v.optional(v.picklist(ACTIVITY_KINDS, `\`kind\` must be one of: ${ACTIVITY_KINDS.join(', ')}.`)),
    since: v.optional(
      v.pipe(
        v.string(),
        v.regex(
          /^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d{1,3})?)?(Z|[+-]\d\d:\d\d)?)?$/,
          '`since` must be an ISO 8601 date or time, such as 2026-11-01 or 2026-11-01T10:00:00Z.',
        ),
      ),
    ),
    cursor: optionalText('cursor', 128),
  },
  'The query',
);

/** The step-up: the assertion (`PublicKeyCredential.toJSON()`) made with user verification. */
export const AdminStepUpBody = object({ passkey: AssertionBody });

const Account = v.object({
  id: v.string(),
  username: v.string(),
  display_name: v.string(),
  created_at: v.string(),
  disabled_at: v.nullable(v.string()),
});

export const AdminMeAnswer = v.object({
  user: v.object({ id: v.string(), username: v.string(), display_name: v.string() }),
  passkey_at: v.pipe(v.nullable(isoTime), v.description('When this session last proved a passkey.')),
  passkey_until: v.pipe(
    v.nullable(isoTime),
    v.description('Until when the admin API answers without asking for the passkey again (null: it asks now).'),
  ),
});

export const StepUpAnswer = v.object({ passkey_until: isoTime });

export const SearchAnswer = v.object({
  users: v.array(Account),
  next: v.pipe(v.nullable(v.string()), v.description('`after` for the next page; null: this was the last.')),
});

export const UserDetailAnswer = v.object({
  user: Account,
  sessions: v.array(SessionAnswer),
  activity: v.array(ActivityAnswer),
});

export const DisabledAnswer = v.object({
  user: Account,
  changed: v.pipe(v.boolean(), v.description('False when the account already was so: nothing was written.')),
  sessions_ended: v.number(),
});

export const AuditAnswer = v.object({
  events: v.array(ActivityAnswer),
  next: v.pipe(v.nullable(v.string()), v.description('`cursor` for the next page; null: this was the last.')),
});
