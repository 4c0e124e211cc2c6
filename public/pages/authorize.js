/**
 * @module
 * The authorize page (`/oauth/authorize` shows `authorize.html`): a site asks its user to sign in
 * by scan (OpenID Connect). It is the PC page under the site's name ("Sign in to Grafana"): the
 * same `<qr-login>` (the QR, the code to type, number matching, the passkey from the phone where
 * it can work) in the same frame (`pc-shell.js`: language, heading, status line), but its codes
 * belong to the authorize request (`POST /api/authorize`, then `/api/authorize/qrcode` for a
 * fresh one when one expires, while the request is under 10 minutes old), and every way out goes
 * back to the site: the phone's confirm (a code), the phone's cancel or the page's (access_denied),
 * "Continue as" (this browser's sign-in, no scan). The page goes with `location.replace`, so the
 * back button does not come back to a spent page.
 *
 * No token of the user ever reaches this script: the status answers of its logins carry a place
 * to go (`redirect_to`) instead, the single sign-on cookie is `HttpOnly`, and nothing is stored
 * but the language a visitor chooses.
 */
import '../widget.js';
import { call } from '../kit/api.js';
import { persist } from '../kit/backoff.js';
import { h, initial, setText, show } from '../kit/dom.js';
import { chosenLang } from '../kit/lang.js';
import { PC_RETRY } from '../widget/login.js';
import { part, pcShell } from './pc-shell.js';

/** @typedef {import('../widget/login.js').NewQr} NewQr */
/** @typedef {import('../widget/qr-login-element.js').QrLoginElement} QrLoginElement */
/** @typedef {typeof import('../widget/strings.js').STRINGS.en} Strings */

const main = part('main');
const cancelRow = part('cancel-row');
const cancelButton = /** @type {HTMLButtonElement} */ (part('cancel'));

/** The page's own calls: a gateway's or an outage's answer, or a 429, is "not now". */
const PAGE_RETRY = {
  ...PC_RETRY,
  transient: (/** @type {number} */ status) => status === 429 || PC_RETRY.transient(status),
};

/** The authorize request, as the site sent it (the page's address). */
const params = Object.fromEntries(new URLSearchParams(location.search));

/**
 * The language: the site's `ui_locales` (the first one we speak), else the visitor's.
 * @param {string | undefined} uiLocales
 * @returns {import('../kit/lang.js').Lang}
 */
function firstLang(uiLocales) {
  for (const tag of (uiLocales ?? '').split(/\s+/)) {
    if (/^zh\b/i.test(tag)) return 'zh-CN';
    if (/^en\b/i.test(tag)) return 'en';
  }
  return chosenLang();
}

const shell = pcShell(firstLang(params.ui_locales), () => render());

/**
 * What the page shows: `starting` (asking for its QR), `continue` ("Continue as"), `qr` (the
 * element), `leaving` (going back to the site: `words` say why, or the element does), `unusable`
 * (nothing to do here).
 * @typedef {{ kind: 'starting', retry?: number }
 *   | { kind: 'continue', retry?: number }
 *   | { kind: 'qr', notice: '' | 'renewed' | 'continueGone', retry?: number }
 *   | { kind: 'leaving', words: ((t: Strings) => string) | null }
 *   | { kind: 'unusable', words: (t: Strings) => string }} View
 */
/** @type {View} */
let view = { kind: 'starting' };

/** The signed request the page carries to its other calls (ten minutes). */
let authorization = '';
/** The site's name. */
let client = '';
/** This browser's live sign-in, when the request accepts it: "Continue as". */
let continueAs = /** @type {{ display_name: string } | null} */ (null);
/** The QR login `POST /api/authorize` made, until the element shows it. */
let firstLogin = /** @type {NewQr | null} */ (null);
/** @type {QrLoginElement | null} */
let widget = null;
/** A call of the page under way (Continue, Cancel): the buttons wait for it. */
let busy = false;

/** The "Continue as" card, built once (its words change with the language). */
const card = {
  avatar: h('span', { class: 'avatar big', 'aria-hidden': 'true' }),
  name: h('p', { class: 'user-name' }),
  hint: h('p', { class: 'hint' }),
  go: h('button', { type: 'button', class: 'primary continue', onclick: () => continueHere() }),
  other: h('button', { type: 'button', class: 'other-account', onclick: () => showQr('', true) }),
};
const cardBox = h(
  'div',
  { class: 'card signed-in continue-as' },
  card.avatar,
  card.name,
  card.hint,
  card.go,
  card.other,
);

function render() {
  const { t } = shell;
  const heading = client ? t.signInTo(client) : t.pcTitle;
  /** @type {string | null} */
  let said = null;
  if (view.kind === 'starting') said = t.preparing;
  else if (view.kind === 'leaving' || view.kind === 'unusable') said = view.words?.(t) ?? null;
  shell.frame(heading, said, 'retry' in view ? view.retry : 0);
  const hadFocus = cancelRow.contains(document.activeElement);
  cancelRow.hidden = !(view.kind === 'continue' || view.kind === 'qr');
  if (hadFocus && cancelRow.hidden) shell.focusTitle();
  cancelButton.textContent = t.cancel;
  cancelButton.setAttribute('aria-disabled', String(busy));
  card.go.setAttribute('aria-disabled', String(busy));
  if (continueAs) {
    setText(card.avatar, initial(continueAs.display_name));
    setText(card.name, continueAs.display_name);
    setText(card.hint, t.continueHint(client));
    setText(card.go, t.continueAs(continueAs.display_name));
    setText(card.other, t.otherAccount);
  }
  if (widget) {
    widget.setAttribute('lang', shell.lang);
    if (view.kind === 'qr' && view.notice) widget.notice = t[view.notice];
  }
}

