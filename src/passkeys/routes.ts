/**
 * @module
 * The passkey endpoints under `/api/passkeys`: a signed-in phone registers, lists and removes
 * its user's passkeys (both identity sources; with a site's token, only from a sign-in with the
 * site of the last 10 minutes); anyone signs in with a passkey alone (discoverable), also from an
 * allowed site's page (CORS), as this Worker's account or the site's user it was registered for.
 * Thin: the work is in `index.ts`.
 */
import { Hono } from 'hono';
import { describeRoute } from 'hono-openapi';
import * as v from 'valibot';
import type { AppEnv } from '../http/app-env';
import { jsonBody } from '../http/body';
import { answers, bearerAuth } from '../http/openapi';
import { input } from '../http/validate';
import { requireApprover, requireUser } from '../identity/require-user';
import { LoginAnswer } from '../sessions/schemas';
import {
  listPasskeys,
  recentSiteSignIn,
  registerPasskey,
  registrationOptions,
  removePasskey,
  signInOptions,
  signInWithPasskey,
} from './index';
import {
  AssertionBody,
  CreatedPasskeyAnswer,
  CreationOptionsAnswer,
  PasskeyAnswer,
  PasskeyIdParam,
  RegistrationBody,
  RequestOptionsAnswer,
} from './schemas';

const CHANGE =
  'Only a session that signed in on the phone itself may (403 otherwise); a user who already has a passkey only from a sign-in of the last 10 minutes (403 otherwise); with a site’s own token (`IDENTITY=jwt`), always only from a sign-in with the site of the last 10 minutes, as its `auth_time` (else its `iat`) says (403 otherwise).';

export const passkeyRoutes = new Hono<AppEnv>()
  .post(
    '/register/options',
    describeRoute({
      summary: 'Options to register a passkey for the signed-in user',
      description: `For \`navigator.credentials.create\` (\`PublicKeyCredential.parseCreationOptionsFromJSON\`). The challenge is single-use and lives 5 minutes. ${CHANGE}`,
      tags: ['Passkeys'],
      security: bearerAuth,
      responses: answers(200, CreationOptionsAnswer, 'Creation options.', [401, 403, 503]),
    }),
    requireApprover,
    recentSiteSignIn,
    async (c) => c.json(await registrationOptions(c)),
  )

  .post(
    '/register',
    describeRoute({
      summary: 'Register a passkey: the browser’s JSON of the new credential',
      description:
        'The body is `PublicKeyCredential.toJSON()`, with an optional `name` (default: the browser and device, such as "Chrome on Android").',
      tags: ['Passkeys'],
      security: bearerAuth,
      responses: answers(201, CreatedPasskeyAnswer, 'Registered.', [400, 401, 403, 415, 503]),
    }),
    requireApprover,
    recentSiteSignIn,
    jsonBody(),
    input('json', RegistrationBody),
    async (c) => {
      const { name, ...credential } = c.req.valid('json');
      return c.json(await registerPasskey(c, credential, name), 201);
    },
  )

  .get(
    '/',
    describeRoute({
      summary: 'The signed-in user’s passkeys',
      tags: ['Passkeys'],
      security: bearerAuth,
      responses: answers(200, v.array(PasskeyAnswer), 'Most recently used first.', [401, 503]),
    }),
    requireUser,
    async (c) => c.json(await listPasskeys(c.env, c.get('user').id)),
  )

  .delete(
    '/:id',
    describeRoute({
      summary: 'Remove one of the signed-in user’s passkeys',
      description: `Another user's passkey, or an unknown one, is 404. ${CHANGE}`,
      tags: ['Passkeys'],
      security: bearerAuth,
      responses: answers(204, null, 'Removed: it signs nobody in from now on.', [401, 403, 404, 503]),
    }),
    input('param', PasskeyIdParam, 'not_found'),
    requireApprover,
    recentSiteSignIn,
    async (c) => {
      await removePasskey(c, c.req.valid('param').id);
      return c.body(null, 204);
    },
  )

  .post(
    '/login/options',
    describeRoute({
      summary: 'Options to sign in with a passkey alone',
      description:
        'For `navigator.credentials.get`: discoverable (no `allowCredentials`), user verification required. The challenge is single-use and lives 5 minutes.',
      tags: ['Passkeys'],
      responses: answers(200, RequestOptionsAnswer, 'Request options.', [429, 500, 503]),
    }),
    async (c) => c.json(await signInOptions(c)),
  )

  .post(
    '/login',
    describeRoute({
      summary: 'Sign in with a passkey alone: the browser’s JSON of the assertion',
      description:
        'The same answer as `POST /api/login`: this Worker’s account (`IDENTITY=accounts`), or the site’s user the passkey was registered for with the site’s token (`IDENTITY=jwt`: its `sub`, and its name as that token said). An assertion that does not hold (unknown passkey or account, expired or used challenge, wrong origin or RP ID, no user verification, a counter behind, a bad signature) is 401 `invalid_credentials`.',
      tags: ['Passkeys'],
      responses: answers(200, LoginAnswer, 'A token and the user.', [400, 401, 415, 429, 500, 503]),
    }),
    jsonBody(),
    input('json', AssertionBody),
    async (c) => {
      const { tokens, user } = await signInWithPasskey(c, c.req.valid('json'));
      const { token, refresh_token, expires_in } = tokens;
      return c.json({ token, refresh_token, expires_in, user });
    },
  );
