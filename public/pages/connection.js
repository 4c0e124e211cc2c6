/**
 * @module
 * A phone page's request that survives a lost connection. When the network fails (or the server
 * answers 502/503/504), the page says the connection is the problem, counts down to the next try
 * (1 s, 2 s, 4 s … 30 s) and offers "Retry now"; the notice goes away once an answer comes.
 */
import { call } from '../kit/api.js';
import { persist } from '../kit/backoff.js';
import { h, show } from '../kit/dom.js';
import { t } from './i18n.js';

/**
 * The phone's back-off: up to 30 s between tries; only a gateway's or an outage's answer is "not
 * now" (a 500 is a fault, said as one).
 * @type {import('../kit/backoff.js').RetryPolicy}
 */
export const PHONE_RETRY = {
  maxSeconds: 30,
  transient: (status) => status === 502 || status === 503 || status === 504,
};

/**
 * @typedef {object} Notice the notice in a slot, kept across tries so that "Retry now" keeps the keyboard focus
 * @property {HTMLElement} el
 * @property {HTMLElement} when
 * @property {HTMLButtonElement} button
 * @property {(() => void) | null} go
 */

/** @type {WeakMap<HTMLElement, Notice>} */
const notices = new WeakMap();

/**
 * The notice in `slot`, shown. `whole`: it is the page's whole content (nothing loaded yet), so
 * it carries its heading.
 * @param {HTMLElement} slot
 * @param {boolean} whole
 * @returns {Notice}
 */
function noticeIn(slot, whole) {
  const known = notices.get(slot);
  if (known?.el.isConnected) return known;
  const when = h('p', { class: 'retry-when' });
  const button = h('button', { type: 'button', class: 'retry', onclick: () => n.go?.() }, t.retryNow);
  // The alert is said once; the countdown beside it changes every second without being read out.
  const el = whole
    ? h(
        'div',
        { class: 'card connection-page' },
        h('div', { role: 'alert' }, h('h1', {}, t.connectionLost), h('p', {}, t.connectionHint)),
        h('div', { class: 'connection' }, when, button),
      )
    : h(
        'div',
        { class: 'connection' },
        h('p', { role: 'alert' }, h('strong', {}, t.connectionLost), ' ', t.connectionHint),
        when,
        button,
      );
  /** @type {Notice} */
  const n = { el, when, button, go: null };
  notices.set(slot, n);
  show(slot, el);
  return n;
}

/**
 * `call(path, options)` until an answer comes that is not a network failure or a 502/503/504,
 * with the notice in `slot` meanwhile. `onTrouble` runs once, at the first failure (to disable
 * buttons, say). Null when `alive()` turns false (the page moved on).
 * @param {string} path
 * @param {import('../kit/api.js').CallOptions} options
 * @param {HTMLElement} slot
 * @param {{ alive?: () => boolean, onTrouble?: () => void }} [more]
 */
export function reliably(path, options, slot, { alive = () => true, onTrouble } = {}) {
  const whole = slot.id === 'main';
  let troubled = false;
  return persist(() => call(path, options), PHONE_RETRY, {
    alive,
    waiting: (left, now) => {
      if (!troubled) onTrouble?.();
      troubled = true;
      const n = noticeIn(slot, whole);
      n.go = now;
      n.button.removeAttribute('aria-disabled');
      n.when.textContent = t.retryIn(left);
    },
    trying: () => {
      const n = notices.get(slot);
      if (!n) return;
      n.go = null;
      n.when.textContent = t.retryingNow;
      // aria-disabled, not disabled: a disabled button would drop the keyboard focus.
      n.button.setAttribute('aria-disabled', 'true');
    },
    recovered: () => show(slot),
  });
}
