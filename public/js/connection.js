/**
 * @module
 * A request that survives a lost connection. When the network fails (or the server answers
 * 502/503/504), the page says the connection is the problem, counts down to the next try (1 s,
 * 2 s, 4 s … 30 s) and offers "Retry now"; the notice goes away once an answer comes.
 */
import { api } from './api.js';
import { h, show } from './dom.js';
import { t } from './i18n.js';

const MAX_DELAY_MS = 30_000;
/** Answers that mean "not now" (a gateway, an outage), not "no": a 500 is a fault, said as one. */
const TRANSIENT = new Set([502, 503, 504]);

/**
 * `api(path, options)` until an answer comes that is not a network failure or a 502/503/504;
 * the notice is shown in `slot` meanwhile. `onTrouble` runs once, at the first failure (e.g. to disable buttons). Resolves to null when
 * `alive()` turns false (the page moved on).
 */
export async function reliably(path, options, slot, { alive = () => true, onTrouble } = {}) {
  const whole = slot.id === 'main';
  let delay = 1000;
  let troubled = false;
  for (;;) {
    let res = null;
    try {
      res = await api(path, options);
    } catch {
      // A network failure: told below, like a 5xx.
    }
    if (!alive()) return null;
    if (res && !TRANSIENT.has(res.status)) {
      if (troubled) show(slot);
      // `retried`: an earlier try may have reached the server although its answer was lost.
      return { ...res, retried: troubled };
    }
    if (!troubled) onTrouble?.();
    troubled = true;
    await countdown(slot, delay, alive, whole);
    if (!alive()) return null;
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  }
}

/** The notice in each slot, kept across tries so that "Retry now" keeps the keyboard focus. */
const notices = new WeakMap();

/** `whole`: the notice is the page's whole content (nothing loaded yet), so it carries its heading. */
function noticeIn(slot, whole) {
  let n = notices.get(slot);
  if (n?.el.isConnected) return n;
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
  n = { el, when, button, go: null };
  notices.set(slot, n);
  show(slot, el);
  return n;
}

/** Shows the notice and resolves when `ms` have passed or "Retry now" is pressed. */
function countdown(slot, ms, alive, whole) {
  return new Promise((resolve) => {
    const n = noticeIn(slot, whole);
    const end = Date.now() + ms;
    let timer = null;
    n.go = () => {
      n.go = null;
      clearInterval(timer);
      n.when.textContent = t.retryingNow;
      // aria-disabled, not disabled: a disabled button would drop the keyboard focus.
      n.button.setAttribute('aria-disabled', 'true');
      resolve();
    };
    n.button.removeAttribute('aria-disabled');
    const tick = () => {
      const left = Math.ceil((end - Date.now()) / 1000);
      if (!alive() || left <= 0) return n.go?.();
      n.when.textContent = t.retryIn(left);
    };
    tick();
    timer = setInterval(tick, 250);
  });
}
