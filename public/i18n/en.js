/** Every English string of the phone pages (the PC's live in `public/widget/strings.js`). */
export default {
  language: 'Language',
  /** @param {number} s */
  timeLeft: (s) => `Expires in ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`,
  signOut: 'Sign out',
  loading: 'Loading…',
  phoneTitle: 'Sign-in request',
  signInTitle: 'Sign in to continue',
  username: 'Username',
  password: 'Password',
  signIn: 'Sign in',
  demoHint: 'Demo accounts: dong / 111, guang / 222',
  wrongPassword: 'Wrong username or password.',
  signedOutElsewhere:
    'This phone was signed out, from another device or because its sign-in ended. Sign in again to continue.',
  signInAgain: 'Sign in again',
  endedSignedOut: 'This phone was signed out from another device. Sign in again to continue.',
  endedReused:
    'This phone was signed out: one of its sign-in tokens was used twice, which looks like a stolen copy. Sign in again to continue.',
  endedDisabled: 'This phone was signed out: this account has been disabled.',
  endedExpired: 'This phone was signed out: its sign-in has expired. Sign in again to continue.',
  endedTooMany:
    'This phone was signed out: the account is signed in on too many devices, and this one had gone unused the longest. Sign in again to continue.',
  /** @param {number} s */
  rateLimited: (s) => `Too many attempts. Try again in ${s} s.`,
  requestFailed: 'Something went wrong. Please try again.',
  asking: 'A computer is asking to sign in to your account:',
  /** @param {string} site */
  askingWith: (site) => `A computer is asking to sign in with your ${site} account:`,
  /** @param {string} b @param {string} os */
  browserOn: (b, os) => `${b} on ${os}`,
  computer: 'Computer',
  app: 'App',
  ip: 'IP address',
  place: 'Place',
  created: 'Code made',
  /** @param {number} s */
  ago: (s) => (s < 60 ? `${s} s ago` : `${Math.floor(s / 60)} min ago`),
  unknownPlace: 'unknown',
  unknownBrowser: 'Unknown browser',
  unknownOs: 'unknown system',
  warning: 'Confirming signs that computer into this account. Only confirm if it is the computer in front of you.',
  confirm: 'Confirm login',
  cancel: 'Cancel',
  pickNumber: 'Choose the number shown on the computer:',
  confirmedDone: 'Done. The computer is now signed in.',
  cancelledDone: 'Sign-in cancelled. Nothing was signed in.',
  matchFailed: 'That number did not match. The sign-in was cancelled for your safety.',
  qrExpired: 'QR code expired',
  qrExpiredHint: 'Ask for a new code on the computer and scan again.',
  unknownCode: 'This is not a valid QR code.',
  usedCode: 'This QR code was already used or scanned by someone else.',
  /** @param {string} name */
  signedInAs: (name) => `Signed in as ${name}`,
  devices: 'Linked devices',
  thisDevice: 'this device',
  /** @param {string} name */
  deviceSignedOut: (name) => `${name} was signed out.`,
  linkTitle: 'Enter the code',
  code: 'Code',
  continue: 'Continue',
  codeHint: 'Type the 8-letter code shown under the QR code on the computer.',
  badCode: 'That code is unknown or has expired.',
  /** @param {string} site */
  confirmTitle: (site) => `Sign in to ${site} on a computer?`,
  via: 'How',
  viaScanned: 'QR code scanned',
  viaTyped: 'code typed',
  locationWarning:
    'This computer is in another country or network than your phone. If you did not start this sign-in yourself, tap Cancel.',
  closePage: 'You can close this page now.',
  /** @param {number} s */
  retryIn: (s) => `Retrying in ${s} s…`,
  retryingNow: 'Trying again…',
  retryNow: 'Retry now',
  connectionLost: 'Connection lost.',
  connectionHint: "The server can't be reached. Check your phone's connection.",
  serverTrouble: 'The sign-in service is not working right now.',
  serverTroubleHint:
    "Your phone's connection is fine: the service answered that it cannot sign anyone in at the moment. Its operators have to fix this; this page keeps trying.",
  /** @param {string} site */
  siteKeysTrouble: (site) => `Sign-ins with ${site} cannot be checked right now.`,
  /** @param {string} site */
  siteKeysHint: (site) =>
    `Your phone's connection is fine: this login service cannot fetch ${site}'s sign-in keys. ${site} has to fix this; this page keeps trying.`,
  switchAccount: 'Switch account',
  /** @param {string} site */
  signInWithSite: (site) => `Sign in with ${site}`,
  /** @param {string} site */
  siteSignInHint: (site) => `Use your ${site} account. You will come back here afterwards.`,
  /** @param {string} site */
  siteSignInRefused: (site) => `Signing in with ${site} did not work or has expired. Please try again.`,
  /** @param {string} site */
  siteSignInExpired: (site) => `Your sign-in with ${site} has expired. Sign in again to continue.`,
  /** @param {string} site */
  siteSignInMisfit: (site) =>
    `This login service does not accept ${site}'s sign-in. It is a setting that ${site} has to fix, not your phone or your password, so signing in again will not help. Please let ${site} know.`,
  codeWarning: 'Never type a code that someone else sent you. Only type a code shown on a computer in front of you.',
  justNow: 'just now',
  /** @param {string} when */
  lastUsed: (when) => `last used ${when}`,
  /** @param {string[]} names */
  signedInTo: (names) => `Signed in to ${names.join(', ')}`,
  noDevices: 'No devices are signed in.',
  keepSignedIn: 'Keep',
  confirmSignOut: 'Yes, sign out',
  /** @param {string} name */
  askSignOut: (name) => `Sign out ${name}? It will have to sign in again.`,
  askSignOutThis: 'Sign out this phone? You will have to sign in again.',
  devicesOffline: "Can't reach the server: the list is not up to date.",
  signInWithPasskey: 'Sign in with a passkey',
  orPassword: 'or',
  passkeyCancelled: 'The passkey was not used: the request was cancelled or timed out. You can try again.',
  passkeyUnavailable: 'Passkeys cannot be used on this page or this device.',
  passkeyFailed: 'The passkey did not work. Please try again.',
  passkeySignInRefused: 'This passkey could not sign you in. It may have been removed: sign in with your password.',
  passkeyExists: 'This phone already has a passkey for this account.',
  passkeyStaleSite:
    'For your safety, passkeys can only be changed within 10 minutes of signing in with the site. Switch account, sign in with the site again, then try again.',
  passkeyStale:
    'For your safety, passkeys can only be changed within 10 minutes of signing in. Switch account, sign in again, then try again.',
  passkeyNotAdded: 'The passkey could not be added. Please try again.',
  /** @param {string} name */
  passkeyAdded: (name) => `Passkey added: ${name}.`,
  offerTitle: 'Sign in faster next time',
  offerText: 'Add a passkey and sign in with your fingerprint, face or screen lock instead of a password.',
  addPasskey: 'Add a passkey',
  notNow: 'Not now',
  passkeys: 'Passkeys',
  noPasskeys: 'No passkeys yet.',
  /** @param {string} when */
  added: (when) => `added ${when}`,
  neverUsed: 'never used',
  remove: 'Remove',
  /** @param {string} name */
  askRemove: (name) => `Remove the passkey ${name}? You will no longer be able to use it here.`,
  confirmRemove: 'Yes, remove',
  keepPasskey: 'Keep',
  /** @param {string} name */
  passkeyRemoved: (name) => `${name} was removed.`,
  stepUpAlways: 'This site asks for your passkey to approve sign-ins.',
  stepUpLocation: 'The computer is in another place than your phone, so this site asks for your passkey.',
  stepUpTyped: 'You typed the code, so this site asks for your passkey.',
  stepUpHow: 'Confirm login opens your passkey: your fingerprint, face or screen lock.',
  stepUpNoPasskey: 'You have no passkey yet: create one on this phone, then confirm with it.',
  createPasskey: 'Create a passkey',
  passkeyCreated: 'Passkey created. Now confirm with it.',
  stepUpRefused:
    'That passkey was not accepted: it may belong to another account, or be a copy. Nothing was confirmed. Try again with a passkey of this account.',
  activity: 'Recent activity',
  activityHint: 'What happened to your account in the last 90 days, newest first.',
  activityOlder: 'Show older',
  noActivity: 'Nothing yet.',
  /** @param {string} via @param {string} client */
  eventSignIn: (via, client) =>
    ({
      password: 'Signed in with a password',
      passkey: 'Signed in with a passkey',
      site: 'Signed in with your site account',
      qrcode: 'A computer signed in by scanning a QR code',
      code: 'A computer signed in with a typed code',
      device: client ? `The app ${client} signed in` : 'An app signed in',
      oidc: client ? `Signed in to ${client}` : 'Signed in to a site',
    })[via] ?? 'Signed in',
  /** @param {string} reason */
  eventSignInRefused: (reason) =>
    ({
      password: 'Sign-in refused: wrong password',
      passkey: 'Sign-in with a passkey refused',
      disabled: 'Sign-in refused: the account is disabled',
    })[reason] ?? 'Sign-in refused',
  /** @param {string} what @returns {string} */
  eventStepUpRefused: (what) =>
    what === 'admin'
      ? 'Administrator confirmation refused: the passkey was not accepted'
      : 'Sign-in confirmation refused: the passkey was not accepted',
  /** @param {string} device @param {string} by @param {string} byDevice */
  eventSignOut: (device, by, byDevice) =>
    ({
      self: `${device} signed out`,
      device: byDevice ? `${device} was signed out from ${byDevice}` : `${device} was signed out from another device`,
      admin: `${device} was signed out by an administrator`,
      reuse: `${device} was signed out: its sign-in was used again elsewhere`,
      disabled: `${device} was signed out: the account was disabled`,
      limit: `${device} was signed out to make room for a new device`,
      approver: `${device} was signed out with the device that approved it`,
    })[by] ?? `${device} was signed out`,
  /** @param {string} device */
  eventReused: (device) => `An old sign-in of ${device} was used again: it was signed out`,
  /** @param {string} name */
  eventPasskeyAdded: (name) => `Passkey added: ${name}`,
  /** @param {string} name */
  eventPasskeyRemoved: (name) => `Passkey removed: ${name}`,
  eventDisabled: 'The account was disabled by an administrator',
  eventEnabled: 'The account was enabled by an administrator',
  eventAdminStepUp: 'Administrator access confirmed with a passkey',
  /** @param {string} q */
  eventAdminSearch: (q) => (q ? `Searched the accounts for “${q}”` : 'Listed the accounts'),
  eventAdminView: 'An administrator looked at the account',
  eventAdminAudit: 'Read the audit log',
  adminTitle: 'Administration',
  adminNotAdmin: 'This account is not an administrator here. Sign in with an administrator’s account.',
  adminNeedsAccounts: 'This server’s accounts are a site’s own: it has no administration page.',
  adminPasskeyTitle: 'Confirm it is you',
  adminPasskeyWhy: 'The administration page needs a passkey used within the last 10 minutes.',
  adminConfirmPasskey: 'Confirm with a passkey',
  adminNoPasskey: 'You have no passkey yet: create one on this device, then confirm with it.',
  adminStepUpRefused: 'That passkey was not accepted: use a passkey of this account. Nothing was opened.',
  adminFind: 'Find a user',
  adminQuery: 'Username or user id',
  adminQueryHint: 'The beginning of a username (any case), or a whole user id. Empty lists every account.',
  adminSearch: 'Search',
  adminNoUsers: 'No account matches.',
  adminMoreUsers: 'More accounts',
  adminDisabledTag: 'disabled',
  /** @param {number} n */
  adminFound: (n) => (n === 1 ? '1 account found.' : `${n} accounts found.`),
  /** @param {string} name */
  adminOpen: (name) => `Open ${name}`,
  adminOpenButton: 'Open',
  adminActive: 'Active: it can sign in.',
  /** @param {string} since */
  adminDisabledSince: (since) => `Disabled since ${since}: it cannot sign in.`,
  adminSessions: 'Sessions',
  adminNoSessions: 'No device is signed in.',
  adminUserActivity: 'Recent activity of this account',
  adminDisable: 'Disable account',
  adminEnable: 'Enable account',
  /** @param {string} name */
  adminAskDisable: (name) =>
    `Disable ${name}? Every device of it is signed out at once, and it cannot sign in until enabled.`,
  adminConfirmDisable: 'Yes, disable',
  adminKeep: 'Keep',
  /** @param {string} name @param {number} n */
  adminDisabledDone: (name, n) => `${name} is disabled; ${n === 1 ? '1 device was' : `${n} devices were`} signed out.`,
  /** @param {string} name */
  adminAlreadyDisabled: (name) => `${name} was already disabled. Nothing changed.`,
  /** @param {string} name */
  adminEnabledDone: (name) => `${name} can sign in again.`,
  /** @param {string} device */
  adminAskSignOut: (device) => `Sign ${device} out? It and every device it approved will have to sign in again.`,
  /** @param {string} device */
  adminSignedOut: (device) => `${device} was signed out.`,
  adminAudit: 'Audit log',
  adminAuditHint: 'Every event of every account, newest first, kept for AUDIT_RETENTION_DAYS.',
  adminAuditUser: 'Username',
  adminAuditKind: 'What',
  adminAuditAny: 'Anything',
  adminAuditSince: 'Since',
  adminAuditShow: 'Show',
  adminAuditOlder: 'Older events',
  adminAuditEmpty: 'No event matches.',
  /** @param {number} n */
  adminAuditShown: (n) => (n === 1 ? '1 event shown.' : `${n} events shown.`),
  /** @param {string} who */
  adminBy: (who) => `by ${who}`,
  adminSelf: 'You cannot disable your own account: ask another administrator.',
  adminGone: 'That account or device does not exist any more. The list was read again.',
  adminBadInput: 'The server refused this request: check what you typed.',
  adminUnavailable: 'The server could not do this now. Nothing changed: try again in a moment.',
  adminOtherPage: 'Only this server’s own administration page may do this.',
  kinds: {
    sign_in: 'Sign-ins',
    sign_in_refused: 'Refused sign-ins',
    step_up_refused: 'Refused passkey confirmations',
    sign_out: 'Sign-outs',
    refresh_token_reused: 'Reused sign-ins',
    passkey_added: 'Passkeys added',
    passkey_removed: 'Passkeys removed',
    account_disabled: 'Accounts disabled',
    account_enabled: 'Accounts enabled',
    admin_step_up: 'Administrator confirmations',
    admin_search: 'Administrator searches',
    admin_view: 'Accounts looked at',
    admin_audit: 'Audit log reads',
  },
};
