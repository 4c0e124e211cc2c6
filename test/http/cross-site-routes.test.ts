/**
 * Every route that may change something or spend an allowance is behind the cross-site guard
 * (issue 25, A3), found from the router itself so that the next route cannot forget it: each
 * POST, PUT, PATCH and DELETE route of `app.routes` answers a request that a browser sent from
 * another site's page (an `Origin` that is not ours, or `Sec-Fetch-Site: cross-site` without
 * one) with 403 `forbidden`, before anything is read, counted or made. A CLI (neither header)
 * and the Worker's own pages still reach each route.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { errorOf, freshIp, ORIGIN, PC_UA } from '../helpers';

const EVIL = 'https://evil.example';

/**
 * Routes deliberately left unguarded, each with the reason. None: a request that needs no
 * visitor's browser (a CLI, a site's backend) sends no `Origin` and passes the guard anyway, and
 * an allowed site's page names an origin of `ALLOWED_ORIGINS`.
 */
const NOT_GUARDED: Record<string, string> = {
  'POST /oauth/authorize':
    'an OpenID client’s site sends its visitor here by design (a form POST): it only redirects to the GET, and spends nothing',
  'POST /oauth/end_session':
    'an OpenID client’s site sends its visitor here to sign out by design (a form POST, RP-Initiated Logout): it spends nothing, ' +
    'ends a session only for a valid id_token_hint (which only the client holds), and the answer of its own question is ' +
    'protected there (a statement tied to the browser’s cookie, refused from another site’s page)',
};

const CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** What a browser says when another site's page sends the request: its origin, an opaque one, or only that it is cross-site. */
const THEIR_PAGES: Record<string, string>[] = [
  { Origin: EVIL },
  { Origin: 'null' },
  { 'Sec-Fetch-Site': 'cross-site' },
];
/** A CLI (neither header), and the Worker's own page. */
const OURS: Record<string, string>[] = [{}, { Origin: ORIGIN, 'Sec-Fetch-Site': 'same-origin' }];

/** Each POST, PUT, PATCH and DELETE route the router has, as `METHOD /path`. */
function changingRoutes(): string[] {
  const routes = app.routes
    .filter((r) => CHANGING.has(r.method) && !r.path.includes('*'))
    .map((r) => `${r.method} ${r.path}`);
  return [...new Set(routes)].sort();
}

/** A request to `route` (`METHOD /path/:param`) as a page or a client sends it, from an IP of its own. */
function send(route: string, headers: Record<string, string>, ip = freshIp()) {
  const [method, path] = route.split(' ') as [string, string];
  // Any value does for a parameter: the guard answers before anything reads it.
  const concrete = path.replace(/:[^/]+/g, 'a'.repeat(64));
  const form = concrete.startsWith('/oauth/');
  return app.fetch(
    new Request(`${ORIGIN}${concrete}`, {
      method,
      headers: {
        'CF-Connecting-IP': ip,
        'User-Agent': PC_UA,
        'Content-Type': form ? 'application/x-www-form-urlencoded' : 'application/json',
        ...headers,
      },
      body: method === 'DELETE' ? undefined : form ? 'client_id=test-cli' : '{}',
    }),
    env,
  );
}

describe('every route that changes something is behind the cross-site guard', () => {
  it('finds the routes from the router, and every exception is one of them', () => {
    const routes = changingRoutes();
    // The ones the issue named, so that an empty list cannot pass.
    expect(routes).toEqual(
      expect.arrayContaining([
        'POST /api/qrcodes',
        'POST /api/passkeys/login/options',
        'POST /oauth/device_authorization',
        'DELETE /api/sessions/:sid',
      ]),
    );
    for (const route of Object.keys(NOT_GUARDED)) expect(routes).toContain(route);
  });

  it('answers another site’s page 403 forbidden on each of them, by Origin or by Sec-Fetch-Site alone', async () => {
    const wrong: string[] = [];
    for (const route of changingRoutes().filter((r) => !(r in NOT_GUARDED))) {
      for (const headers of THEIR_PAGES) {
        const res = await send(route, headers);
        const body = (await res.json().catch(() => null)) as { error?: string } | null;
        if (res.status !== 403 || body?.error !== 'forbidden') {
          wrong.push(`${route} ${JSON.stringify(headers)}: ${res.status} ${body?.error}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('lets a CLI and the Worker’s own pages through to each of them', async () => {
    const wrong: string[] = [];
    for (const route of changingRoutes()) {
      for (const headers of OURS) {
        const res = await send(route, headers);
        const body = (await res.json().catch(() => null)) as { error?: string } | null;
        // Without a token most of them refuse, but never as a page of another site.
        if (res.status === 403 && body?.error === 'forbidden') wrong.push(`${route} ${JSON.stringify(headers)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('130 passkey sign-in options asked for by another site’s page are 403 and count nothing: the visitor’s own page still gets them', async () => {
    const visitor = freshIp();
    const route = 'POST /api/passkeys/login/options';
    const answers = await Promise.all(Array.from({ length: 130 }, () => send(route, { Origin: EVIL }, visitor)));
    expect([...new Set(answers.map((r) => r.status))]).toEqual([403]);
    expect(await errorOf(answers[0]!)).toMatchObject({ error: 'forbidden' });
    const own = await send(route, { Origin: ORIGIN, 'Sec-Fetch-Site': 'same-origin' }, visitor);
    expect(own.status).toBe(200);
    expect(await own.json()).toMatchObject({ challenge: expect.any(String) });
  });
});
