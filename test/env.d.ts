import type { Env as WorkerEnv } from '../src/env';

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      /** Test-only: the migrations and the demo seed, applied by `apply-migrations.ts`. */
      TEST_MIGRATIONS: import('cloudflare:test').D1Migration[];
    }
    interface GlobalProps {
      mainModule: typeof import('../src/index');
      durableNamespaces: 'LoginSession' | 'RateLimiter' | 'UserCode';
    }
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** `test/support/jwks-server.ts`: a site's identity server on 127.0.0.1. */
    identityServer: string;
  }
}
