/**
 * @module
 * The Hono environment type shared by the router and its middleware.
 */
import type { Env } from './env';
import type { LoginSession } from './login/login-session';
import type { UserRef } from './login/state';

export interface AppEnv {
  Bindings: Env;
  Variables: { user: UserRef; sid: string | null; login: DurableObjectStub<LoginSession> };
}
