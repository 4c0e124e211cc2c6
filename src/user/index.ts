/**
 * @module
 * The user's object from the Worker's side: which object owns a user (`<identity source>:<user
 * id>`), how to call it (a failure of the object is a 503), the object a refresh token names,
 * and whether a session is alive (every authenticated request asks), and an event the Worker
 * decided handed to the user's object (`noteActivity`). The object itself is `user-object.ts`;
 * what it stores is in `session-store.ts`, `passkey-store.ts` and `activity-store.ts`.
 */

import type { Env } from '../env';
import { type BackgroundContext, inBackground } from '../http/background';
import { sha256Hex } from '../http/crypto';
import { namedObject } from '../http/named-object';
import { callObject } from '../http/object-call';
import type { ActivityDraft, ActorRef } from './activity-store';
import { identityMode } from './identity-source';
import { adoptLegacySession } from './legacy';
import type { SessionInfo } from './types';
import type { UserSessions } from './user-object';

export {
  ACTIVITY_KINDS,
  type ActivityDraft,
  type ActivityEvent,
  type ActivityKind,
  type ActorRef,
  type AuditMessage,
  newEvent,
  type SignOutCause,
  type Where,
  whereFrom,
} from './activity-store';

export { type IdentityMode, identityMode } from './identity-source';
export {
  FIRST_HAND,
  type NewSession,
  type SessionInfo,
  type SessionListing,
  type SignInFrom,
  type SignInMethod,
  type UserRef,
} from './types';
export { RECENT_SIGN_IN_MS } from './user-object';

const REFRESH_TOKEN = /^([0-9a-f]{64})([A-Za-z0-9_-]{43})$/;
/**
 * A refresh token's random part begins with its family's: this many characters, the same in
 * every token of one session (see `session-store.ts`); the 22 after them are the token's own.
 */
export const FAMILY_CHARS = 21;

type UserSessionsStub = DurableObjectStub<UserSessions>;

/** The object that owns `userId`'s sessions, under the configured identity source. */
export function userObjectId(env: Env, userId: string): DurableObjectId {
  return env.USER_SESSIONS.idFromName(`${identityMode(env)}:${userId}`);
}

export const userSessions = (env: Env, userId: string): UserSessionsStub =>
  env.USER_SESSIONS.get(userObjectId(env, userId));

/** Calls the user's object; a failure of the object is a 503. */
export const askUser = <T>(call: () => Promise<T>): Promise<T> => callObject('user object', call);

/** What a refresh token names: its object, the token's hash, its family's part and that part's hash. */
export interface OpenedRefreshToken {
  stub: UserSessionsStub;
  hash: string;
  familyPart: string;
  family: string;
}

/** The object a refresh token belongs to, its hash and family, or null for anything that is not one of ours. */
export async function openRefreshToken(env: Env, token: string): Promise<OpenedRefreshToken | null> {
  const match = REFRESH_TOKEN.exec(token);
  if (!match) return null;
  const stub = namedObject(env.USER_SESSIONS, match[1]!);
  if (!stub) return null;
  const familyPart = match[2]!.slice(0, FAMILY_CHARS);
  return { stub, hash: await sha256Hex(token), familyPart, family: await sha256Hex(familyPart) };
}

/**
 * Records in `user`'s object an event that the Worker decided (a wrong password, a refused
 * passkey), after the answer: never on the answer's path, and a failure only logged.
 */
export function noteActivity(c: BackgroundContext, user: ActorRef, draft: ActivityDraft): void {
  const stub = userSessions(c.env, user.id);
  inBackground(
    c,
    askUser(() => stub.note({ id: user.id, username: user.username }, draft)),
  );
}

/** The live session `sid` of `userId` (each authenticated request asks), or null. */
export async function checkSession(env: Env, userId: string, sid: string): Promise<SessionInfo | null> {
  const stub = userSessions(env, userId);
  const live = await askUser(() => stub.check(sid));
  if (live) return live;
  // A session of the last version, still in D1: moved into the object the first time it is seen.
  if (!(await askUser(() => adoptLegacySession(env, stub, sid, userId)))) return null;
  return askUser(() => stub.check(sid));
}
