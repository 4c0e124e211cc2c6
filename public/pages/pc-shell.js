/**
 * @module
 * What the two PC pages share around `<qr-login>` (`/`, and the authorize page of a site's "sign
 * in by scan"): the top bar's language switch (a new choice is remembered for every page), the
 * heading and the window's title with the site's name, the page's own status line with "Retry
 * now" for the times the element is not shown (one status region at a time), and what the
 * server's config says for the page: the site's accent, and whether the element may offer a
 * passkey from the phone here (this page under the passkeys' RP ID, either identity source).
 */
import { useAccent } from '../kit/brand.js';
import { serverConfig } from '../kit/config.js';
import { languageSwitch, markLang, rememberLang } from '../kit/lang.js';
import { passkeysUsable } from '../kit/passkey.js';
import { STRINGS } from '../widget/strings.js';

/**
 * An element of the page's HTML.
 * @param {string} id
 */
export const part = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/**
 * The frame of a PC page whose HTML has `#top`, `#title`, `#page-status`, `#page-retry` and
 * `#retry-now`. `render` is the page's own, run again when the language or the config changes.
 * @param {import('../kit/lang.js').Lang} lang the language the page starts in
 * @param {() => void} render
 */
export function pcShell(lang, render) {
  const title = part('title');
  const pageStatus = part('page-status');
  const pageRetry = part('page-retry');
  const retryButton = part('retry-now');
  const shell = {
    lang,
    /** The site's name (`SITE_NAME`), for the window's title; empty until the config comes. */
    siteName: '',
    /** `<qr-login>` may offer a passkey from the phone on this page. */
    passkeyHere: false,
    /** Ends the page's retry countdown at once ("Retry now"). @type {(() => void) | null} */
    retryNow: null,
    /** The strings of the page's language. */
    get t() {
      return STRINGS[shell.lang];
    },
    /**
     * The frame in words: the heading (and the window's title), the language switch, the
     * page's status line (hidden while `said` is null: the element speaks then), and the
     * countdown with "Retry now" while a call of the page's own is retried (`retry` seconds).
     * @param {string} heading
     * @param {string | null} said
     * @param {number} [retry]
     */
    frame(heading, said, retry = 0) {
      const { t } = shell;
      document.documentElement.lang = shell.lang;
      markLang(languages, shell.lang, t.language);
      document.title = shell.siteName ? `${heading} · ${shell.siteName}` : heading;
      if (title.textContent !== heading) title.textContent = heading;
      pageStatus.hidden = said === null && !retry;
      const text = retry ? t.retrying.replace('{n}', String(retry)) : said;
      if (text !== null && pageStatus.textContent !== text) pageStatus.textContent = text;
      // "Retry now" goes away once the server answers: the focus moves to the heading, not to the body.
      const retryHadFocus = !retry && pageRetry.contains(document.activeElement);
      pageRetry.hidden = !retry;
      if (retryHadFocus) title.focus();
      retryButton.textContent = t.retryNow;
    },
    /** The page's heading, focused (after a view that had the focus went away). */
    focusTitle: () => title.focus(),
    /** The server's config, once it came (null when it could not be had). */
    config: serverConfig(location.origin).then((config) => {
      if (config) {
        shell.siteName = config.site_name;
        shell.passkeyHere = passkeysUsable(config.passkey_rp_id);
        useAccent(document, config.site_accent, ':root');
        render();
      }
      return config;
    }),
  };
  const languages = languageSwitch(lang, STRINGS[lang].language, (code) => {
    shell.lang = code;
    rememberLang(code);
    render();
  });
  part('top').append(languages);
  retryButton.addEventListener('click', () => shell.retryNow?.());
  return shell;
}
