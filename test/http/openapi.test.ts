/**
 * `GET /api/openapi.json`: an OpenAPI 3.1 document generated from the schemas that validate the
 * requests, with every route of the Worker in it. (`test/node/openapi.test.ts` validates it
 * with swagger-parser, which needs Node.)
 */
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { api } from '../helpers';

type Operation = { parameters?: { in: string; name: string }[]; requestBody?: unknown; responses: object };
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>> };

async function document(): Promise<Doc> {
  const res = await api('/api/openapi.json');
  expect(res.status).toBe(200);
  return (await res.json()) as Doc;
}

describe('GET /api/openapi.json', () => {
  it('is an OpenAPI 3.1 document', async () => {
    const doc = await document();
    expect(doc.openapi).toMatch(/^3\.1\./);
  });

  it('lists every route the Worker answers, with its method', async () => {
    const doc = await document();
    const routes = app.routes
      .filter((r) => r.method !== 'ALL' && !r.path.includes('*') && r.path !== '/api/openapi.json')
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([^/]+)/g, '{$1}')}`);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    expect(new Set(routes).size).toBeGreaterThanOrEqual(13);
    expect(documented.sort()).toEqual([...new Set(routes)].sort());
  });

  it('describes requests with the schemas that validate them', async () => {
    const { paths } = await document();
    const status = paths['/api/qrcodes/{id}/status']?.get;
    expect(status?.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual([
      'path:id',
      'header:x-poll-token',
      'query:after',
      'query:wait',
    ]);
    expect(paths['/api/login']?.post?.requestBody).toMatchObject({
      content: {
        'application/json': {
          schema: { properties: { username: { maxLength: 64 }, password: { maxLength: 256 } } },
        },
      },
    });
    // Every error answer has the contract's shape.
    expect(paths['/api/login']?.post?.responses).toMatchObject({
      401: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
    });
  });
});
