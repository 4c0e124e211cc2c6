/** 手机页面上的全部简体中文文字（电脑页面的文字在 `public/widget/strings.js`）。 */

const WIDE = /\p{Script=Han}/u;
const NARROW = /[A-Za-z0-9]/;
/**
 * @param {string | undefined} a
 * @param {string | undefined} b
 */
const gap = (a, b) => (a && b && ((WIDE.test(a) && NARROW.test(b)) || (NARROW.test(a) && WIDE.test(b))) ? ' ' : '');

/**
 * A sentence with names in it: a space where Chinese meets Latin letters or digits, and none
 * between Chinese words (so "未知系统上的 curl", never "未知系统 上的 curl").
 * @param {TemplateStringsArray} parts
 * @param {...unknown} values
 */
function zh(parts, ...values) {
  let out = parts[0] ?? '';
  values.forEach((value, i) => {
    const s = String(value);
    out += gap(out.at(-1), s[0]) + s;
    const next = parts[i + 1] ?? '';
    out += gap(s.at(-1), next[0]) + next;
  });
  return out;
}

/** @type {typeof import('./en.js').default} */
export default {
  language: '语言',
  timeLeft: (s) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')} 后过期`,
  signOut: '退出',
  loading: '加载中…',
  phoneTitle: '登录请求',
  signInTitle: '登录后继续',
  username: '用户名',
  password: '密码',
  signIn: '登录',
  demoHint: '演示账号：dong / 111，guang / 222',
  wrongPassword: '用户名或密码错误。',
  signedOutElsewhere: '本手机已退出登录（在其他设备上退出，或登录已到期）。请重新登录后继续。',
  signInAgain: '重新登录',
  endedSignedOut: '本手机已在其他设备上退出登录。请重新登录后继续。',
  endedReused: '本手机已退出登录：它的一个登录凭证被重复使用，可能已被他人复制。请重新登录后继续。',
  endedDisabled: '本手机已退出登录：此账号已被停用。',
  endedExpired: '本手机已退出登录：登录已过期。请重新登录后继续。',
  endedTooMany: '本手机已退出登录：此账号登录的设备过多，本手机是最久未使用的一台。请重新登录后继续。',
  rateLimited: (s) => `尝试次数过多，请 ${s} 秒后再试。`,
  requestFailed: '出错了，请重试。',
  asking: '有一台电脑请求登录你的账号：',
  /** @param {string} site */
  askingWith: (site) => zh`有一台电脑请求用你的${site}账号登录：`,
  browserOn: (b, os) => zh`${os}上的${b}`,
  computer: '电脑',
  app: '应用',
  ip: 'IP 地址',
  place: '位置',
  created: '二维码生成于',
  ago: (s) => (s < 60 ? `${s} 秒前` : `${Math.floor(s / 60)} 分钟前`),
  unknownPlace: '未知',
  unknownBrowser: '未知浏览器',
  unknownOs: '未知系统',
  warning: '确认后，这台电脑将登录你的账号。只有当它是你面前的电脑时才确认。',
  confirm: '确认登录',
  cancel: '取消',
  pickNumber: '请选择电脑上显示的数字：',
  confirmedDone: '完成，电脑已登录。',
  cancelledDone: '已取消登录，没有任何设备登录。',
  matchFailed: '数字不匹配，为了安全已取消本次登录。',
  qrExpired: '二维码已过期',
  qrExpiredHint: '请在电脑上刷新二维码后重新扫描。',
  unknownCode: '这不是有效的二维码。',
  usedCode: '该二维码已被使用或已被他人扫描。',
  signedInAs: (name) => `当前账号：${name}`,
  devices: '已登录的设备',
  thisDevice: '本设备',
  deviceSignedOut: (name) => zh`${name}已退出登录。`,
  linkTitle: '输入代码',
  code: '代码',
  continue: '继续',
  codeHint: '输入电脑上二维码下方显示的 8 位字母代码。',
  badCode: '代码无效或已过期。',
  confirmTitle: (site) => zh`在电脑上登录${site}？`,
  via: '方式',
  viaScanned: '扫描二维码',
  viaTyped: '输入代码',
  locationWarning: '这台电脑与你的手机不在同一国家或网络。如果不是你本人发起的登录，请点“取消”。',
  closePage: '现在可以关闭此页面。',
  retryIn: (s) => `${s} 秒后重试…`,
  retryingNow: '正在重试…',
  retryNow: '立即重试',
  connectionLost: '网络连接中断。',
  connectionHint: '无法连接服务器，请检查手机网络。',
  serverTrouble: '登录服务暂时无法使用。',
  serverTroubleHint: '你的手机网络没有问题：服务器回复说现在无法登录。需要由服务的运维人员修复；此页面会继续重试。',
  siteKeysTrouble: (site) => zh`暂时无法验证${site}的登录。`,
  siteKeysHint: (site) =>
    zh`你的手机网络没有问题：登录服务无法获取${site}的登录密钥。需要由${site}修复；此页面会继续重试。`,
  switchAccount: '切换账号',
  // The contract names this link with spaces around the site's name, whatever its script.
  signInWithSite: (site) => `使用 ${site} 账号登录`,
  siteSignInHint: (site) => zh`请使用你的${site}账号登录，登录后会回到这里。`,
  siteSignInRefused: (site) => zh`${site}登录未成功或已过期，请重试。`,
  siteSignInExpired: (site) => zh`你的${site}登录已过期，请重新登录。`,
  siteSignInMisfit: (site) =>
    zh`此登录服务不接受${site}的登录。这是${site}需要修改的设置，与你的手机和密码无关，重新登录也无济于事。请告知${site}。`,
  codeWarning: '切勿输入别人发给你的代码。只输入你面前电脑上显示的代码。',
  justNow: '刚刚',
  lastUsed: (when) => `最近使用：${when}`,
  /** @param {string[]} names */
  signedInTo: (names) => zh`已登录${names.join('、')}`,
  noDevices: '没有已登录的设备。',
  keepSignedIn: '保留',
  confirmSignOut: '确认退出',
  askSignOut: (name) => zh`让${name}退出登录？它需要重新登录。`,
  askSignOutThis: '退出本手机？你需要重新登录。',
  devicesOffline: '无法连接服务器，列表可能不是最新的。',
  signInWithPasskey: '使用通行密钥登录',
  orPassword: '或',
  passkeyCancelled: '未使用通行密钥：请求已取消或超时。你可以重试。',
  passkeyUnavailable: '此页面或此设备无法使用通行密钥。',
  passkeyFailed: '通行密钥未能完成，请重试。',
  passkeySignInRefused: '此通行密钥无法登录，可能已被删除。请使用密码登录。',
  passkeyExists: '此手机已有该账号的通行密钥。',
  passkeyStaleSite: '为了安全，只能在通过网站登录后 10 分钟内更改通行密钥。请切换账号并重新通过网站登录后再试。',
  passkeyStale: '为了安全，只能在登录后 10 分钟内更改通行密钥。请切换账号并重新登录后再试。',
  passkeyNotAdded: '未能添加通行密钥，请重试。',
  passkeyAdded: (name) => zh`已添加通行密钥：${name}。`,
  offerTitle: '下次登录更快捷',
  offerText: '添加通行密钥后，可以用指纹、面容或屏幕锁登录，无需输入密码。',
  addPasskey: '添加通行密钥',
  notNow: '以后再说',
  passkeys: '通行密钥',
  noPasskeys: '还没有通行密钥。',
  added: (when) => `添加于${when}`,
  neverUsed: '从未使用',
  remove: '删除',
  askRemove: (name) => zh`删除通行密钥${name}？删除后将无法在此使用它。`,
  confirmRemove: '确认删除',
  keepPasskey: '保留',
  passkeyRemoved: (name) => zh`已删除${name}。`,
  stepUpAlways: '此网站要求使用通行密钥确认登录。',
  stepUpLocation: '电脑与你的手机不在同一地点，因此此网站要求使用通行密钥确认。',
  stepUpTyped: '你是输入验证码来到这里的，因此此网站要求使用通行密钥确认。',
  stepUpHow: '点击“确认登录”后，用通行密钥验证：指纹、面容或屏幕锁。',
  stepUpNoPasskey: '你还没有通行密钥：请先在此手机上创建一个，然后用它确认。',
  createPasskey: '创建通行密钥',
  passkeyCreated: '通行密钥已创建，现在请用它确认。',
  stepUpRefused: '该通行密钥未被接受：它可能属于其他账号，或是一份副本。未确认任何登录。请使用此账号的通行密钥重试。',
  activity: '最近的活动',
  activityHint: '过去 90 天内你的账号发生了什么，最新的在前。',
  activityOlder: '显示更早的',
  noActivity: '暂无记录。',
  /** @param {string} via @param {string} client */
  eventSignIn: (via, client) =>
    ({
      password: '使用密码登录',
      passkey: '使用通行密钥登录',
      site: '使用网站账号登录',
      qrcode: '一台电脑扫描二维码登录',
      code: '一台电脑输入验证码登录',
      device: client ? zh`应用${client}已登录` : '一个应用已登录',
      oidc: client ? zh`已登录${client}` : '已登录一个网站',
    })[via] ?? '已登录',
  /** @param {string} reason */
  eventSignInRefused: (reason) =>
    ({
      password: '登录被拒绝：密码错误',
      passkey: '使用通行密钥登录被拒绝',
      disabled: '登录被拒绝：账号已停用',
    })[reason] ?? '登录被拒绝',
  /** @param {string} what */
  eventStepUpRefused: (what) =>
    what === 'admin' ? '管理员确认被拒绝：通行密钥未被接受' : '登录确认被拒绝：通行密钥未被接受',
  /** @param {string} device @param {string} by @param {string} byDevice */
  eventSignOut: (device, by, byDevice) =>
    ({
      self: zh`${device}已退出登录`,
      device: byDevice ? zh`${device}已被${byDevice}退出登录` : zh`${device}已被另一台设备退出登录`,
      admin: zh`${device}已被管理员退出登录`,
      reuse: zh`${device}已退出登录：它的登录凭据在别处被再次使用`,
      disabled: zh`${device}已退出登录：账号已停用`,
      limit: zh`${device}已退出登录，为新设备腾出位置`,
      approver: zh`${device}已随批准它的设备一起退出登录`,
    })[by] ?? zh`${device}已退出登录`,
  /** @param {string} device */
  eventReused: (device) => zh`${device}的旧登录凭据被再次使用：它已退出登录`,
  /** @param {string} name */
  eventPasskeyAdded: (name) => zh`已添加通行密钥：${name}`,
  /** @param {string} name */
  eventPasskeyRemoved: (name) => zh`已删除通行密钥：${name}`,
  eventDisabled: '账号已被管理员停用',
  eventEnabled: '账号已被管理员启用',
  eventAdminStepUp: '已使用通行密钥确认管理员身份',
  /** @param {string} q */
  eventAdminSearch: (q) => (q ? zh`搜索了账号“${q}”` : '列出了所有账号'),
  eventAdminView: '管理员查看了此账号',
  eventAdminAudit: '查看了审计日志',
  adminTitle: '管理',
  adminNotAdmin: '此账号不是这里的管理员。请使用管理员账号登录。',
  adminNeedsAccounts: '此服务器的账号属于网站自身，没有管理页面。',
  adminPasskeyTitle: '确认是你本人',
  adminPasskeyWhy: '管理页面需要在 10 分钟内使用过通行密钥。',
  adminConfirmPasskey: '使用通行密钥确认',
  adminNoPasskey: '你还没有通行密钥：请先在此设备上创建一个，然后用它确认。',
  adminStepUpRefused: '该通行密钥未被接受：请使用此账号的通行密钥。未开放任何权限。',
  adminFind: '查找用户',
  adminQuery: '用户名或用户 ID',
  adminQueryHint: '用户名的开头（不区分大小写），或完整的用户 ID。留空则列出所有账号。',
  adminSearch: '搜索',
  adminNoUsers: '没有匹配的账号。',
  adminMoreUsers: '更多账号',
  adminDisabledTag: '已停用',
  /** @param {number} n */
  adminFound: (n) => `找到 ${n} 个账号。`,
  /** @param {string} name */
  adminOpen: (name) => zh`打开${name}`,
  adminOpenButton: '打开',
  adminActive: '正常：可以登录。',
  /** @param {string} since */
  adminDisabledSince: (since) => zh`自${since}起已停用：无法登录。`,
  adminSessions: '已登录的设备',
  adminNoSessions: '没有已登录的设备。',
  adminUserActivity: '此账号最近的活动',
  adminDisable: '停用账号',
  adminEnable: '启用账号',
  /** @param {string} name */
  adminAskDisable: (name) => zh`停用${name}？它的所有设备会立即退出登录，启用前无法登录。`,
  adminConfirmDisable: '确认停用',
  adminKeep: '保留',
  /** @param {string} name @param {number} n */
  adminDisabledDone: (name, n) => zh`已停用${name}，${n}台设备已退出登录。`,
  /** @param {string} name */
  adminAlreadyDisabled: (name) => zh`${name}此前已停用，没有任何更改。`,
  /** @param {string} name */
  adminEnabledDone: (name) => zh`${name}可以重新登录了。`,
  /** @param {string} device */
  adminAskSignOut: (device) => zh`让${device}退出登录？它以及它批准的所有设备都需要重新登录。`,
  /** @param {string} device */
  adminSignedOut: (device) => zh`${device}已退出登录。`,
  adminAudit: '审计日志',
  adminAuditHint: '所有账号的所有事件，最新的在前，保留 AUDIT_RETENTION_DAYS 天。',
  adminAuditUser: '用户名',
  adminAuditKind: '事件',
  adminAuditAny: '全部',
  adminAuditSince: '起始日期',
  adminAuditShow: '显示',
  adminAuditOlder: '更早的事件',
  adminAuditEmpty: '没有匹配的事件。',
  /** @param {number} n */
  adminAuditShown: (n) => `已显示 ${n} 条事件。`,
  /** @param {string} who */
  adminBy: (who) => zh`操作者：${who}`,
  adminSelf: '不能停用你自己的账号：请让另一位管理员操作。',
  adminGone: '该账号或设备已不存在。列表已重新读取。',
  adminBadInput: '服务器拒绝了此请求：请检查输入的内容。',
  adminUnavailable: '服务器暂时无法完成此操作，没有任何更改。请稍后重试。',
  adminOtherPage: '只有此服务器自己的管理页面可以执行此操作。',
  kinds: {
    sign_in: '登录',
    sign_in_refused: '被拒绝的登录',
    step_up_refused: '被拒绝的通行密钥确认',
    sign_out: '退出登录',
    refresh_token_reused: '被再次使用的登录凭据',
    passkey_added: '添加的通行密钥',
    passkey_removed: '删除的通行密钥',
    account_disabled: '停用的账号',
    account_enabled: '启用的账号',
    admin_step_up: '管理员确认',
    admin_search: '管理员搜索',
    admin_view: '被查看的账号',
    admin_audit: '审计日志查看',
  },
};
