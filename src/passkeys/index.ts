/**
 * @module
 * Passkeys, the Worker's side: the options each ceremony starts from, and what each answer
 * proves, for the routes (`routes.ts`) and for the confirm step (`issueStepUp`,
 * `verifyStepUp`). A passkey lives in its user's object, for both identity sources; a sign-in
 * challenge, made before any user is known, in an object of its own. Each ceremony runs in
 * the same order: read the JSON (400 when it cannot be read), verify it against the stored key
 * (the slow part, here in the Worker), then let the object take the challenge and move the
 * counter in one step, checking both again. A refused ceremony changes nothing.
 */
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { Env } from '../env';
import type { AppEnv } from '../http/app-env';
import { ApiError, ConfigError, type ErrorCode } from '../http/errors';
import { callObject } from '../http/object-call';
import { clientIp, requester, signInFrom } from '../http/request-info';
import { publicOrigin } from '../http/site';
import { identityMode } from '../identity';
import { userById } from '../identity/accounts';
import { countPasskeyChallenge, countPasskeySignIn } from '../limits/limits';
import { type IssuedTokens, signIn } from '../sessions';
import { ensureSigningKey } from '../tokens/signing';
import { askUser, RECENT_SIGN_IN_MS, userSessions } from '../user';
import {
  CHALLENGE_TTL_MS,
  type CreatedPasskey,
  type PasskeyDescriptor,
  type PasskeyInfo,
  type UseOutcome,
} from '../user/passkey-store';
import type { UserRef } from '../user/types';
import { newSignInChallenge, signInChallengeObject } from './passkey-challenge';
import { defaultPasskeyName } from './passkey-name';
import { type RelyingParty, relyingParty } from './relying-party';
import {
  ALGORITHMS,
  type AssertionJson,
  CeremonyError,
  type RegistrationJson,
  readAssertion,
  userHandleOf,
  userIdOf,
  verifyAssertion,
  verifyRegistration,
} from './webauthn';

export type { PasskeyInfo } from '../user/passkey-store';
export { type ConfirmWith, confirmWith, type RelyingParty, relyingParty } from './relying-party';
export type { AssertionJson, RegistrationJson } from './webauthn';

/** The relying party of this request. */
export const relyingPartyOf = (c: Context<AppEnv>): RelyingParty => relyingParty(c.env, publicOrigin(c));

/**
 * The RP ID for the pages (`/api/config`), so that they offer passkeys only where a browser can
 * use them; null when `PASSKEY_RP_ID` is unusable (every ceremony then answers a logged 500).
 */
export function pagesRpId(c: Context<AppEnv>): string | null {
  try {
    return relyingPartyOf(c).id;
  } catch (err) {
    if (err instanceof ConfigError) return null;
    throw err;
  }
}

/** `navigator.credentials.create`'s options, as `PublicKeyCredential.parseCreationOptionsFromJSON` reads them. */
export interface CreationOptions {
  rp: { id: string; name: string };
  user: { id: string; name: string; displayName: string };
  challenge: string;
  pubKeyCredParams: { type: 'public-key'; alg: number }[];
  timeout: number;
  excludeCredentials: { type: 'public-key'; id: string; transports: string[] }[];
  authenticatorSelection: { residentKey: 'required'; requireResidentKey: true; userVerification: 'required' };
  attestation: 'none';
  extensions: { credProps: true };
}

/** `navigator.credentials.get`'s options, as `PublicKeyCredential.parseRequestOptionsFromJSON` reads them. */
export interface RequestOptions {
  challenge: string;
  rpId: string;
  timeout: number;
  userVerification: 'required';
  allowCredentials?: { type: 'public-key'; id: string; transports: string[] }[];
}

/** What a step-up that held proves: which of the user's passkeys was used. */
export interface StepUpProof {
  passkey: string;
}

/** The binding of a registration challenge: the session that asked (a site's token has none). */
const registrationBinding = (sid: string | null) => sid ?? 'site';

const credentials = (passkeys: PasskeyDescriptor[]) =>
  passkeys.map((p) => ({ type: 'public-key' as const, id: p.id, transports: p.transports }));

/** Runs a ceremony check; a `CeremonyError` becomes 400 `invalid_request` (malformed) or `refusal`. */
async function ceremony<T>(check: () => T | Promise<T>, refusal: ErrorCode): Promise<T> {
  try {
    return await check();
  } catch (err) {
    if (err instanceof CeremonyError) {
      throw new ApiError(err.kind === 'malformed' ? 'invalid_request' : refusal, err.message);
    }
    throw err;
  }
}

const STALE_SIGN_IN =
  'Sign in again to change your passkeys: only a sign-in of the last 10 minutes may add or remove one.';

const STALE_SITE_SIGN_IN =
  'Sign in with the site again to change your passkeys: only a site token issued for a sign-in of the last ' +
  '10 minutes (its auth_time, else its iat) may add or remove one.';

