import path from 'node:path';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, 'migrations'));
  // The demo accounts, applied after the migrations like `npm run dev` does.
  const seed = await readD1Migrations(path.join(import.meta.dirname, 'seed'));
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: [...migrations, ...seed],
            ENVIRONMENT: 'test',
            // The device-flow tests' clients (test/oauth/).
            OAUTH_CLIENTS: 'test-cli, other-cli',
          },
        },
      }),
    ],
    test: {
      include: ['test/**/*.test.ts'],
      setupFiles: ['./test/apply-migrations.ts'],
    },
  };
});
