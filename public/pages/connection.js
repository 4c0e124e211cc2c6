/**
 * @module
 * A phone page's request that survives a lost connection or an outage. When the network fails
 * (or a gateway answers 502/503/504), the page says the connection is the problem; when the
 * Worker itself answers 503 `service_unavailable`, it says the phone's connection is fine and
 * who has to fix it (the site, when its sign-in keys cannot be fetched; else the service). Either
 * way it counts down to the next try (1 s, 2 s, 4 s … 30 s) and offers "Retry now"; the notice
 * goes away once an answer comes.
 */
import { call } from '../kit/api.js';
import { persist } from '../kit/backoff.js';
import { readConfig, serverConfig } from '../kit/config.js';
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
 * What is in the way: the connection (a network failure, a gateway's answer), this service (the
 * Worker answered 503), or the site's sign-in keys (the Worker answered 503 saying so).
 * @typedef {'connection' | 'service' | 'site-keys'} Trouble
 */

/**
 * The trouble that a failed try shows: only a JSON 503 `service_unavailable` is the Worker's own
 * answer (a gateway's 502/504, or a 503 page of the network, says nothing of the kind).
 * @param {import('../kit/api.js').Answer | null} answer
 * @returns {Trouble}
 */
export function troubleOf(answer) {
  if (answer?.status !== 503 || answer.body?.error !== 'service_unavailable') return 'connection';
  return answer.body.reason === 'site_keys_unavailable' ? 'site-keys' : 'service';
}

/**
 * The words of a trouble: what is wrong, and who can fix it.
 * @param {Trouble} trouble
 * @param {string} site
 * @returns {[title: string, hint: string]}
 */
function words(trouble, site) {
  if (trouble === 'site-keys') return [t.siteKeysTrouble(site), t.siteKeysHint(site)];
  if (trouble === 'service') return [t.serverTrouble, t.serverTroubleHint];
  return [t.connectionLost, t.connectionHint];
}

/**
 * @typedef {object} Notice the notice in a slot, kept across tries so that "Retry now" keeps the keyboard focus
 * @property {HTMLElement} el
 * @property {HTMLElement} title
 * @property {HTMLElement} hint
 * @property {HTMLElement} when
 * @property {HTMLButtonElement} button
 * @property {(() => void) | null} go
 * @property {Trouble | null} trouble what it says now
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
  const title = h(whole ? 'h1' : 'strong', {});
  const hint = h(whole ? 'p' : 'span', {});
  // The alert is said once (and again only when the trouble changes); the countdown beside it
  // changes every second without being read out.
  const el = whole
    ? h(
        'div',
        { class: 'card connection-page' },
        h('div', { role: 'alert' }, title, hint),
        h('div', { class: 'connection' }, when, button),
      )
    : h('div', { class: 'connection' }, h('p', { role: 'alert' }, title, ' ', hint), when, button);
  /** @type {Notice} */
  const n = { el, title, hint, when, button, go: null, trouble: null };
  notices.set(slot, n);
  show(slot, el);
  return n;
}

/**
 * Says `trouble` in the notice `n`, unless it already does.
 * @param {Notice} n
 * @param {Trouble} trouble
 */
function say(n, trouble) {
  if (n.trouble === trouble) return;
  n.trouble = trouble;
  const put = (/** @type {string} */ site) => {
    const [title, hint] = words(trouble, site);
    n.title.textContent = title;
    n.hint.textContent = hint;
  };
  if (trouble !== 'site-keys') return put('');
  // The site's name comes with the config (asked already, and answered: the Worker answers).
  serverConfig(location.origin).then((cfg) => {
    if (n.trouble === trouble) put((cfg ?? readConfig(null)).site_name);
  });
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
    waiting: (left, now, answer) => {
      if (!troubled) onTrouble?.();
      troubled = true;
      const n = noticeIn(slot, whole);
      say(n, troubleOf(answer));
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
