/**
 * @module
 * `GET|POST /oauth/end_session`, RP-Initiated Logout 1.0: a client sends its user's browser here
 * to sign out.
 *
 * - The request is checked before anything changes. `client_id` (or, without it, the audience of
 *   a valid `id_token_hint`) names the client; a `post_logout_redirect_uri` must be one it
 *   registered, exactly. An unknown client, an address not registered for it (another client's,
 *   or anyone's), an address without a client to check it against, or a `client_id` that is not
 *   the hint's audience: a page in words (400), never a redirect, and nothing is signed out.
 * - With a valid `id_token_hint` (one of our id_tokens, for one of our clients; an expired one
 *   will do, `tokens/id-token-hint.ts`) the browser session it names ends at once, with every
 *   client's grant under it (each client with a `backchannel_logout_uri` is told, `sessions/ended.ts`),
 *   and the browser goes to the registered address with `state` (302), or gets a page "You are
 *   signed out".
 * - Without one it asks first, in words ("Sign out of <SITE_NAME>?"): the page's button POSTs a
 *   `confirm`, a statement of ours (`tokens/internal-jws.ts`, ten minutes) that carries the
 *   checked request and is tied to this browser's single sign-on cookie, so that only the page
 *   this browser was shown can answer it. A confirmation without it, with another browser's, or
 *   sent by another site's page is refused (403) and changes nothing; a good one ends the
 *   session the cookie names.
 *
 * The pages (`html-page.ts`) are small static HTML in the visitor's language (`ui_locales`, else
 * `Accept-Language`: Simplified Chinese or English), without script. Another site's page may
 * POST here (a client's form): the cross-site guard lets this path through (`http/origin-guard.ts`),
 * and the confirmation is protected here instead.
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { describeRoute, validator } from 'hono-openapi';
import type * as v from 'valibot';
import { type OidcClient, oidcClient } from '../clients';
import type { AppEnv } from '../http/app-env';
import { asApiError } from '../http/errors';
import { publicOrigin, siteName } from '../http/site';
import { signOutBrowser } from '../sessions';
import { browserSession, clearedSsoCookie, hasSsoCookie, signOutThisBrowser, ssoCookieHash } from '../sessions/sso';
import { type IdTokenHint, readIdTokenHint } from '../tokens/id-token-hint';
import { readStatement, signStatement } from '../tokens/internal-jws';
import { OAuthError } from './errors';
import { formBody } from './form';
import { escapeHtml, htmlPage, type Lang, languageOf, otherLang } from './html-page';
import { EndSessionParams } from './schemas';

type Params = v.InferOutput<typeof EndSessionParams>;

const PATH = '/oauth/end_session';
/** The confirmation's statement: its own `typ` and audience (nothing else of ours passes for it). */
const CONFIRM_TYP = 'logout';
const CONFIRM_AUDIENCE = 'end-session';
/** How long the question's page may wait for its answer. */
const CONFIRM_LIFETIME_S = 600;

/** Why a sign-out request is refused (each has its words). */
type Problem =
  | 'malformed'
  | 'unknown_client'
  | 'no_client'
  | 'client_mismatch'
  | 'unregistered_uri'
  | 'not_confirmed'
  | 'server_error'
  | 'unavailable';

/** A refused sign-out request: a page in words, never a redirect. */
class LogoutRefused extends Error {
  override readonly name = 'LogoutRefused';
  constructor(
    readonly problem: Problem,
    readonly lang: Lang | null = null,
    readonly status: ContentfulStatusCode = problem === 'not_confirmed' ? 403 : 400,
  ) {
    super(problem);
  }
}

interface Words {
  ask: (site: string) => string;
  asks: (client: string) => string;
  what: (site: string) => string;
  signOut: string;
  notAsked: string;
  otherLanguage: string;
  done: string;
  doneText: (site: string) => string;
  close: string;
  refusedTitle: string;
  nothing: string;
  problems: Record<Problem, string>;
}

