import path from 'node:path';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, 'migrations'));
  // The demo accounts, applied after the migrations like `npm run dev` does.
  const seed = await readD1Migrations(path.join(import.meta.dirname, 'seed'));
  return {
    test: {
      projects: [
        {
          // The Worker's own tests, inside the Workers runtime.
          plugins: [
            cloudflareTest({
              wrangler: { configPath: './wrangler.toml' },
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: [...migrations, ...seed],
                  ENVIRONMENT: 'test',
                  // The device-flow tests' clients (test/oauth/).
                  OAUTH_CLIENTS: 'test-cli, other-cli',
                  // A site's backend that may introspect tokens (test/sessions/).
                  INTROSPECTION_CLIENTS: 'site-backend:a secret of the site’s backend, other-backend:other',
                },
                // The users' objects send every event to the audit queue: here to one that nobody
                // consumes, so that no test's D1 is written after it ended. The consumer is
                // tested with the batches it would get (test/activity/); /admin's Chromium
                // test runs the real queue under `wrangler dev`.
                queueProducers: { AUDIT: { queueName: 'qrcode-login-audit-unconsumed' } },
              },
            }),
          ],
          test: {
            name: 'workers',
            // Property tests and bursts do hundreds of requests: give them room on a busy 2-core machine.
            testTimeout: 20_000,
            include: ['test/**/*.test.ts'],
            exclude: ['test/node/**'],
            setupFiles: ['./test/apply-migrations.ts'],
            // A site's identity server (its JWKS), for IDENTITY=jwt.
            globalSetup: ['./test/support/jwks-server.ts'],
          },
        },
        {
          // Tools that need Node (an OpenAPI validator built on ajv, say), against the built Worker.
          test: {
            name: 'node',
            environment: 'node',
            include: ['test/node/**/*.test.ts'],
            testTimeout: 60_000,
            hookTimeout: 60_000,
          },
        },
      ],
    },
  };
});
