/**
 * @module
 * The confirm view's passkey, when the login asks for one (`step_up` in the scan's answer): the
 * words that say why it asks, the ceremony that Confirm runs before it confirms, a passkey made
 * there and then for a user who has none, and what went wrong, in words. A cancelled or refused
 * passkey changes nothing on the server: the user tries again until the code expires.
 */
import { h } from '../kit/dom.js';
import { usePasskey } from '../kit/passkey.js';
import { t } from './i18n.js';
import { addPasskey, ceremonyWords } from './passkeys.js';

/** Why the site asks, by the scan's `step_up_reason`. */
const WHY = {
  always: () => t.stepUpAlways,
  location: () => t.stepUpLocation,
  typed: () => t.stepUpTyped,
};

/**
 * @param {object} o
 * @param {any} o.options the scan's `step_up`: request options for the user's passkeys
 * @param {string | undefined} o.reason the scan's `step_up_reason`
 * @param {import('./tokens.js').TokenStore} o.store
 * @param {() => void} o.created a passkey was just made here: the view moves the focus to Confirm
 */
export function stepUp({ options, reason, store, created }) {
  let current = options;
  let hasPasskey = (options.allowCredentials?.length ?? 0) > 0;
  const said = h('p', { class: 'error', role: 'alert' });
  const slot = h('div', { class: 'connection-slot' });
  const how = h('p', { class: 'hint' }, hasPasskey ? t.stepUpHow : t.stepUpNoPasskey);
  const create = hasPasskey
    ? null
    : h('button', { type: 'button', class: 'create-passkey', onclick: () => createHere() }, t.createPasskey);
  const why = (WHY[/** @type {keyof typeof WHY} */ (reason)] ?? WHY.always)();
  const box = h('div', { class: 'step-up' }, h('p', { class: 'why' }, why), how, create, slot, said);

  /** Makes a passkey of this phone for the user; false when it did not happen (said in words). */
  async function createHere() {
    if (!create) return true;
    create.disabled = true;
    said.textContent = '';
    const added = await addPasskey(store, slot);
    if (!added.ok) {
      said.textContent = added.message;
      create.disabled = false;
      return false;
    }
    hasPasskey = true;
    current = { ...current, allowCredentials: [{ type: 'public-key', id: added.passkey.id }] };
    how.textContent = t.passkeyCreated;
    create.remove();
    created();
    return true;
  }

  return {
    box,
    /**
     * The passkey ceremony that Confirm runs (making a passkey first for a user who has none):
     * the assertion to send, or null when there is none (said in words).
     * @returns {Promise<any>}
     */
    async prove() {
      said.textContent = '';
      if (!hasPasskey && !(await createHere())) return null;
      try {
        return await usePasskey(current);
      } catch (err) {
        said.textContent = ceremonyWords(err);
        return null;
      }
    },
    /**
     * The server refused the passkey: said in words; `fresh` are the request options of a new
     * scan (a fresh challenge: the last one may have been spent).
     * @param {any} fresh
     */
    refused(fresh) {
      if (fresh) current = fresh;
      said.textContent = t.stepUpRefused;
    },
    /** @param {boolean} on */
    enable(on) {
      if (create) create.disabled = !on;
    },
  };
}
