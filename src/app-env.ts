/**
 * @module
 * The Hono environment type shared by the router and its middleware.
 */
import type { Env } from './env';
import type { LoginSession } from './session/login-session';
import type { UserRef } from './session/state';

export interface AppEnv {
  Bindings: Env;
  Variables: { user: UserRef; sid: string | null; session: DurableObjectStub<LoginSession> };
}
