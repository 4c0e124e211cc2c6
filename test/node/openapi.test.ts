/**
 * The OpenAPI document validates against the OpenAPI 3.1 specification (swagger-parser), fetched
 * from the production bundle served the way `npm start` serves it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without types
import { start } from '../../scripts/start.mjs';

let server: { url: URL; dispose: () => Promise<void> };
const storage = mkdtempSync(path.join(tmpdir(), 'qrcode-login-openapi-'));

beforeAll(async () => {
  server = await start({ port: 0, ip: '127.0.0.1', vars: {}, persistTo: storage, direct: false, bundle: null });
});

afterAll(async () => {
  await server?.dispose();
  rmSync(storage, { recursive: true, force: true });
});

it('GET /api/openapi.json is a valid OpenAPI 3.1 document', async () => {
  const res = await fetch(new URL('/api/openapi.json', server.url));
  expect(res.status).toBe(200);
  const doc = (await res.json()) as Parameters<typeof SwaggerParser.validate>[0];
  const api = (await SwaggerParser.validate(doc)) as { openapi: string; paths?: Record<string, unknown> };
  expect(api.openapi).toMatch(/^3\.1\./);
  expect(Object.keys(api.paths ?? {})).toContain('/api/qrcodes/{id}/status');
});
