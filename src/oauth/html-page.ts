/**
 * @module
 * The small pages the OAuth endpoints answer themselves (the authorize error page, the sign-out
 * question and its answers): static HTML readable without JavaScript and with none on it, in
 * the pages' stylesheet (light and dark after `prefers-color-scheme`, AA contrast), under the
 * pages' security headers, never cached. Text that an operator or a client chose (a site's name)
 * is escaped; nothing a link's author wrote reaches a page.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from '../http/app-env';
import { CONTENT_SECURITY_POLICY } from '../pages/assets';

export type Lang = 'zh-CN' | 'en';

/** The other of the two languages. */
export const otherLang = (lang: Lang): Lang => (lang === 'en' ? 'zh-CN' : 'en');

/** The visitor's language: Chinese when `asked` (`ui_locales`) or else the browser's first choice says so, else English. */
export function languageOf(c: Context<AppEnv>, asked?: string | null): Lang {
  const wanted = asked || c.req.query('ui_locales') || c.req.header('Accept-Language') || '';
  return /^\s*zh/i.test(wanted) ? 'zh-CN' : 'en';
}

/** `text` safe inside HTML text and quoted attributes. */
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (ch) => ENTITIES[ch]!);

export interface PageOptions {
  lang: Lang;
  /** The document's title (text, escaped here). */
  title: string;
  /** What goes inside `<main>`: HTML, every chosen text in it already escaped. */
  main: string;
  status?: ContentfulStatusCode;
  /** Origins a form of the page may end up at after a redirect (CSP `form-action`), besides this one. */
  formTargets?: string[];
  headers?: Record<string, string>;
  /** In the authorize page's look (its `pc.css`), `<main>` of this class; else the plain pages' look. */
  pcMain?: string;
}

/** The page, with its headers. */
export function htmlPage(options: PageOptions): Response {
  const html = `<!doctype html>
<html lang="${options.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(options.title)}</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/css/app.css">
${options.pcMain ? '<link rel="stylesheet" href="/css/pc.css">\n' : ''}</head>
<body${options.pcMain ? ' class="pc"' : ''}>
<main${options.pcMain ? ` class="${escapeHtml(options.pcMain)}"` : ''}>
${options.main}
</main>
</body>
</html>
`;
  const targets = options.formTargets ?? [];
  // After the form's POST the answer may send the browser on to a registered address of a
  // client: CSP checks form-action on that redirect too.
  const csp = targets.length
    ? CONTENT_SECURITY_POLICY.replace("form-action 'self'", `form-action 'self' ${targets.join(' ')}`)
    : CONTENT_SECURITY_POLICY;
  return new Response(html, {
    status: options.status ?? 200,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Security-Policy': csp,
      'X-Frame-Options': 'DENY',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Content-Language': options.lang,
      ...options.headers,
    },
  });
}
