/**
 * @module
 * The phone pages' language (the visitor's choice, else the browser's: see `kit/lang.js`) and
 * its strings, which live in `public/i18n/`. A new choice reloads the page in it.
 */

import en from '../i18n/en.js';
import zh from '../i18n/zh-CN.js';
import { chosenLang, rememberLang } from '../kit/lang.js';

/**
 * The strings of one language.
 * @param {import('../kit/lang.js').Lang} code
 */
export const strings = (code) => (code === 'zh-CN' ? zh : en);

export const lang = chosenLang();
export const t = strings(lang);
document.documentElement.lang = lang;

/**
 * Remembers `code` as the visitor's language and reloads the page in it.
 * @param {string} code
 */
export function setLang(code) {
  rememberLang(code);
  location.reload();
}
