/** Browser and operating system, in words, from a User-Agent string. */
import { t } from './i18n.js';

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
const SYSTEMS = [
  [/Windows NT/, 'Windows'],
  [/Android/, 'Android'],
  [/iPhone|iPad|iPod/, 'iOS'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/CrOS/, 'ChromeOS'],
  [/Linux/, 'Linux'],
];
const find = (list, ua) => list.find(([pattern]) => pattern.test(ua))?.[1] ?? null;

/** `{ browser, os }`, each a name or null when unknown. */
export function describeAgent(ua = '') {
  return { browser: find(BROWSERS, ua ?? ''), os: find(SYSTEMS, ua ?? '') };
}

/** "Chrome on Windows", in the page's language. */
export function agentText(ua) {
  const { browser, os } = describeAgent(ua);
  return t.browserOn(browser ?? t.unknownBrowser, os ?? t.unknownOs);
}
