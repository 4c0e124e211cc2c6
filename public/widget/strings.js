/**
 * @module
 * Every string of the PC side, Simplified Chinese and English: the `<qr-login>` element and the
 * PC page that hosts it. Kept beside the element because a site loads it from another origin and
 * it must bring its own words. `{n}` marks where a number goes in a sentence that counts down.
 * The authorize page (a site's "sign in by scan", OpenID Connect) speaks with the same words, and
 * a few of its own: the client's name, "Continue as", and where the browser goes back to.
 */

/** Two words joined as Chinese typography joins them: a space, except between Chinese characters. */
const gap = (/** @type {string} */ before, /** @type {string} */ after) =>
  /[\u3400-\u9fff]$/.test(before) && /^[\u3400-\u9fff]/.test(after) ? `${before}${after}` : `${before} ${after}`;

const en = {
  lang: 'en',
  appName: 'QR login',
  pcTitle: 'Sign in with your phone',
  signedInTitle: 'Signed in',
  qrAlt: 'Login QR code',
  loading: 'Getting a QR code…',
  waiting: 'Waiting for a scan: scan this code with your phone to sign in.',
  /** @param {string} name */
  scanned: (name) => `${name} scanned the code. Confirm on your phone.`,
  matchHint: 'Select this number on your phone:',
  otherAccount: 'Use another account',
  /** @param {string} name */
  signedIn: (name) => `Signed in as ${name}.`,
  cancelled: 'Sign-in was cancelled on the phone.',
  matchFailed: 'The numbers did not match, so the sign-in was cancelled.',
  expired: 'The QR code has expired.',
  failed: 'Something went wrong on the server. Try a new QR code.',
  /** @param {number} s */
  rateLimited: (s) => `Too many QR codes from this network. Try again in ${s} s.`,
  /** @param {string} origin @param {string} server */
  originRefused: (origin, server) =>
    `This page's origin, ${origin}, is not in ALLOWED_ORIGINS of its server, ${server}, so no QR code can be shown here. Add ${origin} to ALLOWED_ORIGINS there.`,
  refresh: 'Refresh QR code',
  /** @param {number} s */
  timeLeft: (s) => `Expires in ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`,
  cantScan: "Can't scan? Use a code instead",
  codeLoading: 'Getting a code…',
  codeFailed: 'No code right now. Try again.',
  /** @param {string} url */
  noCamera: (url) => `No camera? Open ${url} on your phone and type this code:`,
  onPhone:
    'This page is open on a phone, which cannot scan its own screen. Scan the code with another phone, use a code instead, or open this page on your computer.',
  devLink: 'Scan link (development):',
  retrying: 'Connection problem. Retrying in {n} s…',
  retryNow: 'Retry now',
  signOut: 'Sign out',
  signedOut: 'You were signed out.',
  endedReused:
    'You were signed out: a sign-in token of this computer was used twice, which looks like a stolen copy. Sign in again.',
  endedDisabled: 'You were signed out: this account has been disabled.',
  endedExpired: 'Your sign-in has expired. Sign in again.',
  endedTooMany:
    'You were signed out: this account is signed in on too many devices, and this one had gone unused the longest.',
  checking: 'Checking your sign-in…',
  language: 'Language',
  usePasskey: 'Use a passkey from your phone',
  passkeyCancelled: 'The passkey was not used. Try again, or scan the QR code.',
  passkeyRefused: 'That passkey could not sign you in: it may have been removed. Scan the QR code instead.',
  passkeyUnavailable:
    "Passkeys cannot be used on this page: its address is not under the server's passkey domain (PASSKEY_RP_ID). Scan the QR code instead.",
  passkeyFailed: 'The passkey did not work. Try again, or scan the QR code.',
  /** @param {number} s */
  passkeyRateLimited: (s) => `Too many passkey sign-ins from this network. Try again in ${s} s.`,
  // The authorize page: a site's sign-in by scan.
  /** @param {string} client */
  signInTo: (client) => `Sign in to ${client}`,
  /** Why the browser goes back to the client, and that it does. */
  returning: {
    /** @param {string} client @param {string} name */
    confirmed: (client, name) =>
      name ? `Signed in as ${name}. Returning to ${client}…` : `Signed in. Returning to ${client}…`,
    /** @param {string} client */
    cancelled: (client) => `Sign-in was cancelled on the phone. Returning to ${client}…`,
    /** @param {string} client */
    denied: (client) => `This sign-in request is more than 10 minutes old. Returning to ${client}…`,
  },
  /** @param {string} client */
  pageCancelled: (client) => `Sign-in cancelled. Returning to ${client}…`,
  /** @param {string} client */
  leavingFor: (client) => `Returning to ${client}…`,
  leavingSite: 'Returning to the site that sent you here…',
  preparing: 'Getting the sign-in ready…',
  renewed: 'The QR code expired, so here is a new one.',
  cancel: 'Cancel',
  /** @param {string} name */
  continueAs: (name) => `Continue as ${name}`,
  /** @param {string} client */
  continueHint: (client) =>
    `This browser is already signed in. Continue to ${client} without scanning, or use another account.`,
  continueGone: 'This browser’s sign-in has ended. Scan the QR code instead.',
  requestUnusable:
    'This sign-in request cannot be used: it has expired or was already used. Go back to the site and sign in again.',
};

