/** Picks Simplified Chinese or English after the browser's language. */
import en from '../i18n/en.js';
import zh from '../i18n/zh-CN.js';

export const lang = (navigator.language || 'en').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
export const t = lang === 'zh-CN' ? zh : en;
document.documentElement.lang = lang;
