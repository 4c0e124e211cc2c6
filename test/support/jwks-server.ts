/**
 * vitest globalSetup (Node): a stand-in for a site's identity server, serving a JWKS that the
 * tests (inside the Workers runtime) set and count through plain HTTP on 127.0.0.1.
 *   PUT  /sets/<name>   body { keys, cacheControl?, status? }: what /sets/<name>/jwks.json serves
 *   GET  /sets/<name>/jwks.json   the set (counted)
 *   GET  /sets/<name>/hits        how many times it was fetched
 */
import { createServer, type Server } from 'node:http';
import type { TestProject } from 'vitest/node';

interface KeySet {
  body: string;
  cacheControl?: string;
  status: number;
  hits: number;
}

let server: Server;

export async function setup(project: TestProject) {
  const sets = new Map<string, KeySet>();
  server = createServer((req, res) => {
    const match = /^\/sets\/([\w-]+)(\/jwks\.json|\/hits)?$/.exec(req.url ?? '');
    const name = match?.[1] ?? '';
    if (match && req.method === 'PUT' && !match[2]) {
      let text = '';
      req.on('data', (chunk) => {
        text += chunk;
      });
      req.on('end', () => {
        const { keys, cacheControl, status = 200 } = JSON.parse(text);
        sets.set(name, { body: JSON.stringify({ keys }), cacheControl, status, hits: sets.get(name)?.hits ?? 0 });
        res.writeHead(204).end();
      });
      return;
    }
    const set = sets.get(name);
    if (match?.[2] === '/hits') return res.writeHead(200).end(String(set?.hits ?? 0));
    if (match?.[2] === '/jwks.json' && set) {
      set.hits++;
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (set.cacheControl) headers['Cache-Control'] = set.cacheControl;
      return res.writeHead(set.status, headers).end(set.status === 200 ? set.body : 'down');
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  project.provide('identityServer', `http://127.0.0.1:${address.port}`);
}

export async function teardown() {
  await new Promise((resolve) => server?.close(resolve));
}

declare module 'vitest' {
  export interface ProvidedContext {
    identityServer: string;
  }
}
