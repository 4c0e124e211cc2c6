/** The phone's sign-in form, shared by /confirm and /link. Resolves with the token once signed in. */
import { api } from './api.js';
import { h, show } from './dom.js';
import { t } from './i18n.js';

export function signIn(root, store) {
  return new Promise((resolve) => {
    const error = h('p', { class: 'error', role: 'alert' });
    const username = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true });
    const password = h('input', {
      id: 'password',
      name: 'password',
      type: 'password',
      autocomplete: 'current-password',
      required: true,
    });
    const button = h('button', { type: 'submit', class: 'primary' }, t.signIn);
    const hint = h('p', { class: 'hint' });
    api('/api/config').then((res) => {
      if (res.body?.development) hint.textContent = t.demoHint;
    });
    const form = h(
      'form',
      {
        class: 'card',
        onsubmit: async (event) => {
          event.preventDefault();
          button.disabled = true;
          error.textContent = '';
          try {
            const res = await api('/api/login', {
              method: 'POST',
              body: { username: username.value, password: password.value },
            });
            if (res.ok) {
              store.set(res.body.token);
              resolve(res.body.token);
              return;
            }
            error.textContent =
              res.status === 429
                ? t.rateLimited(res.retryAfter || 60)
                : res.status === 401
                  ? t.wrongPassword
                  : t.requestFailed;
          } catch {
            error.textContent = t.requestFailed;
          }
          button.disabled = false;
        },
      },
      h('h1', {}, t.signIn),
      h('label', { for: 'username' }, t.username),
      username,
      h('label', { for: 'password' }, t.password),
      password,
      button,
      error,
      hint,
    );
    show(root, form);
    username.focus();
  });
}
