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
