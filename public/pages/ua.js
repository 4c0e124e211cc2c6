/**
 * @module
 * Browser and operating system, in words, from a User-Agent string.
 */
import { t } from './i18n.js';

/** @type {[RegExp, string][]} */
const BROWSERS = [
  [/Edg(A|iOS)?\//, 'Edge'],
  [/OPR\//, 'Opera'],
  [/MicroMessenger/, 'WeChat'],
  [/Firefox\/|FxiOS/, 'Firefox'],
  [/SamsungBrowser/, 'Samsung Internet'],
  [/Chrome\/|CriOS/, 'Chrome'],
  [/Safari\//, 'Safari'],
  [/curl\//, 'curl'],
];
/** @type {[RegExp, string][]} */
const SYSTEMS = [
  [/Windows NT/, 'Windows'],
  [/Android/, 'Android'],
  [/iPhone|iPad|iPod/, 'iOS'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/CrOS/, 'ChromeOS'],
  [/Linux/, 'Linux'],
];
/**
 * @param {[RegExp, string][]} list
 * @param {string} ua
 */
const find = (list, ua) => list.find(([pattern]) => pattern.test(ua))?.[1] ?? null;

/**
 * `{ browser, os }`, each a name or null when unknown.
 * @param {string | null} [ua]
 */
export function describeAgent(ua = '') {
  return { browser: find(BROWSERS, ua ?? ''), os: find(SYSTEMS, ua ?? '') };
}

/**
 * "Chrome on Windows", in the page's language.
 * @param {string | null | undefined} ua
 */
export function agentText(ua) {
  const { browser, os } = describeAgent(ua);
  return t.browserOn(browser ?? t.unknownBrowser, os ?? t.unknownOs);
}
