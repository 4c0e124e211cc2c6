/** /link: a signed-in phone types the code shown under the QR, then continues as if it had scanned. */
import { api } from './api.js';
import { h, show } from './dom.js';
import { formCard, refusal } from './form.js';
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
    inputmode: 'text',
    maxlength: 12,
    required: true,
  });
  input.setAttribute('spellcheck', 'false');
  const form = formCard({
    title: t.linkTitle,
    submit: t.continue,
    children: [h('p', { class: 'hint' }, t.codeHint), h('label', { for: 'code' }, t.code), input],
    onSubmit: async () => {
      const res = await api('/api/codes/resolve', { method: 'POST', token, body: { user_code: input.value } });
      if (res.ok) {
        location.href = `/confirm?id=${encodeURIComponent(res.body.qrcode_id)}`;
        return;
      }
      if (res.status === 401) {
        store.clear();
        location.reload();
        return;
      }
      return refusal(res, { 404: t.badCode });
    },
  });
  show(main, form);
}

run();
