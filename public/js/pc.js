/**
 * @module
 * The PC page `/`: a thin host of `<qr-login>`, the same element other sites embed, so there is one
 * PC implementation. The page keeps the token the element hands over (in localStorage, as before),
 * shows who is signed in (from `/api/me`), signs out, notices a sign-out made from the phone when
 * the tab comes back, and switches between Chinese and English (remembered).
 */
import '../widget.js';
import { backoffSeconds, countdown } from '../widget/retry.js';
import { browserLang, pickLang, STRINGS } from '../widget/strings.js';
import { api, tokenStore } from './api.js';
import { h, initial, show } from './dom.js';

const TOKEN_KEY = 'qrlogin.pc.token';
const store = tokenStore(TOKEN_KEY);
const main = document.getElementById('main');
const title = document.getElementById('title');
const pageStatus = document.getElementById('page-status');
const pageRetry = document.getElementById('page-retry');
const retryButton = document.getElementById('retry-now');

/**
 * The chosen language, remembered. A minimal stand-in for `setLang` in public/js/i18n.js (the phone
 * pages' module), using the same key so that a choice made on one page holds on the others.
 */
const LANG_KEY = 'qrlogin.lang';
let lang = pickLang(readLang() || browserLang());

function readLang() {
  try {
    return localStorage.getItem(LANG_KEY);
  } catch {
    return null;
  }
}

function setLang(next) {
  lang = pickLang(next);
  try {
    localStorage.setItem(LANG_KEY, lang);
  } catch {
    // Private mode without storage: the choice holds until the page is closed.
  }
  render();
}

/** What the page shows: `qr` (the element), `checking` (a stored token), or `user` (signed in). */
let view = { kind: 'qr', notice: '' };
let widget = null;
let generation = 0;
let retryNow = null;
/** The site's name (`SITE_NAME`), for the window's title. */
let siteName = '';

function render() {
  const t = STRINGS[lang];
  document.documentElement.lang = lang;
  for (const button of document.querySelectorAll('[data-lang]')) {
    button.setAttribute('aria-pressed', String(button.dataset.lang === lang));
  }
  const heading = { qr: t.pcTitle, checking: t.appName, user: t.signedInTitle }[view.kind];
  document.title = siteName ? `${heading} · ${siteName}` : heading;
  title.textContent = heading;
  // One status region at a time: the element has its own while it is shown.
  pageStatus.hidden = view.kind === 'qr';
  // "Retry now" goes away once the server answers: the focus moves to the heading, not to the body.
  const retryHadFocus = !view.retry && pageRetry.contains(document.activeElement);
  pageRetry.hidden = !view.retry;
  if (retryHadFocus) title.focus();
  retryButton.textContent = t.retryNow;
  if (view.kind === 'qr') {
    widget?.setAttribute('lang', lang);
    if (view.notice && widget) widget.notice = t[view.notice];
    return;
  }
  let said;
  if (view.retry) said = t.retrying.replace('{n}', String(view.retry));
  else if (view.kind === 'checking') said = t.checking;
  else said = t.signedIn(view.user.display_name);
  if (pageStatus.textContent !== said) pageStatus.textContent = said;
  if (view.kind === 'user') {
    main.querySelector('.sign-out').textContent = t.signOut;
  }
}

/** A new QR code; `notice` (a key of the strings) is said before "waiting for a scan". */
function showQr(notice = '') {
  generation++;
  retryNow?.();
  const hadFocus = main.contains(document.activeElement);
  view = { kind: 'qr', notice };
  widget = document.createElement('qr-login');
  widget.setAttribute('lang', lang);
  if (notice) widget.notice = STRINGS[lang][notice];
  let changes = 0;
  widget.addEventListener('qr-login:status', () => {
    // The news was for the first code only, not for the ones after a refresh.
    if (++changes > 1) view.notice = '';
  });
  widget.addEventListener('qr-login:login', (event) => {
    store.set(event.detail.token);
    const focusHeading = event.currentTarget.matches(':focus-within');
    showUser(event.detail.user, focusHeading);
    // The element's user came with the token; /api/me is what the server says now.
    checkUser(generation, { quiet: true });
  });
  show(main, widget);
  render();
  if (hadFocus) widget.focus();
}

function showUser(user, focusHeading = false) {
  retryNow?.();
  view = { kind: 'user', user };
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
  if (focusHeading) title.focus();
}

/** Asks the server who the stored token belongs to; a connection problem counts down and retries. */
async function checkUser(mine, { quiet = false } = {}) {
  const token = store.get();
  if (!quiet) {
    view = { kind: 'checking' };
    show(main);
    render();
  }
  for (let attempt = 0; ; attempt++) {
    const res = await api('/api/me', { token }).catch(() => null);
    if (mine !== generation || store.get() !== token) return;
    if (res?.ok) return showUser(res.body);
    if (res?.status === 401) {
      store.clear();
      return showQr('signedOut');
    }
    if (quiet && view.kind === 'user') {
      // Already showing the user the element reported: no need to count down over it.
      if (!res || res.status >= 500 || res.status === 429) return;
    }
    if (res && res.status < 500 && res.status !== 429) {
      store.clear();
      return showQr();
    }
    const seconds = res?.status === 429 ? res.retryAfter || 5 : backoffSeconds(attempt);
    const wait = countdown(seconds, (left) => {
      if (mine !== generation) return;
      view.retry = left;
      render();
    });
    retryNow = wait.now;
    await wait.done;
    retryNow = null;
    if (mine !== generation) return;
    view.retry = 0;
    render();
  }
}

async function signOut() {
  const token = store.get();
  generation++;
  await api('/api/logout', { method: 'POST', token }).catch(() => null);
  store.clear();
  showQr();
  widget.focus();
}

/** A device signed out from the phone loses its session on its next request: check when the tab comes back. */
async function recheck() {
  const token = store.get();
  if (!token || view.kind !== 'user' || document.visibilityState !== 'visible') return;
  const mine = generation;
  const res = await api('/api/me', { token }).catch(() => null);
  if (res?.status === 401 && store.get() === token && mine === generation) {
    store.clear();
    showQr('signedOut');
  }
}

document.addEventListener('visibilitychange', recheck);
window.addEventListener('focus', recheck);
// Signed in or out in another tab of this browser.
window.addEventListener('storage', (event) => {
  if (event.key !== TOKEN_KEY) return;
  if (!event.newValue && view.kind !== 'qr') showQr('signedOut');
  else if (event.newValue && view.kind === 'qr') {
    generation++;
    checkUser(generation);
  }
});
retryButton.addEventListener('click', () => retryNow?.());
for (const button of document.querySelectorAll('[data-lang]')) {
  button.addEventListener('click', () => setLang(button.dataset.lang));
}

if (store.get()) checkUser(++generation);
else showQr();
api('/api/config')
  .then((res) => {
    siteName = res.ok ? (res.body?.site_name ?? '') : '';
    render();
  })
  .catch(() => {});
