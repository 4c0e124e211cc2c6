/**
 * @module
 * The PC page `/`: a thin host of `<qr-login>`, the same element other sites embed, so there is one
 * PC implementation. The page keeps the tokens the element hands over (see `tokens.js`, which
 * renews the fifteen-minute access token in the background), shows who is signed in (from
 * `/api/me`), signs out, notices a sign-out made from the phone at once (it watches its session:
 * `kit/watch.js`; and at the next renewal, or when the tab comes back) and says so in words, and
 * switches between Chinese and English (remembered for every page). The frame around the element (language, heading, status line, config) is the one
 * the authorize page has too (`pc-shell.js`).
 */
import '../widget.js';
import { call } from '../kit/api.js';
import { persist } from '../kit/backoff.js';
import { h, initial, show } from '../kit/dom.js';
import { chosenLang } from '../kit/lang.js';
import { watchSession } from '../kit/watch.js';
import { PC_RETRY } from '../widget/login.js';
import { endedKey } from '../widget/strings.js';
import { part, pcShell } from './pc-shell.js';
import { keepPcFresh, PC_TOKEN_KEY, pcTokens } from './tokens.js';

const main = part('main');

/** The PC's back-off, for `/api/me` too; a 429 there is "not now" as well. */
const ME_RETRY = {
  ...PC_RETRY,
  transient: (/** @type {number} */ status) => status === 429 || PC_RETRY.transient(status),
};

const shell = pcShell(chosenLang(), () => render());

/**
 * What the page says above a new code: nothing, or why the last session ended.
 * @typedef {'' | ReturnType<typeof endedKey>} Notice
 */
/**
 * What the page shows: `qr` (the element), `checking` (a stored token), or `user` (signed in).
 * @typedef {{ kind: 'qr', notice: Notice, retry?: number }
 *   | { kind: 'checking', retry?: number }
 *   | { kind: 'user', user: { display_name: string, username?: string }, retry?: number }} View
 */
/** @type {View} */
let view = { kind: 'qr', notice: '' };
/** @type {import('../widget/qr-login-element.js').QrLoginElement | null} */
let widget = null;
let generation = 0;

function render() {
  const { t } = shell;
  const heading = { qr: t.pcTitle, checking: t.appName, user: t.signedInTitle }[view.kind];
  // One status region at a time: the element has its own while it is shown.
  let said = null;
  if (view.kind === 'checking') said = t.checking;
  else if (view.kind === 'user') said = t.signedIn(view.user.display_name);
  shell.frame(heading, said, view.retry);
  if (view.kind === 'qr') {
    widget?.setAttribute('lang', shell.lang);
    if (view.notice && widget) widget.notice = t[view.notice];
    return;
  }
  const signOutButton = main.querySelector('.sign-out');
  if (view.kind === 'user' && signOutButton) signOutButton.textContent = t.signOut;
}

/** The watch of the signed-in session, while a user is shown. */
let watching = /** @type {{ stop: () => void } | null} */ (null);

/** Watches the session of the stored token: when it ends, the page says why and shows a new code. */
function watchOwnSession() {
  if (watching) return;
  watching = watchSession({
    server: location.origin,
    token: () => pcTokens.fresh(),
    ended: (reason) => {
      watching = null;
      pcTokens.ended(reason);
      if (view.kind !== 'qr') showQr(endedKey(reason));
    },
  });
}

function stopWatching() {
  watching?.stop();
  watching = null;
}

/**
 * A new QR code; `notice` (a key of the strings) is said before "waiting for a scan".
 * @param {Notice} [notice]
 */
function showQr(notice = '') {
  stopWatching();
  generation++;
  shell.retryNow?.();
  const hadFocus = main.contains(document.activeElement);
  view = { kind: 'qr', notice };
  const element = /** @type {import('../widget/qr-login-element.js').QrLoginElement} */ (
    document.createElement('qr-login')
  );
  widget = element;
  element.setAttribute('lang', shell.lang);
  // The same sign-in as on a site's page: a passkey from a phone nearby, where it can work here.
  element.toggleAttribute('passkey', shell.passkeyHere);
  // Our own page binds its logins to this browser's DPoP key: a token copied out of it is worth nothing.
  element.setAttribute('dpop', '');
  if (notice) element.notice = shell.t[notice];
  let changes = 0;
  element.addEventListener('qr-login:status', () => {
    // The news was for the first code only, not for the ones after a refresh.
    if (++changes > 1 && view.kind === 'qr') view.notice = '';
  });
  element.addEventListener('qr-login:login', (event) => {
    const { detail } =
      /** @type {CustomEvent<import('./tokens.js').LoginAnswer & { user: { display_name: string } }>} */ (event);
    pcTokens.save(detail);
    renewals();
    showUser(detail.user, element.matches(':focus-within'));
    // The element's user came with the token; /api/me is what the server says now.
    checkUser(generation, { quiet: true });
  });
  show(main, element);
  render();
  if (hadFocus) element.focus();
}

