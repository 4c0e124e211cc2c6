/**
 * The phone page that the QR opens: scan, show what is asking to sign in, confirm or cancel.
 */
import { api } from './api.js';
import { h, show } from './dom.js';
import { t } from './i18n.js';
import { finish, main, signedIn, store } from './phone.js';
import { agentText } from './ua.js';

const id = new URLSearchParams(location.search).get('id') ?? '';
document.title = t.phoneTitle;

/** What the answer of a phone step means, in words; null when it needs a fresh sign-in. */
function outcome(res) {
  if (res.status === 401) return null;
  if (res.status === 400 && res.body?.error === 'invalid_qrcode_id') return () => finish(t.unknownCode, '', 'bad');
  if (res.status === 410) return () => finish(t.qrExpired, t.qrExpiredHint, 'bad');
  if (res.body?.error === 'match_failed') return () => finish(t.matchFailed, '', 'bad');
  if (res.status === 409 || res.status === 403) return () => finish(t.usedCode, '', 'bad');
  return () => finish(t.requestFailed, res.body?.message ?? '', 'bad');
}

async function run() {
  if (!/^[0-9a-f]{64}$/.test(id)) return finish(t.unknownCode, '', 'bad');
  const token = await signedIn();
  const res = await api(`/api/qrcodes/${id}/scan`, { method: 'POST', token }).catch(() => null);
  if (!res) return finish(t.requestFailed, '', 'bad');
  if (!res.ok) {
    const next = outcome(res);
    if (next) return next();
    store.clear();
    return run();
  }
  review(token, res.body);
}

function review(token, scan) {
  const r = scan.requester ?? {};
  const place = [r.city, r.country].filter(Boolean).join(', ') || t.unknownPlace;
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(r.created_at)) / 1000));
  const error = h('p', { class: 'error', role: 'alert' });
  const step = async (name, body) => {
    for (const b of main.querySelectorAll('button')) b.disabled = true;
    const res = await api(`/api/qrcodes/${id}/${name}`, { method: 'POST', token, body }).catch(() => null);
    if (res?.ok)
      return finish(name === 'confirm' ? t.confirmedDone : t.cancelledDone, '', name === 'confirm' ? 'good' : 'info');
    if (!res) {
      error.textContent = t.requestFailed;
      for (const b of main.querySelectorAll('button')) b.disabled = false;
      return;
    }
    const next = outcome(res);
    if (next) return next();
    store.clear();
    location.reload();
  };
  // The new view's heading takes the focus (a screen reader reads it); no button is pre-selected.
  const heading = h('h1', { tabindex: -1 }, t.phoneTitle);
  const cancel = h('button', { type: 'button', onclick: () => step('cancel') }, t.cancel);
  const choices = scan.match_choices;
  const actions = choices
    ? h(
        'div',
        {},
        h('p', {}, t.pickNumber),
        h(
          'div',
          { class: 'choices' },
          choices.map((c) =>
            h('button', { type: 'button', class: 'choice', onclick: () => step('confirm', { match_code: c }) }, c),
          ),
        ),
        h('div', { class: 'actions single' }, cancel),
      )
    : h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', onclick: () => step('confirm') }, t.confirm),
        cancel,
      );
  show(
    main,
    h(
      'div',
      { class: 'card' },
      heading,
      h('p', {}, t.asking),
      h(
        'dl',
        { class: 'requester' },
        h('dt', {}, t.computer),
        h('dd', {}, h('strong', {}, agentText(r.user_agent))),
        h('dt', {}, t.ip),
        h('dd', {}, r.ip || t.unknownPlace),
        h('dt', {}, t.place),
        h('dd', {}, place),
        h('dt', {}, t.created),
        h('dd', {}, t.ago(seconds)),
      ),
      h('p', { class: 'warning' }, t.warning),
      actions,
      error,
    ),
  );
  heading.focus();
}

run();
