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
                  // The device-flow tests' clients (test/oauth/): ids, and one with its registered name.
                  OAUTH_CLIENTS: 'test-cli, other-cli, named-cli=Acme CLI',
                  // A site's backend that may introspect tokens (test/sessions/).
                  INTROSPECTION_CLIENTS: 'site-backend:a secret of the site’s backend, other-backend:other',
                  // The OpenID Connect clients of test/oauth/ (see test/oauth/oidc-support.ts).
                  OIDC_CLIENTS: JSON.stringify([
                    {
                      client_id: 'grafana',
                      client_name: 'Grafana',
                      redirect_uris: ['https://grafana.example/login/generic_oauth', 'http://localhost:3000/cb'],
                      post_logout_redirect_uris: ['https://grafana.example/logged-out', 'http://localhost:3000/bye'],
                      backchannel_logout_uri: 'https://grafana.example/logout',
                    },
                    {
                      client_id: 'wiki',
                      client_name: 'Wiki',
                      redirect_uris: ['https://wiki.example/callback'],
                      post_logout_redirect_uris: ['https://wiki.example/signed-out'],
                      backchannel_logout_uri: 'https://wiki.example/backchannel-logout',
                      token_endpoint_auth_method: 'client_secret_post',
                      id_token_signed_response_alg: 'EdDSA',
                    },
                    {
                      client_id: 'spa',
                      client_name: 'Single Page',
                      redirect_uris: ['https://spa.example/cb'],
                      token_endpoint_auth_method: 'none',
                    },
                    {
                      client_id: 'pushy',
                      client_name: 'Pushy',
                      redirect_uris: ['https://pushy.example/cb'],
                      require_pushed_authorization_requests: true,
                    },
                    {
                      // A public client that must bind its tokens to a key (RFC 9449 §5.2; test/oauth/dpop-codes.test.ts).
                      client_id: 'bound',
                      client_name: 'Bound',
                      redirect_uris: ['https://bound.example/cb'],
                      token_endpoint_auth_method: 'none',
                      dpop_bound_access_tokens: true,
                    },
                  ]),
                  OIDC_CLIENT_SECRETS: 'grafana:grafana secret,wiki:wiki-secret,pushy:pushy secret',
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
