/**
 * @module
 * The Hono environment type shared by the router and its middleware.
 */
import type { Env } from '../env';
import type { LoginSession } from '../login/login-session';
import type { SignInMethod, UserRef } from '../user/types';

export interface AppEnv {
  Bindings: Env;
  Variables: {
    user: UserRef;
    /** The signed-in session, or null for a site's own token. */
    sid: string | null;
    /** How that session signed in. */
    via: SignInMethod;
    login: DurableObjectStub<LoginSession>;
  };
}
