/**
 * @module
 * Which language a page speaks, Simplified Chinese or English: the visitor's choice, remembered
 * for every page of the origin in `localStorage` (`qrlogin.lang`), else the browser's. And the
 * language switch, one look on every page: a button per language, named in that language, the
 * current one pressed.
 */
import { h } from './dom.js';

const KEY = 'qrlogin.lang';

/** @typedef {'zh-CN' | 'en'} Lang */

/** @type {{ code: Lang, name: string }[]} */
export const LANGUAGES = [
  { code: 'zh-CN', name: '中文' },
  { code: 'en', name: 'English' },
];

/**
 * `zh-CN` for any Chinese tag (`zh-Hans-CN`, `zh-TW` …), else `en`.
 * @param {string | null | undefined} tag
 * @returns {Lang}
 */
export const pickLang = (tag) =>
  String(tag || '')
    .toLowerCase()
    .startsWith('zh')
    ? 'zh-CN'
    : 'en';

/** The browser's language, as one of ours. */
export const browserLang = () => pickLang(globalThis.navigator?.language);

/** The visitor's language: the one they chose on any page, else the browser's. */
export function chosenLang() {
  try {
    const code = localStorage.getItem(KEY);
    if (code) return pickLang(code);
  } catch {
    // Storage may be off (a private window's policy): the browser's language then.
  }
  return browserLang();
}

/**
 * Remembers `code` as the visitor's language on every page.
 * @param {string} code
 */
export function rememberLang(code) {
  try {
    localStorage.setItem(KEY, pickLang(code));
  } catch {
    // Not remembered: the page still switches until it is closed.
  }
}

/**
 * The language switch: a `nav` named `label`; `onChoose(code)` runs for a language other than
 * the current one.
 * @param {Lang} current
 * @param {string} label
 * @param {(code: Lang) => void} onChoose
 */
export function languageSwitch(current, label, onChoose) {
  const nav = h(
    'nav',
    { class: 'lang-switch' },
    LANGUAGES.map(({ code, name }) =>
      h('button', { type: 'button', lang: code, onclick: () => code !== nav.dataset.current && onChoose(code) }, name),
    ),
  );
  markLang(nav, current, label);
  return nav;
}

/**
 * Presses the button of `current` in a language switch, now named `label`.
 * @param {HTMLElement} nav
 * @param {Lang} current
 * @param {string} label
 */
export function markLang(nav, current, label) {
  nav.dataset.current = current;
  nav.setAttribute('aria-label', label);
  for (const button of nav.querySelectorAll('button')) {
    button.setAttribute('aria-pressed', String(button.lang === current));
  }
}
