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
};
