/**
 * `npm run dev` says what a developer needs and no network noise: offline (as this machine is)
 * wrangler's runtime used to print a `getaddrinfo ENOTFOUND workers.cloudflare.com` stack, twice,
 * for a `Request.cf` sample that the Worker ignores behind the local front anyway. And neither
 * it nor `npm start` prints a secret: they take them from the environment (and `.dev.vars`), and
 * one that comes with `--var` is named, never shown.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { expect, it } from 'vitest';
import { npmStart } from '../support/npm-start.ts';
import { ROOT } from '../support/operator-scripts.ts';
import { startDev } from '../support/wrangler-dev.ts';

it('npm run dev starts without a Request.cf fetch, so without ENOTFOUND offline', async () => {
  const storage = mkdtempSync(path.join(tmpdir(), 'qrcode-login-dev-output-'));
  // As a developer's shell has it: vitest's NODE_ENV=test alone would stop Miniflare's fetch.
  const { CLOUDFLARE_CF_FETCH_ENABLED: _, NODE_ENV: __, ...env } = process.env;
  let output = '';
  const server = await startDev(storage, {}, undefined, {
    env: { ...env, CI: 'true' },
    onOutput: (text) => {
      output += text;
    },
  });
  try {
    expect(output).toContain('Ready on');
    expect(output).not.toContain('ENOTFOUND');
    expect(output).not.toContain('Unable to fetch the `Request.cf` object');
  } finally {
    await server.stop();
    rmSync(storage, { recursive: true, force: true });
  }
}, 120_000);

/** Secrets as a developer sets them: in the environment, and one (wrongly) with `--var`. */
const SITE_SECRET = 'the-site-and-the-worker-share-this-dev-secret-0123';
const WEBHOOK_SECRET = `whsec_${Buffer.from('a webhook key of thirty-two bytes').toString('base64')}`;
const INTROSPECTION_SECRET = 'shop-backend-introspection-secret-456';
const SECRET_ENV = { IDENTITY_JWT_SECRET: SITE_SECRET, WEBHOOK_SECRET };
const VARS = {
  IDENTITY: 'jwt',
  IDENTITY_ISSUER: 'https://shop.example',
  IDENTITY_AUDIENCE: 'qr-login',
  WEBHOOK_URL: 'https://hooks.example/in',
  INTROSPECTION_CLIENTS: `shop-backend:${INTROSPECTION_SECRET}`,
};
/** The private part of the development signing key in `.dev.vars`. */
const DEV_KEY_D = /"d"\s*:\s*"([^"]+)"/.exec(readFileSync(path.join(ROOT, '.dev.vars'), 'utf8'))?.[1] ?? '';

/** The site's token, signed with the secret the Worker can only have from the environment. */
const siteToken = () =>
  new SignJWT({ sub: 'alice' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(VARS.IDENTITY_ISSUER)
    .setAudience(VARS.IDENTITY_AUDIENCE)
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(SITE_SECRET));

function expectNoSecret(output: string) {
  expect(DEV_KEY_D.length).toBeGreaterThan(20);
  for (const secret of [SITE_SECRET, WEBHOOK_SECRET, WEBHOOK_SECRET.slice(6), INTROSPECTION_SECRET, DEV_KEY_D]) {
    expect(output).not.toContain(secret);
  }
  // The one that came with --var is named, with where it belongs.
  expect(output).toContain('INTROSPECTION_CLIENTS came with --var');
  expect(output).toContain('put it in .dev.vars, or in the environment');
}

it('npm run dev takes secrets from the environment and prints none of them', async () => {
  const storage = mkdtempSync(path.join(tmpdir(), 'qrcode-login-dev-secrets-'));
  let output = '';
  const server = await startDev(storage, VARS, undefined, {
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true', ...SECRET_ENV },
    onOutput: (text) => {
      output += text;
    },
  });
  try {
    const me = await fetch(`${server.base}/api/me`, { headers: { Authorization: `Bearer ${await siteToken()}` } });
    expect(me.status).toBe(200);
    expectNoSecret(output);
  } finally {
    await server.stop();
    rmSync(storage, { recursive: true, force: true });
  }
}, 120_000);

it('npm start takes secrets from the environment and prints none of them', async () => {
  const storage = mkdtempSync(path.join(tmpdir(), 'qrcode-login-start-secrets-'));
  const vars = Object.entries(VARS).flatMap(([k, v]) => ['--var', `${k}:${v}`]);
  const server = await npmStart(storage, vars, { env: SECRET_ENV });
  try {
    const me = await fetch(`${server.base}/api/me`, { headers: { Authorization: `Bearer ${await siteToken()}` } });
    expect(me.status).toBe(200);
    expectNoSecret(server.output());
  } finally {
    await server.stop();
    rmSync(storage, { recursive: true, force: true });
  }
}, 120_000);