/**
 * A site's own token (`IDENTITY=jwt`) adds or removes a passkey only when its user signed in with
 * the site within `RECENT_SIGN_IN_MS` (the token's `auth_time`, else its `iat`; one without either
 * may not): a passkey signs its user in by itself from then on, so it must not be added with a
 * site token that someone picked up hours later. 403 otherwise. Our own sessions are checked by
 * the user's object instead (`RECENT_SIGN_IN_MS` from the session's sign-in, once a passkey exists).
 */
export const recentSiteSignIn = createMiddleware<AppEnv>(async (c, next) => {
  if (c.get('sid') === null) {
    const at = c.get('siteSignInAt');
    if (at === null || Date.now() - at > RECENT_SIGN_IN_MS) throw new ApiError('forbidden', STALE_SITE_SIGN_IN);
  }
  await next();
});

/**
 * Options to register a passkey for the signed-in user: a discoverable credential
 * (`residentKey: "required"`), made with user verification, ES256 or RS256, none of the user's
 * passkeys again. 403 when the user has a passkey and this session signed in too long ago.
 */
export async function registrationOptions(c: Context<AppEnv>): Promise<CreationOptions> {
  const rp = relyingPartyOf(c);
  const user = c.get('user');
  const sid = c.get('sid');
  const stub = userSessions(c.env, user.id);
  const issued = await askUser(() => stub.passkeyChallenge('register', registrationBinding(sid), sid));
  if (!issued) throw new ApiError('forbidden', STALE_SIGN_IN);
  return {
    rp: { id: rp.id, name: rp.name },
    user: { id: await userHandleOf(user.id), name: user.username, displayName: user.display_name },
    challenge: issued.challenge,
    pubKeyCredParams: ALGORITHMS.map((alg) => ({ type: 'public-key', alg })),
    timeout: CHALLENGE_TTL_MS,
    excludeCredentials: credentials(issued.passkeys),
    authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
    attestation: 'none',
    extensions: { credProps: true },
  };
}

const ADD_REFUSALS = {
  challenge: 'This passkey answers no registration of this session that is still open: ask for new options.',
  duplicate: 'This passkey is already registered.',
  too_many: 'You have as many passkeys as one account may keep: remove one first.',
};

/**
 * Registers the browser's new credential for the signed-in user; `name` defaults to the device's.
 * 403 when the user has a passkey and this session signed in too long ago, checked again now.
 */
export async function registerPasskey(
  c: Context<AppEnv>,
  json: RegistrationJson,
  name?: string,
): Promise<CreatedPasskey> {
  const passkey = await ceremony(() => verifyRegistration(json, relyingPartyOf(c)), 'invalid_request');
  const stub = userSessions(c.env, c.get('user').id);
  const label = name ?? defaultPasskeyName(requester(c).user_agent);
  const sid = c.get('sid');
  const added = await askUser(
    async () => await stub.addPasskey(passkey, label, registrationBinding(sid), sid, c.get('user')),
  );
  if (!added.ok) {
    if (added.reason === 'stale') throw new ApiError('forbidden', STALE_SIGN_IN);
    throw new ApiError('invalid_request', ADD_REFUSALS[added.reason]);
  }
  return added.passkey;
}

/** The user's passkeys, most recently used first. */
export function listPasskeys(env: Env, userId: string): Promise<PasskeyInfo[]> {
  const stub = userSessions(env, userId);
  return askUser(() => stub.passkeys());
}

/** Removes one of the user's passkeys: 404 when it is not theirs, 403 from a sign-in too old. */
export async function removePasskey(env: Env, userId: string, id: string, sid: string | null): Promise<void> {
  const stub = userSessions(env, userId);
  const outcome = await askUser(() => stub.removePasskey(id, sid));
  if (outcome === 'unknown') throw new ApiError('not_found', 'You have no such passkey.');
  if (outcome === 'stale') throw new ApiError('forbidden', STALE_SIGN_IN);
}

/** Options for a sign-in with a passkey alone (discoverable: no user named, no credentials listed). */
export async function signInOptions(c: Context<AppEnv>): Promise<RequestOptions> {
  const rp = relyingPartyOf(c);
  await countPasskeyChallenge(c.env, clientIp(c));
  const { challenge } = await callObject('passkey challenge object', () => newSignInChallenge(c.env));
  return { challenge, rpId: rp.id, timeout: CHALLENGE_TTL_MS, userVerification: 'required' };
}

const USE_REFUSALS: Record<Exclude<UseOutcome, 'ok'>, string> = {
  unknown: 'This passkey was removed.',
  challenge: 'This passkey request has expired, was already used, or belongs to another sign-in: start again.',
  counter: 'The passkey’s signature counter did not move forward: it may have been copied.',
};

const NOT_SIGNED_IN = 'This passkey could not sign you in';

/**
 * The user a passkey alone proves: the assertion's user handle names the user, and so the user's
 * object (`<identity source>:<user id>`), which holds the passkey. With `IDENTITY=accounts` the
 * account must still exist; with `IDENTITY=jwt` the user is the site's, as the site's token named
 * them when the passkey was registered (this Worker cannot ask the site whether it still knows
 * them: its backend can, by the token's `sub`). The challenge must be one this Worker issued,
 * alive and unused. Every refusal is 401 `invalid_credentials` and changes nothing; on success
 * the challenge is spent and the passkey's use recorded. Its sign-in is the caller's: tokens for
 * the browser (`signInWithPasskey`), or a code for an OpenID Connect client (the authorize page).
 */
