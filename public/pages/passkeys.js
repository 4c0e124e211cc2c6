/**
 * @module
 * The phone user's passkeys: signing in with one alone (`IDENTITY=accounts`), adding one, the
 * offer to add one after a password sign-in, and the list (name, when added, when last used,
 * remove after asking). Every failure is said in words; a cancelled ceremony can be tried again.
 */
import { call } from '../kit/api.js';
import { h, show } from '../kit/dom.js';
import { ceremonyProblem, makePasskey, passkeysUsable, usePasskey } from '../kit/passkey.js';
import { reliably } from './connection.js';
import { ago, askFirst, when } from './devices.js';
import { refusal } from './form.js';
import { t } from './i18n.js';

/** Set by a password sign-in, for the offer to add a passkey; said once, in this tab. */
const OFFER_KEY = 'qrlogin.offer-passkey';

/** A password sign-in just happened: the pages offer to add a passkey (unless the user has one). */
export function offerAfterPasswordSignIn() {
  try {
    sessionStorage.setItem(OFFER_KEY, '1');
  } catch {
    // Without storage there is no offer; the list still adds passkeys.
  }
}

function offerWanted() {
  try {
    return sessionStorage.getItem(OFFER_KEY) === '1';
  } catch {
    return false;
  }
}

function offerDone() {
  try {
    sessionStorage.removeItem(OFFER_KEY);
  } catch {
    // Nothing kept, nothing to forget.
  }
}

/**
 * A failed ceremony, in words.
 * @param {unknown} err
 */
export function ceremonyWords(err) {
  const problem = ceremonyProblem(err);
  if (problem === 'cancelled') return t.passkeyCancelled;
  if (problem === 'exists') return t.passkeyExists;
  if (problem === 'unavailable') return t.passkeyUnavailable;
  return t.passkeyFailed;
}

/**
 * @typedef {{ ok: true, passkey: { id: string, name: string, created_at: string } }
 *   | { ok: false, message: string }} Added
 */

/**
 * Adds a passkey of this phone for the signed-in user: options, the ceremony, the registration.
 * `slot` shows a lost connection.
 * @param {import('./tokens.js').TokenStore} store
 * @param {HTMLElement} slot
 * @returns {Promise<Added>}
 */
export async function addPasskey(store, slot) {
  const options = await reliably(
    '/api/passkeys/register/options',
    { method: 'POST', token: await store.fresh() },
    slot,
  );
  if (!options) return { ok: false, message: t.requestFailed };
  const stale = store.site ? t.passkeyStaleSite : t.passkeyStale;
  if (!options.ok) return { ok: false, message: refusal(options, { 403: stale }) };
  let credential;
  try {
    credential = await makePasskey(options.body);
  } catch (err) {
    return { ok: false, message: ceremonyWords(err) };
  }
  const added = await reliably(
    '/api/passkeys/register',
    { method: 'POST', token: await store.fresh(), body: credential },
    slot,
  );
  if (added?.ok) return { ok: true, passkey: added.body };
  return {
    ok: false,
    message: added ? refusal(added, { 400: t.passkeyNotAdded, 403: stale }) : t.requestFailed,
  };
}

/**
 * The sign-in form's other way in: a passkey alone (discoverable: no username). `signedIn` gets
 * the login's answer (`/api/login`'s), and the form's promise resolves as for a password. Null
 * where passkeys cannot be used.
 * @param {import('../kit/config.js').Config} cfg
 * @param {(answer: import('./tokens.js').LoginAnswer) => void} signedIn
 */
export function passkeySignIn(cfg, signedIn) {
  if (!passkeysUsable(cfg.passkey_rp_id)) return null;
  const error = h('p', { class: 'error', role: 'alert' });
  const connection = h('div', { class: 'connection-slot' });
  const button = h('button', { type: 'button', class: 'passkey', onclick: go }, t.signInWithPasskey);

  async function go() {
    if (button.disabled) return;
    button.disabled = true;
    error.textContent = '';
    const message = await attempt().catch(() => t.requestFailed);
    if (message) {
      error.textContent = message;
      button.disabled = false;
      button.focus();
    }
  }

  /** @returns {Promise<string | undefined>} what went wrong, or nothing once signed in */
  async function attempt() {
    const options = await reliably('/api/passkeys/login/options', { method: 'POST' }, connection);
    if (!options) return t.requestFailed;
    if (!options.ok) return refusal(options);
    let assertion;
    try {
      assertion = await usePasskey(options.body);
    } catch (err) {
      return ceremonyWords(err);
    }
    const res = await reliably('/api/passkeys/login', { method: 'POST', body: assertion }, connection);
    if (!res) return t.requestFailed;
    if (!res.ok) return refusal(res, { 400: t.passkeySignInRefused, 401: t.passkeySignInRefused });
    signedIn(res.body);
  }

  return h('div', { class: 'passkey-sign-in' }, h('p', { class: 'or' }, t.orPassword), button, connection, error);
}

/**
 * The signed-in user's passkeys: a list inside the linked devices' disclosure `box` (one
 * disclosure under the page, never in the way of its main screen), loaded when it opens, and the
 * offer to add one after a password sign-in (`offer()`, shown in `offerSlot`), once, not when the
 * user has one already. Where passkeys cannot be used, the list still shows and removes them, and
 * nothing offers to add one.
 * @param {import('./tokens.js').TokenStore} store
 * @param {import('../kit/config.js').Config} cfg
 * @param {HTMLDetailsElement} box
 */