const WORDS: Record<Lang, Words> = {
  en: {
    ask: (site) => `Sign out of ${site}?`,
    asks: (client) => `${client} asks to sign you out.`,
    what: (site) => `This browser will be signed out of ${site} and of every site it signed in to with it.`,
    signOut: 'Sign out',
    notAsked: 'If you did not ask to sign out, close this page: nothing changes.',
    otherLanguage: '中文',
    done: 'You are signed out',
    doneText: (site) => `This browser is no longer signed in with ${site}.`,
    close: 'You can close this page now.',
    refusedTitle: 'This sign-out link cannot be used',
    nothing:
      'Nothing was signed out. Go back to the site you came from and sign out there again; if this keeps happening, tell that site.',
    problems: {
      malformed: 'The sign-out request is malformed (a parameter is repeated, too long or not text).',
      unknown_client: 'The site that sent you here is not registered with this sign-in service.',
      no_client:
        'The sign-out request names an address to go back to, but not the site it belongs to (client_id or id_token_hint is missing), so it was not followed.',
      client_mismatch: 'The sign-out request names one site in client_id and another in its id_token_hint.',
      unregistered_uri:
        'The sign-out request asks to go back to an address that is not registered for this site, so it was not followed.',
      not_confirmed:
        'This sign-out could not be confirmed: its page has expired, or the answer did not come from it in this browser.',
      server_error: 'The sign-in service is misconfigured and cannot sign anyone out now.',
      unavailable: 'The sign-in service is temporarily unavailable. Try again in a moment.',
    },
  },
  'zh-CN': {
    ask: (site) => `要退出 ${site} 吗？`,
    asks: (client) => `${client} 请求让您退出登录。`,
    what: (site) => `此浏览器将退出 ${site}，以及通过它登录的所有网站。`,
    signOut: '退出登录',
    notAsked: '如果您没有要求退出，请关闭此页面：不会有任何改变。',
    otherLanguage: 'English',
    done: '您已退出登录',
    doneText: (site) => `此浏览器已不再通过 ${site} 登录。`,
    close: '现在可以关闭此页面。',
    refusedTitle: '无法使用此退出链接',
    nothing: '未退出任何账号。请返回您来自的网站重新退出；如果问题反复出现，请告知该网站。',
    problems: {
      malformed: '退出请求格式有误（某个参数重复、过长或不是文本）。',
      unknown_client: '将您带到这里的网站没有在本登录服务中注册。',
      no_client: '退出请求指定了返回地址，却没有说明它属于哪个网站（缺少 client_id 或 id_token_hint），因此没有跳转。',
      client_mismatch: '退出请求的 client_id 与其 id_token_hint 所属的网站不一致。',
      unregistered_uri: '退出请求要求返回到一个未为该网站注册的地址，因此没有跳转。',
      not_confirmed: '无法确认此次退出：确认页面已过期，或者确认并非在此浏览器中从该页面发出。',
      server_error: '登录服务配置有误，目前无法退出。',
      unavailable: '登录服务暂时不可用，请稍后再试。',
    },
  },
};

// ---------------------------------------------------------------- the request

/** A sign-out request whose client and address are checked. */
interface LogoutRequest {
  client: OidcClient | null;
  /** A valid hint, for one of our clients; null without one. */
  hint: IdTokenHint | null;
  /** The registered address to go back to, or null. */
  uri: string | null;
  state: string | null;
}

/** Checks the request (see the module's words); a `LogoutRefused` when it cannot be followed. */
async function checkRequest(c: Context<AppEnv>, params: Params, lang: Lang): Promise<LogoutRequest> {
  const read = params.id_token_hint ? await readIdTokenHint(c, params.id_token_hint) : null;
  const ours = read?.aud.map((id) => oidcClient(c.env, id)).find((client) => client !== null) ?? null;
  // Not an id_token of ours for one of our clients (forged, an access token, a device flow's):
  // then there is no valid hint, and the user is asked.
  const hint = ours ? read : null;
  let client = ours;
  if (params.client_id !== undefined) {
    client = oidcClient(c.env, params.client_id);
    if (!client) throw new LogoutRefused('unknown_client', lang);
    if (hint && !hint.aud.includes(client.client_id)) throw new LogoutRefused('client_mismatch', lang);
  }
  const uri = params.post_logout_redirect_uri ?? null;
  if (uri !== null && !client) throw new LogoutRefused('no_client', lang);
  if (uri !== null && !client?.post_logout_redirect_uris.includes(uri)) {
    throw new LogoutRefused('unregistered_uri', lang);
  }
  return { client, hint, uri, state: params.state ?? null };
}

// ---------------------------------------------------------------- the answers

/** Where the browser goes back to: the registered address with `state` added to its query. */
function backTo(uri: string, state: string | null): string {
  const url = new URL(uri);
  if (state !== null) url.searchParams.append('state', state);
  return url.toString();
}