/**
 * @param {{ display_name: string, username?: string }} user
 * @param {boolean} [focusHeading]
 */
function showUser(user, focusHeading = false) {
  shell.retryNow?.();
  view = { kind: 'user', user };
  watchOwnSession();
  show(
    main,
    h(
      'div',
      { class: 'card signed-in' },
      h('span', { class: 'avatar big', 'aria-hidden': 'true' }, initial(user.display_name)),
      h('p', { class: 'user-name' }, user.display_name),
      user.username ? h('p', { class: 'hint' }, `@${user.username}`) : null,
      h('button', { type: 'button', class: 'sign-out', onclick: signOut }),
    ),
  );
  widget = null;
  render();
  if (focusHeading) shell.focusTitle();
}

/**
 * Asks the server who the stored token belongs to; a connection problem counts down and retries.
 * `quiet`: the user the element reported is already shown, so a connection problem is let be.
 * @param {number} mine
 */
async function checkUser(mine, { quiet = false } = {}) {
  const token = await pcTokens.fresh();
  if (mine !== generation) return;
  if (!token) return showQr(pcTokens.signedOut ? 'signedOut' : '');
  renewals();
  const alive = () => mine === generation && pcTokens.get() === token;
  if (quiet) {
    const res = await call('/api/me', { token }).catch(() => null);
    if (!alive() || !res || ME_RETRY.transient(res.status)) return;
    return answered(res);
  }
  view = { kind: 'checking' };
  show(main);
  render();
  const res = await persist(() => call('/api/me', { token }), ME_RETRY, {
    alive,
    waiting: (left, now) => {
      view.retry = left;
      shell.retryNow = now;
      render();
    },
    recovered: () => {
      view.retry = 0;
      shell.retryNow = null;
      render();
    },
  });
  if (res) answered(res);
}

/**
 * What `/api/me` answered: the user, or a new code (a token refused, or of no use).
 * @param {import('../kit/api.js').Answer} res
 */
function answered(res) {
  if (res.ok) return showUser(res.body);
  pcTokens.clear();
  showQr(res.status === 401 ? 'signedOut' : '');
}

async function signOut() {
  // This page's own sign-out is no news to it.
  stopWatching();
  generation++;
  const token = await pcTokens.fresh();
  await call('/api/logout', { method: 'POST', token }).catch(() => null);
  pcTokens.clear();
  showQr();
  widget?.focus();
}

/** A device signed out from the phone loses its session on its next request: check when the tab comes back. */
async function recheck() {
  if (!pcTokens.get() || view.kind !== 'user' || document.visibilityState !== 'visible') return;
  const mine = generation;
  const token = await pcTokens.fresh();
  if (mine !== generation) return;
  if (!token) return signedOutElsewhere();
  const res = await call('/api/me', { token }).catch(() => null);
  if (res?.status === 401 && pcTokens.get() === token && mine === generation) {
    pcTokens.clear();
    showQr('signedOut');
  }
}

/** The session was ended elsewhere (the phone signed this computer out): say so, offer a new code. */
function signedOutElsewhere() {
  if (view.kind !== 'qr') showQr('signedOut');
}

/** Renews the access token a minute before it expires, while the page is open. */
const renewals = keepPcFresh(signedOutElsewhere);

document.addEventListener('visibilitychange', recheck);
window.addEventListener('focus', recheck);
// Signed in or out in another tab of this browser.
window.addEventListener('storage', (event) => {
  if (event.key !== PC_TOKEN_KEY) return;
  if (!event.newValue && view.kind !== 'qr') showQr('signedOut');
  else if (event.newValue && view.kind === 'qr') {
    generation++;
    checkUser(generation);
  }
});
if (pcTokens.get()) checkUser(++generation);
else showQr();
// The element asks for the same config (one request): the shell reads the site's name and accent in it.
shell.config.then(() => widget?.toggleAttribute('passkey', shell.passkeyHere));