export function passkeyList(store, cfg, box) {
  const usable = passkeysUsable(cfg.passkey_rp_id);
  const connection = h('div', { class: 'connection-slot' });
  const addButton = h('button', { type: 'button', class: 'add-passkey', onclick: () => add() }, t.addPasskey);
  const list = h('ul', { class: 'devices' });
  const note = h('p', { class: 'hint', 'aria-live': 'polite' });
  const heading = h('h2', { id: 'passkeys-title', tabindex: -1 }, t.passkeys);
  box.append(
    h(
      'section',
      { class: 'passkeys-part', 'aria-labelledby': 'passkeys-title' },
      heading,
      list,
      note,
      usable ? h('div', { class: 'list-actions' }, addButton, connection) : null,
    ),
  );
  const offerSlot = h('div', { class: 'offer-slot' });

  async function load() {
    const res = await call('/api/passkeys', { token: await store.fresh() }).catch(() => null);
    if (!res?.ok || !Array.isArray(res.body)) {
      if (box.open) note.textContent = res ? t.requestFailed : t.devicesOffline;
      return null;
    }
    if (box.open && (note.textContent === t.devicesOffline || note.textContent === t.requestFailed)) {
      note.textContent = '';
    }
    if (!res.body.length) show(list, h('li', { class: 'empty' }, t.noPasskeys));
    else show(list, res.body.map(row));
    return /** @type {{ id: string }[]} */ (res.body);
  }

  /** @param {{ id: string, name: string, created_at: string, last_used_at: string | null }} p */
  function row(p) {
    const actions = h('div', { class: 'device-actions' });
    const used = p.last_used_at ? t.lastUsed(ago(when(p.last_used_at))) : t.neverUsed;
    const item = h(
      'li',
      {},
      h(
        'div',
        { class: 'device' },
        h('strong', {}, p.name),
        h('br'),
        h('small', {}, [t.added(ago(when(p.created_at))), used].join(' · ')),
      ),
      actions,
    );
    askFirst(actions, h('button', { type: 'button', 'aria-label': `${t.remove}: ${p.name}` }, t.remove), {
      question: t.askRemove(p.name),
      yes: t.confirmRemove,
      keep: t.keepPasskey,
      act: async (yes, keep) => {
        yes.disabled = true;
        keep.disabled = true;
        const res = await call(`/api/passkeys/${encodeURIComponent(p.id)}`, {
          method: 'DELETE',
          token: await store.fresh(),
        }).catch(() => null);
        // 404: already removed (on another device): as good as done.
        if (res && (res.status === 204 || res.status === 404)) {
          note.textContent = t.passkeyRemoved(p.name);
          item.remove();
          heading.focus();
          return load();
        }
        const stale = store.site ? t.passkeyStaleSite : t.passkeyStale;
        note.textContent = res ? refusal(res, { 403: stale }) : t.devicesOffline;
        yes.disabled = false;
        keep.disabled = false;
      },
    });
    return item;
  }

  async function add() {
    addButton.disabled = true;
    note.textContent = '';
    const added = await addPasskey(store, connection);
    addButton.disabled = false;
    note.textContent = added.ok ? t.passkeyAdded(added.passkey.name) : added.message;
    if (added.ok) {
      offerDone();
      show(offerSlot);
      await load();
    }
  }

  /** After a password sign-in: offers to add a passkey, unless the user has one (or said not now). */
  async function offer() {
    if (!offerWanted() || !usable) return;
    const res = await call('/api/passkeys', { token: await store.fresh() }).catch(() => null);
    if (!res?.ok || !Array.isArray(res.body) || !offerWanted()) return;
    if (res.body.length) return offerDone();
    const said = h('p', { class: 'error', role: 'alert' });
    const slot = h('div', { class: 'connection-slot' });
    // A side offer: plain buttons, never the accent's fill, so that it does not outshine the
    // view's own choice (Confirm login and Cancel on /confirm, Continue on /link).
    const yes = h('button', { type: 'button' }, t.addPasskey);
    const no = h('button', { type: 'button' }, t.notNow);
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      no.disabled = true;
      said.textContent = '';
      const added = await addPasskey(store, slot);
      if (added.ok) {
        offerDone();
        show(offerSlot, h('p', { class: 'card offer done', role: 'status' }, t.passkeyAdded(added.passkey.name)));
        if (box.open) load();
        return;
      }
      said.textContent = added.message;
      yes.disabled = false;
      no.disabled = false;
      yes.focus();
    });
    no.addEventListener('click', () => {
      offerDone();
      show(offerSlot);
    });
    show(
      offerSlot,
      h(
        'section',
        { class: 'card offer', 'aria-labelledby': 'offer-title' },
        h('h2', { id: 'offer-title' }, t.offerTitle),
        h('p', {}, t.offerText),
        h('div', { class: 'offer-buttons' }, yes, no),
        slot,
        said,
      ),
    );
  }

  box.addEventListener('toggle', () => {
    if (box.open) load();
  });
  return { offerSlot, offer, load };
}
