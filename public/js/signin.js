/** The phone's sign-in form, shared by /confirm and /link. Resolves with the token once signed in. */
import { api } from './api.js';
import { h, show } from './dom.js';
import { formCard, refusal } from './form.js';
import { t } from './i18n.js';

export function signIn(root, store) {
  return new Promise((resolve) => {
    const username = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true });
    const password = h('input', {
      id: 'password',
      name: 'password',
      type: 'password',
      autocomplete: 'current-password',
      required: true,
    });
    const hint = h('p', { class: 'hint' });
    api('/api/config')
      .then((res) => {
        if (res.body?.development) hint.textContent = t.demoHint;
      })
      .catch(() => {});
    const form = formCard({
      title: t.signInTitle,
      submit: t.signIn,
      children: [
        h('label', { for: 'username' }, t.username),
        username,
        h('label', { for: 'password' }, t.password),
        password,
      ],
      after: hint,
      onSubmit: async () => {
        const res = await api('/api/login', {
          method: 'POST',
          body: { username: username.value, password: password.value },
        });
        if (!res.ok) return refusal(res, { 401: t.wrongPassword });
        store.set(res.body.token);
        resolve(res.body.token);
      },
    });
    show(root, form);
    username.focus();
  });
}