/** Signed out: back to the client's registered address, or the page that says so. */
function signedOut(c: Context<AppEnv>, lang: Lang, request: Omit<LogoutRequest, 'hint'>, cookie: string | null) {
  const headers: Record<string, string> = cookie ? { 'Set-Cookie': cookie } : {};
  if (request.uri !== null) {
    return new Response(null, {
      status: 302,
      headers: { Location: backTo(request.uri, request.state), 'Cache-Control': 'no-store', ...headers },
    });
  }
  const site = escapeHtml(siteName(c.env));
  const section = (l: Lang, h: 'h1' | 'h2') => `<section lang="${l}" class="card">
  <${h}>${WORDS[l].done}</${h}>
  <p>${WORDS[l].doneText(site)}</p>
  <p>${WORDS[l].close}</p>
</section>`;
  return htmlPage({
    lang,
    title: WORDS[lang].done,
    main: `${section(lang, 'h1')}\n${section(otherLang(lang), 'h2')}`,
    headers,
  });
}

/** The question, with a button that POSTs its confirmation (tied to this browser's cookie). */
async function askFirst(c: Context<AppEnv>, lang: Lang, request: LogoutRequest): Promise<Response> {
  const confirm = await signStatement(c, CONFIRM_TYP, CONFIRM_AUDIENCE, {
    browser: await ssoCookieHash(c),
    client_id: request.client?.client_id ?? null,
    uri: request.uri,
    state: request.state,
    lang,
  });
  const words = WORDS[lang];
  const site = escapeHtml(siteName(c.env));
  // The same question in the other language: the checked request, never an invalid hint.
  const other = new URLSearchParams();
  if (request.client) other.set('client_id', request.client.client_id);
  if (request.uri !== null) other.set('post_logout_redirect_uri', request.uri);
  if (request.state !== null) other.set('state', request.state);
  other.set('ui_locales', otherLang(lang));
  const main = `<section class="card">
  <h1>${words.ask(site)}</h1>
  ${request.client ? `<p>${words.asks(escapeHtml(request.client.client_name))}</p>` : ''}
  <p>${words.what(site)}</p>
  <form method="post" action="${PATH}">
    <input type="hidden" name="confirm" value="${escapeHtml(confirm)}">
    <div class="actions single"><button type="submit">${words.signOut}</button></div>
  </form>
  <p class="hint">${words.notAsked}</p>
  <p class="hint"><a href="${PATH}?${escapeHtml(other.toString())}" lang="${otherLang(lang)}" hreflang="${otherLang(lang)}">${words.otherLanguage}</a></p>
</section>`;
  return htmlPage({
    lang,
    title: words.ask(siteName(c.env)),
    main,
    formTargets: request.uri ? [new URL(request.uri).origin] : [],
  });
}

/**
 * Whether a browser says that another site's page sent this (`Sec-Fetch-Site`, or an `Origin`
 * that is not ours). `Origin: null` passes: our own page, under `Referrer-Policy: no-referrer`,
 * sends its form with it; the statement is what proves it came from that page.
 */
function fromAnotherSite(c: Context<AppEnv>): boolean {
  const site = c.req.header('Sec-Fetch-Site')?.toLowerCase();
  if (site === 'cross-site' || site === 'same-site') return true;
  const origin = c.req.header('Origin');
  return (
    origin !== undefined && origin !== 'null' && origin !== new URL(c.req.url).origin && origin !== publicOrigin(c)
  );
}

/** The question's answer: the browser session its cookie names ends, if the answer is this browser's page's. */
async function confirmed(c: Context<AppEnv>, token: string, lang: Lang): Promise<Response> {
  const claims = await readStatement(c, CONFIRM_TYP, CONFIRM_AUDIENCE, token);
  const fresh = claims !== null && Date.now() / 1000 - claims.iat! <= CONFIRM_LIFETIME_S;
  if (!fresh || fromAnotherSite(c) || claims.browser !== (await ssoCookieHash(c))) {
    throw new LogoutRefused('not_confirmed', lang);
  }
  const asked: Lang = claims.lang === 'zh-CN' ? 'zh-CN' : 'en';
  // The client or its addresses may have changed since the question: checked again.
  const client = typeof claims.client_id === 'string' ? oidcClient(c.env, claims.client_id) : null;
  const uri =
    typeof claims.uri === 'string' && client?.post_logout_redirect_uris.includes(claims.uri) ? claims.uri : null;
  const state = typeof claims.state === 'string' ? claims.state : null;
  const cookie = await signOutThisBrowser(c);
  return signedOut(c, asked, { client, uri, state }, cookie);
}

/** The `Set-Cookie` that forgets this browser's cookie when the session it names is gone, or null. */
async function forgottenCookie(c: Context<AppEnv>): Promise<string | null> {
  if (!hasSsoCookie(c)) return null;
  return (await browserSession(c)) ? null : clearedSsoCookie(c);
}

