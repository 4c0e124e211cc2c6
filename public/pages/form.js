/**
 * @module
 * A card with a form that says what went wrong in words; shared by the sign-in and the
 * code-to-type forms. A lost connection is said as one, with a countdown and "Retry now".
 */

import { h } from '../kit/dom.js';
import { reliably } from './connection.js';
import { t } from './i18n.js';

/**
 * An API request that rides out a lost connection (null once the page moved on).
 * @typedef {(path: string, options: import('../kit/api.js').CallOptions) => ReturnType<typeof reliably>} Call
 */

/**
 * `onSubmit(call)` gets `call(path, options)`, an API request that rides out a lost connection,
 * and resolves to a message to show (the button is enabled again), or to nothing when the page
 * moved on.
 * @param {object} form
 * @param {string} form.title
 * @param {import('../kit/dom.js').Children} form.children
 * @param {string} form.submit the button's name
 * @param {(call: Call) => Promise<string | undefined>} form.onSubmit
 * @param {import('../kit/dom.js').Children} [form.after]
 * @param {import('../kit/dom.js').Children} [form.before]
 */
export function formCard({ title, children, submit, onSubmit, after = null, before = null }) {
  const error = h('p', { class: 'error', role: 'alert' });
  const connection = h('div', { class: 'connection-slot' });
  const button = h('button', { type: 'submit', class: 'primary' }, submit);
  /** @type {Call} */
  const call = (path, options) => reliably(path, options, connection);
  return h(
    'form',
    {
      class: 'card',
      /** @param {SubmitEvent} event */
      onsubmit: async (event) => {
        event.preventDefault();
        if (button.disabled) return;
        button.disabled = true;
        error.textContent = '';
        const message = await onSubmit(call).catch(() => t.requestFailed);
        if (message) {
          error.textContent = message;
          button.disabled = false;
        }
      },
    },
    h('h1', {}, title),
    before,
    children,
    button,
    connection,
    error,
    after,
  );
}

/**
 * The words for a refused request, with the 429's wait.
 * @param {import('../kit/api.js').Answer} res
 * @param {Record<number, string>} [words] what to say for a status
 */
export function refusal(res, words = {}) {
  if (res.status === 429) return t.rateLimited(res.retryAfter || 60);
  return words[res.status] ?? t.requestFailed;
}
