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
  /** @param {number} s */
  rateLimited: (s) => `Too many attempts. Try again in ${s} s.`,
  requestFailed: 'Something went wrong. Please try again.',
  asking: 'A computer is asking to sign in to your account:',
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
  switchAccount: 'Switch account',
  /** @param {string} site */
  signInWithSite: (site) => `Sign in with ${site}`,
  /** @param {string} site */
  siteSignInHint: (site) => `Use your ${site} account. You will come back here afterwards.`,
  /** @param {string} site */
  siteSignInRefused: (site) => `Signing in with ${site} did not work or has expired. Please try again.`,
  codeWarning: 'Never type a code that someone else sent you. Only type a code shown on a computer in front of you.',
  justNow: 'just now',
  /** @param {string} when */
  lastUsed: (when) => `last used ${when}`,
  noDevices: 'No devices are signed in.',
  keepSignedIn: 'Keep',
  confirmSignOut: 'Yes, sign out',
  /** @param {string} name */
  askSignOut: (name) => `Sign out ${name}? It will have to sign in again.`,
  askSignOutThis: 'Sign out this phone? You will have to sign in again.',
  devicesOffline: "Can't reach the server: the list is not up to date.",
};
