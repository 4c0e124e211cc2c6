/**
 * vitest globalSetup (Node): a stand-in for a site's identity server, serving a JWKS that the
 * tests (inside the Workers runtime) set and count through plain HTTP on 127.0.0.1.
 *   PUT  /sets/<name>   body { keys, cacheControl?, status?, answer?, location? }: what
 *                       /sets/<name>/jwks.json serves. `answer` is how: `json` (the default),
 *                       `html` (a web page, as a misrouted URL gives), `hang` (never answers),
 *                       `hang-body` (headers, then never the body), `huge` (its keys after
 *                       300 KB of white space) or `redirect` (to `location`)
 *   GET  /sets/<name>/jwks.json   the set (counted, whatever it answers)
 *   GET  /sets/<name>/hits        how many times it was fetched
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { TestProject } from 'vitest/node';

type Answer = 'json' | 'html' | 'hang' | 'hang-body' | 'redirect' | 'huge';

interface KeySet {
  body: string;
  cacheControl?: string;
  status: number;
  answer: Answer;
  location?: string;
  hits: number;
}

let server: Server;

function serve(set: KeySet, res: ServerResponse) {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (set.cacheControl) headers['Cache-Control'] = set.cacheControl;
  switch (set.answer) {
    case 'hang':
      // Never answered: the connection is closed at teardown.
      return;
    case 'hang-body':
      res.writeHead(200, headers).write('{"keys":[');
      return;
    case 'redirect':
      return res.writeHead(302, { Location: set.location ?? '/' }).end();
    case 'huge':
      return res.writeHead(200, headers).end(`${' '.repeat(300 * 1024)}${set.body}`);
    case 'html':
      return res
        .writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
        .end('<!doctype html><title>Sign in</title><p>Welcome!</p>');
    default:
      return res.writeHead(set.status, headers).end(set.status === 200 ? set.body : 'down');
  }
}

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
        const { keys, cacheControl, status = 200, answer = 'json', location } = JSON.parse(text);
        const hits = sets.get(name)?.hits ?? 0;
        sets.set(name, { body: JSON.stringify({ keys }), cacheControl, status, answer, location, hits });
        res.writeHead(204).end();
      });
      return;
    }
    const set = sets.get(name);
    if (match?.[2] === '/hits') return res.writeHead(200).end(String(set?.hits ?? 0));
    if (match?.[2] === '/jwks.json' && set) {
      set.hits++;
      return serve(set, res);
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  project.provide('identityServer', `http://127.0.0.1:${address.port}`);
}

export async function teardown() {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
}

declare module 'vitest' {
  export interface ProvidedContext {
    identityServer: string;
  }
}
