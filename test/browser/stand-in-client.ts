/**
 * A stand-in relying party for the authorize page's suite: a tiny site ("Example Grafana") that
 * signs its users in with the Worker as its OpenID Provider, the way a site's framework does it,
 * with openid-client: discovery, an authorization URL with PKCE (S256), state and nonce, and on
 * its callback the code exchanged with its client secret (Basic) and the id_token checked by the
 * library (issuer, audience, nonce, `iss` of the response, RFC 9207). It says who signed in, or
 * the error the provider sent back. Its sessions live in its memory, named by a cookie.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import * as client from 'openid-client';

export interface StandInClient {
  base: string;
  redirectUri: string;
  stop: () => Promise<void>;
}

interface Visit {
  verifier: string;
  state: string;
  nonce: string;
  claims?: Record<string, unknown>;
}

const text = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><meta charset="utf-8"><title>${text(title)}</title><body><main>${body}</main></body></html>`;

/**
 * The site at `http://<host>:<port>`, a client of the Worker at `issuer` (`clientId`, `secret`,
 * redirect URI `<base>/callback`). `reach` is where this process finds the Worker when that
 * differs from `issuer` (Node may resolve `localhost` to an address the Worker does not listen on).
 */
export async function startStandInClient(options: {
  port: number;
  host?: string;
  issuer: string;
  clientId: string;
  secret: string;
  reach?: string;
}): Promise<StandInClient> {
  const base = `http://${options.host ?? '127.0.0.1'}:${options.port}`;
  const redirectUri = `${base}/callback`;
  const visits = new Map<string, Visit>();
  const reroute = (url: string, init: client.CustomFetchOptions) =>
    fetch(
      options.reach && url.startsWith(options.issuer) ? options.reach + url.slice(options.issuer.length) : url,
      init as RequestInit,
    );
  let config: client.Configuration | null = null;
  const configuration = async () => {
    config ??= await client.discovery(
      new URL(options.issuer),
      options.clientId,
      options.secret,
      client.ClientSecretBasic(options.secret),
      { execute: [client.allowInsecureRequests], [client.customFetch]: reroute },
    );
    return config;
  };
  const visitOf = (req: http.IncomingMessage) => {
    const id = /(?:^|;\s*)rp=([\w-]+)/.exec(req.headers.cookie ?? '')?.[1];
    return id ? { id, visit: visits.get(id) } : { id: null, visit: undefined };
  };

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', base);
    const html = (status: number, body: string, headers: Record<string, string> = {}) =>
      res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', ...headers }).end(body);
    try {
      if (url.pathname === '/') {
        const { visit } = visitOf(req);
        const name = visit?.claims?.name;
        return html(
          200,
          page(
            'Example Grafana',
            typeof name === 'string'
              ? `<h1>Signed in as ${text(name)}</h1>`
              : '<h1>Example Grafana</h1><p><a href="/login">Sign in with your phone</a></p>',
          ),
        );
      }
      if (url.pathname === '/login') {
        const id = randomBytes(16).toString('base64url');
        const visit: Visit = {
          verifier: client.randomPKCECodeVerifier(),
          state: client.randomState(),
          nonce: client.randomNonce(),
        };
        visits.set(id, visit);
        const params: Record<string, string> = {
          redirect_uri: redirectUri,
          scope: 'openid profile',
          code_challenge: await client.calculatePKCECodeChallenge(visit.verifier),
          code_challenge_method: 'S256',
          state: visit.state,
          nonce: visit.nonce,
        };
        // What the site's own page passes on: its language, a fresh sign-in.
        for (const name of ['ui_locales', 'prompt']) {
          const value = url.searchParams.get(name);
          if (value) params[name] = value;
        }
        const to = client.buildAuthorizationUrl(await configuration(), params);
        res.writeHead(302, { Location: to.href, 'Set-Cookie': `rp=${id}; Path=/; HttpOnly; SameSite=Lax` }).end();
        return;
      }
      if (url.pathname === '/callback') {
        const { visit } = visitOf(req);
        if (!visit) return html(400, page('Example Grafana', '<h1>No sign-in under way</h1>'));
        const error = url.searchParams.get('error');
        if (error) {
          return html(
            200,
            page(
              'Example Grafana',
              `<h1>Not signed in</h1><p id="error">${text(error)}</p><p>${text(url.searchParams.get('error_description') ?? '')}</p>`,
            ),
          );
        }
        const tokens = await client.authorizationCodeGrant(await configuration(), url, {
          pkceCodeVerifier: visit.verifier,
          expectedState: visit.state,
          expectedNonce: visit.nonce,
          idTokenExpected: true,
        });
        visit.claims = { ...tokens.claims() };
        const claims = visit.claims;
        return html(
          200,
          page(
            'Example Grafana',
            `<h1>Signed in as ${text(String(claims.name))}</h1><pre id="claims">${text(JSON.stringify(claims))}</pre>`,
          ),
        );
      }
      if (url.pathname === '/logout') {
        const { id } = visitOf(req);
        if (id) visits.delete(id);
        res.writeHead(302, { Location: '/' }).end();
        return;
      }
      html(404, page('Example Grafana', '<h1>Not found</h1>'));
    } catch (err) {
      html(500, page('Example Grafana', `<h1>The sign-in failed</h1><pre id="failure">${text(String(err))}</pre>`));
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  return {
    base,
    redirectUri,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
