/**
 * @module
 * The language switch every page shows: one button per language, named in that language,
 * the current one pressed. A choice is remembered (see `i18n.js`) and the page reloads in it.
 */
import { h } from './dom.js';
import { LANGUAGES, lang, setLang, t } from './i18n.js';

export function languageSwitch() {
  return h(
    'nav',
    { class: 'lang-switch', 'aria-label': t.language },
    LANGUAGES.map(({ code, name }) =>
      h(
        'button',
        {
          type: 'button',
          lang: code,
          'aria-pressed': String(code === lang),
          onclick: () => code !== lang && setLang(code),
        },
        name,
      ),
    ),
  );
}
