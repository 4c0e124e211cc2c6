/** /link: a signed-in phone types the code shown under the QR, then continues as if it had scanned. */
import { api } from './api.js';
import { h, show } from './dom.js';
import { t } from './i18n.js';
import { main, signedIn, store } from './phone.js';

document.title = t.linkTitle;

async function run() {
  const token = await signedIn();
  const input = h('input', {
    id: 'code',
    name: 'code',
    autocomplete: 'off',
    autocapitalize: 'characters',
    spellcheck: false,
    required: true,
  });
  const error = h('p', { class: 'error', role: 'alert' });
  const button = h('button', { type: 'submit', class: 'primary' }, t.continue);
  const form = h(
    'form',
    {
      class: 'card',
      onsubmit: async (event) => {
        event.preventDefault();
        button.disabled = true;
        error.textContent = '';
        const res = await api('/api/codes/resolve', { method: 'POST', token, body: { user_code: input.value } }).catch(
          () => null,
        );
        if (res?.ok) {
          location.href = `/confirm?id=${encodeURIComponent(res.body.qrcode_id)}`;
          return;
        }
        if (res?.status === 401) {
          store.clear();
          location.reload();
          return;
        }
        error.textContent = !res
          ? t.requestFailed
          : res.status === 429
            ? t.rateLimited(res.retryAfter || 60)
            : res.status === 404
              ? t.badCode
              : t.requestFailed;
        button.disabled = false;
      },
    },
    h('h1', {}, t.linkTitle),
    h('p', { class: 'hint' }, t.codeHint),
    h('label', { for: 'code' }, t.code),
    input,
    button,
    error,
  );
  show(main, form);
}

run();
