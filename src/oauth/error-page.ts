/**
 * @module
 * The page `/oauth/authorize` answers when a request cannot be sent back to its client (an
 * unknown client, a redirect URI not registered for it, a malformed request, a used or unknown
 * pushed request, a misconfigured server): a short HTML page in words, readable without
 * JavaScript, in the visitor's language first (the request's `ui_locales`, else the browser's:
 * Simplified Chinese or English) and the other below it, in the look of the authorize page (the
 * pages' style sheets: light and dark, WCAG AA), under the pages' security headers. It has no
 * script, no refresh and no form: it never sends the browser anywhere. It never echoes the
 * request: nothing a link's author wrote reaches the page.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from '../http/app-env';
import type { UntrustedReason } from './authorize-request';
import { htmlPage, type Lang, languageOf, otherLang } from './html-page';

export type PageReason = UntrustedReason | 'server_error' | 'unavailable';

const WORDS: Record<Lang, { title: string; back: string; reasons: Record<PageReason, string> }> = {
  en: {
    title: 'This sign-in link cannot be used',
    back: 'Nothing was signed in. Go back to the site you came from and start signing in again; if this keeps happening, tell that site.',
    reasons: {
      malformed: 'The sign-in request is malformed (a parameter is repeated, too long or not text).',
      no_client: 'The sign-in request does not say which site it is for (client_id is missing).',
      unknown_client: 'The site that sent you here is not registered with this sign-in service.',
      request_uri: 'The sign-in request has expired or was already used.',
      no_redirect_uri: 'The sign-in request does not say where to go back to (redirect_uri is missing).',
      unregistered_redirect_uri:
        'The sign-in request asks to go back to an address that is not registered for this site, so it was not followed.',
      server_error: 'The sign-in service is misconfigured and cannot sign anyone in now.',
      unavailable: 'The sign-in service is temporarily unavailable. Try again in a moment.',
    },
  },
  'zh-CN': {
    title: '无法使用此登录链接',
    back: '未登录任何账号。请返回您来自的网站，重新开始登录；如果问题反复出现，请告知该网站。',
    reasons: {
      malformed: '登录请求格式有误（某个参数重复、过长或不是文本）。',
      no_client: '登录请求没有说明是哪个网站发起的（缺少 client_id）。',
      unknown_client: '将您带到这里的网站没有在本登录服务中注册。',
      request_uri: '登录请求已过期或已被使用。',
      no_redirect_uri: '登录请求没有说明登录后返回到哪里（缺少 redirect_uri）。',
      unregistered_redirect_uri: '登录请求要求返回到一个未为该网站注册的地址，因此没有跳转。',
      server_error: '登录服务配置有误，目前无法登录。',
      unavailable: '登录服务暂时不可用，请稍后再试。',
    },
  },
};

function section(lang: Lang, reason: PageReason, heading: 'h1' | 'h2'): string {
  const words = WORDS[lang];
  return `<section lang="${lang}" class="card final bad">
  <${heading}>${words.title}</${heading}>
  <p>${words.reasons[reason]}</p>
  <p class="hint">${words.back}</p>
</section>`;
}

/** The error page for `reason`, with its status. */
export function errorPage(c: Context<AppEnv>, reason: PageReason, status: ContentfulStatusCode = 400): Response {
  const first = languageOf(c);
  return htmlPage({
    lang: first,
    title: WORDS[first].title,
    main: `${section(first, reason, 'h1')}\n${section(otherLang(first), reason, 'h2')}`,
    pcMain: 'error-page',
    status,
  });
}
