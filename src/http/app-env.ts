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
    /** A site's own token: when its user signed in with the site (epoch ms), or null if it does not say. */
    siteSignInAt: number | null;
    login: DurableObjectStub<LoginSession>;
  };
}
