/**
 * @module
 * /link: a signed-in phone types the code shown on the computer, then continues on /confirm
 * exactly as if it had scanned the QR (marked as typed, so the confirm view can say so).
 */
import { h, show } from '../kit/dom.js';
import { formCard, refusal } from './form.js';
import { t } from './i18n.js';
import { dropRefusedToken, main, passkeys, signedIn, store } from './phone.js';
import { markTyped } from './typed.js';

document.title = t.linkTitle;

async function run() {
  await signedIn();
  const input = h('input', {
    id: 'code',
    name: 'code',
    autocomplete: 'off',
    autocapitalize: 'characters',
    inputmode: 'text',
    maxlength: 12,
    required: true,
    'aria-describedby': 'code-hint',
  });
  input.setAttribute('spellcheck', 'false');
  const form = formCard({
    title: t.linkTitle,
    submit: t.continue,
    // The warning comes before the field: it is read before anything is typed.
    before: h('p', { class: 'warning danger', id: 'code-warning' }, t.codeWarning),
    children: [
      h('label', { for: 'code' }, t.code),
      h('p', { class: 'hint field-hint', id: 'code-hint' }, t.codeHint),
      input,
    ],
    onSubmit: async (call) => {
      const token = await store.fresh();
      const res = await call('/api/codes/resolve', { method: 'POST', token, body: { user_code: input.value } });
      if (!res) return;
      if (res.ok) {
        markTyped(res.body.qrcode_id);
        location.href = `/confirm?id=${encodeURIComponent(res.body.qrcode_id)}`;
        return;
      }
      if (res.status === 401) {
        dropRefusedToken(res);
        location.reload();
        return;
      }
      return refusal(res, { 400: t.badCode, 404: t.badCode });
    },
  });
  show(main, form);
  passkeys?.offer();
}

run();