/** A sign-out request, by GET or by POST. */
async function endSession(c: Context<AppEnv>, params: Params, method: 'GET' | 'POST'): Promise<Response> {
  const lang = languageOf(c, params.ui_locales);
  if (method === 'POST' && params.confirm !== undefined) return confirmed(c, params.confirm, lang);
  const request = await checkRequest(c, params, lang);
  if (!request.hint) return askFirst(c, lang, request);
  await signOutBrowser(c, request.hint.sub, request.hint.sid);
  return signedOut(c, lang, request, await forgottenCookie(c));
}

// ---------------------------------------------------------------- the endpoint

/** `onError` of `/oauth/end_session`: every failure is a page in words, with its status. */
export function endSessionError(err: Error, c: Context<AppEnv>): Response {
  let refusal: LogoutRefused;
  if (err instanceof LogoutRefused) refusal = err;
  else if (err instanceof OAuthError) refusal = new LogoutRefused('malformed', null, err.status);
  else {
    const api = asApiError(err, c.env);
    const problem =
      api.status >= 500 ? (api.code === 'service_unavailable' ? 'unavailable' : 'server_error') : 'malformed';
    refusal = new LogoutRefused(problem, null, api.status);
  }
  const first = refusal.lang ?? languageOf(c);
  const section = (l: Lang, h: 'h1' | 'h2') => `<section lang="${l}">
  <${h}>${WORDS[l].refusedTitle}</${h}>
  <p>${WORDS[l].problems[refusal.problem]}</p>
  <p>${WORDS[l].nothing}</p>
</section>`;
  const res = htmlPage({
    lang: first,
    title: WORDS[first].refusedTitle,
    main: `${section(first, 'h1')}\n${section(otherLang(first), 'h2')}`,
    status: refusal.status,
  });
  if (refusal.status === 405) res.headers.set('Allow', 'GET, POST');
  return res;
}

/** The parameters' schema as a validator whose refusal is the page. */
const params = <T extends 'query' | 'form'>(target: T) =>
  validator(
    target,
    EndSessionParams,
    (result) => {
      if (!result.success) throw new LogoutRefused('malformed');
    },
    target === 'form' ? { media: 'application/x-www-form-urlencoded' } : undefined,
  );

const describe = (summary: string, description: string) =>
  describeRoute({
    summary,
    description,
    tags: ['OpenID Provider (authorization code flow)'],
    responses: {
      200: {
        description:
          'A page (HTML): without a valid `id_token_hint`, the question "Sign out of <SITE_NAME>?" with a button that ' +
          'confirms; once signed out without a `post_logout_redirect_uri`, "You are signed out".',
      },
      302: { description: 'Signed out: back to the registered `post_logout_redirect_uri`, with `state`.' },
      400: {
        description:
          'A page in words, never a redirect, and nothing signed out: an unknown client, a `post_logout_redirect_uri` ' +
          'not registered for it (or without a client to check it against), a `client_id` that is not the hint’s ' +
          'audience, a malformed request.',
      },
      403: {
        description:
          'A confirmation that is not this browser’s page’s (expired, forged, another site’s): nothing changes.',
      },
      500: { description: 'A page: the server is misconfigured (`OIDC_CLIENTS`, `SIGNING_KEY`).' },
      503: { description: 'A page: a backing service is unavailable.' },
    },
  });

export const endSessionEndpoint = new Hono<AppEnv>()
  .get(
    PATH,
    describe(
      'A site signs its user out (OpenID Connect RP-Initiated Logout 1.0)',
      'The parameters in the query: `id_token_hint`, `post_logout_redirect_uri` (registered for the client, exactly), ' +
        '`state`, `client_id`, `ui_locales`. With a valid hint its browser session ends at once (every client with a ' +
        '`backchannel_logout_uri` gets a logout token) and the browser goes back with `state`; without one the user is ' +
        'asked first.',
    ),
    params('query'),
    async (c) => endSession(c, c.req.valid('query'), 'GET'),
  )
  .post(
    PATH,
    describe(
      'The same, with the parameters in a form body; also the question’s answer',
      'A client’s form POST (another site’s page may send it), or the question’s own button (`confirm`: tied to this ' +
        'browser’s single sign-on cookie, refused from another site’s page).',
    ),
    formBody,
    params('form'),
    async (c) => endSession(c, c.req.valid('form'), 'POST'),
  )
  .all(PATH, () => {
    throw new LogoutRefused('malformed', null, 405);
  })
  .onError(endSessionError);
