/** A card with a form that says what went wrong in words; shared by the sign-in and the code-to-type forms. */
import { h } from './dom.js';
import { t } from './i18n.js';

/**
 * `onSubmit` resolves to a message to show (the button is enabled again), or to nothing when
 * the page moved on. Network failures become "Something went wrong".
 */
export function formCard({ title, children, submit, onSubmit, after = null }) {
  const error = h('p', { class: 'error', role: 'alert' });
  const button = h('button', { type: 'submit', class: 'primary' }, submit);
  return h(
    'form',
    {
      class: 'card',
      onsubmit: async (event) => {
        event.preventDefault();
        button.disabled = true;
        error.textContent = '';
        const message = await onSubmit().catch(() => t.requestFailed);
        if (message) {
          error.textContent = message;
          button.disabled = false;
        }
      },
    },
    h('h1', {}, title),
    children,
    button,
    error,
    after,
  );
}

/** The words for a refused request, with the 429's wait. */
export function refusal(res, words = {}) {
  if (res.status === 429) return t.rateLimited(res.retryAfter || 60);
  return words[res.status] ?? t.requestFailed;
}