/**
 * Goes back to the site (`to`: its redirect URI with a code or an error), saying why meanwhile.
 * @param {string} to
 * @param {((t: Strings) => string) | null} words null when the element says it
 */
function leave(to, words) {
  view = { kind: 'leaving', words };
  if (words) {
    show(main);
    widget = null;
  }
  render();
  location.replace(to);
}

/**
 * A call of the page's API, tried again while the server is not there; null when it never
 * answered.
 * @param {string} path
 * @param {unknown} body
 */
function ask(path, body) {
  return persist(() => call(path, { method: 'POST', body }), PAGE_RETRY, {
    waiting: (left, now) => {
      if (view.kind === 'leaving' || view.kind === 'unusable') return;
      view.retry = left;
      shell.retryNow = now;
      render();
    },
    recovered: () => {
      if ('retry' in view) view.retry = 0;
      shell.retryNow = null;
      render();
    },
  });
}

/**
 * The element's code source: the login the page started with while it has time left, else a
 * fresh one for the same request (or where to go, when the request is too old for one).
 * @param {AbortSignal} signal
 * @returns {Promise<import('../kit/api.js').Answer>}
 */
async function nextQr(signal) {
  const first = firstLogin;
  firstLogin = null;
  if (first && Date.parse(first.expires_at) - Date.now() > 10_000) {
    return { ok: true, status: 200, body: first, retryAfter: 0, date: null };
  }
  const res = await call('/api/authorize/qrcode', { method: 'POST', body: { authorization }, signal });
  return res.ok && res.body?.login ? { ...res, body: res.body.login } : res;
}

/**
 * A passkey's assertion, for a code of this request (never a token).
 * @param {unknown} assertion
 * @param {AbortSignal} signal
 */
const finishPasskey = (assertion, signal) =>
  call('/api/authorize/passkey', { method: 'POST', body: { authorization, assertion }, signal });

/**
 * Shows the QR (the element), with `notice` said before "waiting for a scan".
 * @param {'' | 'renewed' | 'continueGone'} notice
 * @param {boolean} [focus] the keyboard goes to the code (the user asked for it)
 */
function showQr(notice, focus = false) {
  view = { kind: 'qr', notice };
  const element = /** @type {QrLoginElement} */ (document.createElement('qr-login'));
  widget = element;
  element.setAttribute('lang', shell.lang);
  element.toggleAttribute('passkey', shell.passkeyHere);
  element.flow = { start: nextQr, passkey: finishPasskey, client };
  if (notice) element.notice = shell.t[notice];
  element.addEventListener('qr-login:status', (event) => {
    const { status } = /** @type {CustomEvent<{ status: string }>} */ (event).detail;
    if (view.kind !== 'qr') return;
    if (status === 'expired') {
      // A fresh code while the request is young enough (the API says when it no longer is).
      view.notice = 'renewed';
      queueMicrotask(() => {
        element.refresh({ focus: false });
        render();
      });
    } else if (status !== 'noscan') view.notice = '';
  });
  element.addEventListener('qr-login:redirect', (event) => {
    leave(/** @type {CustomEvent<{ redirect_to: string }>} */ (event).detail.redirect_to, null);
  });
  show(main, element);
  render();
  if (focus) element.focus();
}

/** "Continue as": a code for this browser's sign-in, no scan. */
async function continueHere() {
  if (busy || !continueAs) return;
  busy = true;
  render();
  const res = await ask('/api/authorize/continue', { authorization });
  busy = false;
  if (!res) return render();
  const name = continueAs.display_name;
  if (res.ok && typeof res.body?.redirect_to === 'string') {
    const to = res.body.redirect_to;
    const denied = new URL(to).searchParams.has('error');
    return leave(to, (t) => (denied ? t.returning.denied(client) : t.returning.confirmed(client, name)));
  }
  // The sign-in ended meanwhile (signed out from the phone, or too old for the request): scan.
  continueAs = null;
  showQr(res.status === 401 ? 'continueGone' : '', true);
}

/** The page's Cancel: back to the site with access_denied. */
async function cancel() {
  if (busy) return;
  busy = true;
  render();
  const res = await ask('/api/authorize/cancel', { authorization });
  busy = false;
  if (res?.ok && typeof res.body?.redirect_to === 'string') {
    return leave(res.body.redirect_to, (t) => t.pageCancelled(client));
  }
  view = { kind: 'unusable', words: (t) => t.requestUnusable };
  show(main);
  widget = null;
  render();
}
cancelButton.addEventListener('click', cancel);

async function start() {
  render();
  const res = await ask('/api/authorize', params);
  if (!res) return;
  if (res.ok && typeof res.body?.redirect_to === 'string') return leave(res.body.redirect_to, (t) => t.leavingSite);
  if (!res.ok || !res.body?.authorization) {
    const words = res.status === 400 ? 'requestUnusable' : 'failed';
    view = { kind: 'unusable', words: (t) => t[words] };
    return render();
  }
  ({ authorization, client_name: client, login: firstLogin, continue_as: continueAs } = res.body);
  if (continueAs) {
    view = { kind: 'continue' };
    show(main, cardBox);
    render();
  } else showQr('');
}

// The element offers a passkey from the phone where it can work here (the same rule as on `/`).
shell.config.then(() => widget?.toggleAttribute('passkey', shell.passkeyHere));
start();