export async function passkeyAccount(c: Context<AppEnv>, json: AssertionJson): Promise<UserRef> {
  const refuse = (why: string) => new ApiError('invalid_credentials', `${NOT_SIGNED_IN}: ${why}`);
  const assertion = await ceremony(() => readAssertion(json), 'invalid_credentials');
  ensureSigningKey(c.env);
  await countPasskeySignIn(c.env, clientIp(c));
  const userId = assertion.userHandle ? userIdOf(assertion.userHandle) : null;
  if (!userId) throw refuse('it does not say whose it is (it was not made for signing in without a username).');
  const stub = userSessions(c.env, userId);
  let user: UserRef | null;
  if (identityMode(c.env) === 'accounts') {
    user = await userById(c.env, userId);
    if (!user) throw refuse('its account does not exist any more, or is disabled.');
  } else {
    // A passkey registered before the object kept its user's name is named by the id alone.
    user = (await askUser(() => stub.user())) ?? { id: userId, username: userId, display_name: userId };
  }
  const stored = await askUser(() => stub.passkey(assertion.id));
  if (!stored) throw refuse('it is not registered here (it may have been removed).');
  const use = await ceremony(() => verifyAssertion(assertion, stored, relyingPartyOf(c)), 'invalid_credentials');
  const challenge = signInChallengeObject(c.env, assertion.challenge);
  const taken =
    challenge !== null && (await callObject('passkey challenge object', () => challenge.take(assertion.challenge)));
  if (!taken) throw refuse('this sign-in request has expired or was already used: start again.');
  const outcome = await askUser(() => stub.usePasskey(assertion.id, use, null));
  if (outcome !== 'ok') throw refuse(USE_REFUSALS[outcome]);
  return user;
}

/** Signs in with a passkey alone (see `passkeyAccount`): a session and its tokens. */
export async function signInWithPasskey(
  c: Context<AppEnv>,
  json: AssertionJson,
): Promise<{ tokens: IssuedTokens; user: UserRef }> {
  const user = await passkeyAccount(c, json);
  const tokens = await signIn(c, user, 'passkey', { from: signInFrom(requester(c)) });
  if (!tokens) throw new Error('a passkey sign-in has no approver to lose');
  return { tokens, user };
}

/**
 * Options for the step-up of QR login `qrcodeId`: request options for `user`'s passkeys, with
 * a challenge bound to that QR and kept in the user's object (5 minutes, single-use). A user
 * without a passkey gets an empty `allowCredentials` (the phone then offers to create one; the
 * challenge stays valid for it).
 */
export async function issueStepUp(
  env: Env,
  rp: RelyingParty,
  user: UserRef,
  qrcodeId: string,
): Promise<RequestOptions> {
  const stub = userSessions(env, user.id);
  const issued = await askUser(() => stub.passkeyChallenge('step-up', qrcodeId, null));
  if (!issued) throw new Error('a step-up challenge is never refused');
  return {
    challenge: issued.challenge,
    rpId: rp.id,
    timeout: CHALLENGE_TTL_MS,
    userVerification: 'required',
    allowCredentials: credentials(issued.passkeys),
  };
}

/**
 * Verifies the step-up of QR login `qrcodeId` by `user`: an assertion of one of their passkeys,
 * with user verification, on one of the relying party's origins, answering the challenge bound
 * to this QR. 400 `invalid_request` when it cannot be read; 403 `step_up_failed` when it is
 * wrong, replayed, expired, another user's, another QR's, or its counter went backwards. Either
 * way nothing changes; on success the challenge is spent and the passkey's use recorded.
 */
export async function verifyStepUp(
  env: Env,
  rp: RelyingParty,
  user: UserRef,
  qrcodeId: string,
  json: AssertionJson,
): Promise<StepUpProof> {
  const assertion = await ceremony(() => readAssertion(json), 'step_up_failed');
  if (assertion.userHandle !== null && assertion.userHandle !== (await userHandleOf(user.id))) {
    throw new ApiError('step_up_failed', 'This passkey belongs to another account.');
  }
  const stub = userSessions(env, user.id);
  const stored = await askUser(() => stub.passkey(assertion.id));
  if (!stored) throw new ApiError('step_up_failed', 'This passkey is not one of yours: use one you added here.');
  const use = await ceremony(() => verifyAssertion(assertion, stored, rp), 'step_up_failed');
  const expected = { value: assertion.challenge, purpose: 'step-up' as const, binding: qrcodeId };
  const outcome = await askUser(() => stub.usePasskey(assertion.id, use, expected));
  if (outcome !== 'ok') throw new ApiError('step_up_failed', USE_REFUSALS[outcome]);
  return { passkey: assertion.id };
}
