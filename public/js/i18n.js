/**
 * @module
 * The page's language: the visitor's own choice (remembered in localStorage under `qrlogin.lang`),
 * else the browser's. Simplified Chinese or English; every string lives in `public/i18n/`.
 */
import en from '../i18n/en.js';
import zh from '../i18n/zh-CN.js';

const KEY = 'qrlogin.lang';

/** The languages on offer, each named in itself (so a reader finds their own). */
export const LANGUAGES = [
  { code: 'zh-CN', name: '中文' },
  { code: 'en', name: 'English' },
];

/** The strings of one language. */
export const strings = (code) => (code === 'zh-CN' ? zh : en);

/** `zh-CN` or `en` for a language tag such as `zh-Hans-CN` or `en-GB`. */
export const supported = (tag) => ((tag || 'en').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en');

function remembered() {
  try {
    const code = localStorage.getItem(KEY);
    return LANGUAGES.some((l) => l.code === code) ? code : null;
  } catch {
    // Storage may be off (a private window's policy): the browser's language then.
    return null;
  }
}

export const lang = remembered() ?? supported(navigator.language);
export const t = strings(lang);
document.documentElement.lang = lang;

/** Remembers `code` as the visitor's language and reloads the page in it. */
export function setLang(code) {
  try {
    localStorage.setItem(KEY, supported(code));
  } catch {
    // Not remembered, but the reload below still cannot switch without it: nothing more to do.
  }
  location.reload();
}