/** @type {typeof en} */
const zh = {
  lang: 'zh-CN',
  appName: '扫码登录',
  pcTitle: '使用手机扫码登录',
  signedInTitle: '已登录',
  qrAlt: '登录二维码',
  loading: '正在获取二维码…',
  waiting: '等待扫码：请使用手机扫描二维码登录。',
  // No space between Chinese words; a Latin name keeps one, as Chinese typography does.
  scanned: (name) => `${name}${/[\u3400-\u9fff]$/.test(name) ? '' : ' '}已扫码，请在手机上确认。`,
  matchHint: '请在手机上选择这个数字：',
  otherAccount: '切换账号',
  signedIn: (name) => `已登录：${name}。`,
  cancelled: '已在手机上取消登录。',
  matchFailed: '数字不一致，登录已取消。',
  expired: '二维码已过期。',
  failed: '服务器出错了，请换一个二维码。',
  rateLimited: (s) => `此网络获取二维码过于频繁，请 ${s} 秒后再试。`,
  originRefused: (origin, server) =>
    `此页面的来源 ${origin} 不在其服务器 ${server} 的 ALLOWED_ORIGINS 中，因此这里无法显示二维码。请在服务器的 ALLOWED_ORIGINS 中加入 ${origin}。`,
  refresh: '刷新二维码',
  timeLeft: (s) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')} 后过期`,
  cantScan: '无法扫码？改用验证码',
  codeLoading: '正在获取验证码…',
  codeFailed: '暂时无法获取验证码，请重试。',
  noCamera: (url) => `没有摄像头？在手机上打开 ${url} 并输入以下代码：`,
  onPhone:
    '此页面正在手机上打开，手机无法扫描自己屏幕上的二维码。请用另一部手机扫码、改用验证码，或在电脑上打开此页面。',
  devLink: '扫码链接（开发用）：',
  retrying: '网络异常，{n} 秒后重试…',
  retryNow: '立即重试',
  signOut: '退出',
  signedOut: '你已退出登录。',
  endedReused: '你已退出登录：此电脑的登录凭证被重复使用，可能已被他人复制。请重新登录。',
  endedDisabled: '你已退出登录：此账号已被停用。',
  endedExpired: '登录已过期，请重新登录。',
  endedTooMany: '你已退出登录：此账号登录的设备过多，此设备是最久未使用的一台。',
  checking: '正在确认登录状态…',
  language: '语言',
  usePasskey: '使用手机上的通行密钥',
  passkeyCancelled: '未使用通行密钥。请重试，或扫描二维码。',
  passkeyRefused: '该通行密钥无法登录，可能已被删除。请改为扫描二维码。',
  passkeyUnavailable: '此页面无法使用通行密钥：其地址不在服务器的通行密钥域名（PASSKEY_RP_ID）下。请改为扫描二维码。',
  passkeyFailed: '通行密钥未能完成。请重试，或扫描二维码。',
  passkeyRateLimited: (s) => `此网络的通行密钥登录过于频繁，请 ${s} 秒后再试。`,
  signInTo: (client) => gap('登录', client),
  returning: {
    confirmed: (client, name) => `${name ? `已登录：${name}。` : '已登录。'}${gap('正在返回', client)}…`,
    cancelled: (client) => `已在手机上取消登录。${gap('正在返回', client)}…`,
    denied: (client) => `此登录请求已超过 10 分钟。${gap('正在返回', client)}…`,
  },
  pageCancelled: (client) => `已取消登录。${gap('正在返回', client)}…`,
  leavingFor: (client) => `${gap('正在返回', client)}…`,
  leavingSite: '正在返回将您带到这里的网站…',
  preparing: '正在准备登录…',
  renewed: '二维码已过期，已换成新的。',
  cancel: '取消',
  continueAs: (name) => gap(gap('以', name), '身份继续'),
  continueHint: (client) => `此浏览器已登录。可直接继续前往 ${client}，无需扫码；也可以使用其他账号。`,
  continueGone: '此浏览器的登录已结束，请扫描二维码。',
  requestUnusable: '此登录请求无法使用：已过期或已被使用。请返回网站重新登录。',
};

/** @type {Record<import('../kit/lang.js').Lang, typeof en>} */
export const STRINGS = { en, 'zh-CN': zh };

/**
 * The key of the words that say why a session ended (`/api/sessions/watch`'s reason).
 * @param {import('../kit/watch.js').EndReason} reason
 * @returns {'signedOut' | 'endedReused' | 'endedDisabled' | 'endedExpired' | 'endedTooMany'}
 */
export function endedKey(reason) {
  if (reason === 'reused') return 'endedReused';
  if (reason === 'disabled') return 'endedDisabled';
  if (reason === 'expired') return 'endedExpired';
  if (reason === 'too_many') return 'endedTooMany';
  return 'signedOut';
}
