/**
 * @module
 * The phone's "Recent activity": what happened to the account, in words, newest first (a region
 * of its own under the linked devices, a disclosure like them, loaded when it opens): sign-ins
 * (how, from which device, IP and place), refused attempts, sessions signed out and by whom, a
 * reused sign-in, passkeys added or removed, an administrator's action. `describeEvent` says one
 * event in the page's language; `/admin` says them the same way.
 */
import { call } from '../kit/api.js';
import { h, show } from '../kit/dom.js';
import { ago, when } from './devices.js';
import { lang, t } from './i18n.js';
import { agentText } from './ua.js';

/**
 * One event of `GET /api/activity` (and of the audit log).
 * @typedef {object} ActivityEvent
 * @property {string} id
 * @property {string} at
 * @property {string} kind
 * @property {{ id: string, username: string }} user
 * @property {{ id: string, username: string }} [actor]
 * @property {string} [sid]
 * @property {string} [device]
 * @property {string} [ip]
 * @property {string} [place]
 * @property {Record<string, string | number | boolean | null>} [detail]
 */

/** Events shown at first, and more at each "Show older". */
const PAGE = 20;

/** @param {unknown} value */
const text = (value) => (typeof value === 'string' ? value : '');

/**
 * What happened, as a sentence in the page's language.
 * @param {ActivityEvent} e
 */
export function describeEvent(e) {
  const d = e.detail ?? {};
  const device = agentText(e.device);
  switch (e.kind) {
    case 'sign_in':
      return t.eventSignIn(text(d.via), text(d.client_name ?? d.client_id));
    case 'sign_in_refused':
      return t.eventSignInRefused(text(d.reason));
    case 'step_up_refused':
      return t.eventStepUpRefused(text(d.for));
    case 'sign_out':
      return t.eventSignOut(device, text(d.by), d.by_device ? agentText(text(d.by_device)) : '');
    case 'refresh_token_reused':
      return t.eventReused(agentText(text(d.session_device)));
    case 'passkey_added':
      return t.eventPasskeyAdded(text(d.name));
    case 'passkey_removed':
      return t.eventPasskeyRemoved(text(d.name));
    case 'account_disabled':
      return t.eventDisabled;
    case 'account_enabled':
      return t.eventEnabled;
    case 'admin_step_up':
      return t.eventAdminStepUp;
    case 'admin_search':
      return t.eventAdminSearch(text(d.q));
    case 'admin_view':
      return t.eventAdminView;
    case 'admin_audit':
      return t.eventAdminAudit;
    default:
      return e.kind;
  }
}

const exact = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' });

/**
 * Where and when, in a line: the device (for a sign-out, the one that was signed out), the IP, the
 * place, how long ago (the exact time as the `<time>`'s own). A device-flow client's sign-in is
 * named by its client already: the User-Agent of a CLI's HTTP library would only say "Unknown
 * browser".
 * @param {ActivityEvent} e
 */
export function eventWhere(e) {
  const at = when(e.at);
  const byClient = e.kind === 'sign_in' && e.detail?.via === 'device' && e.detail.client_id;
  const device = e.device && !byClient ? agentText(e.device) : null;
  const parts = [device, e.ip || null, e.place || null].filter(Boolean);
  return h(
    'small',
    {},
    parts.length ? `${parts.join(' · ')} · ` : '',
    h('time', { datetime: e.at, title: exact.format(at) }, ago(at)),
  );
}

/** @param {ActivityEvent} e */
export function eventItem(e) {
  const refused = e.kind === 'sign_in_refused' || e.kind === 'step_up_refused' || e.kind === 'refresh_token_reused';
  return h(
    'li',
    { class: refused ? 'event refused' : 'event' },
    h('div', { class: 'device' }, h('strong', {}, describeEvent(e)), h('br'), eventWhere(e)),
  );
}

/**
 * `{ section, load }`: the region, and a way to read it again.
 * @param {import('./tokens.js').TokenStore} store
 */
export function recentActivity(store) {
  const list = h('ol', { class: 'devices activity' });
  const note = h('p', { class: 'hint', 'aria-live': 'polite' });
  const older = h('button', { type: 'button', class: 'more', hidden: true, onclick: showOlder }, t.activityOlder);
  const details = h(
    'details',
    { class: 'card devices-box activity-box' },
    h('summary', {}, h('span', { class: 'summary-title', id: 'activity-title' }, t.activity)),
    h('p', { class: 'hint activity-hint' }, t.activityHint),
    list,
    older,
    note,
  );
  const section = h('section', { class: 'activity-region', 'aria-labelledby': 'activity-title' }, details);
  /** @type {ActivityEvent[]} */
  let events = [];
  let shown = PAGE;

  async function load() {
    const res = await call('/api/activity', { token: await store.fresh() }).catch(() => null);
    if (!res?.ok || !Array.isArray(res.body)) {
      note.textContent = res ? t.requestFailed : t.devicesOffline;
      return;
    }
    note.textContent = '';
    events = res.body;
    shown = PAGE;
    render();
  }

  function render() {
    if (!events.length) return show(list, h('li', { class: 'empty' }, t.noActivity));
    show(list, events.slice(0, shown).map(eventItem));
    older.hidden = events.length <= shown;
  }

  function showOlder() {
    const first = shown;
    shown += PAGE;
    render();
    // The first of the older events takes the focus, so that the keyboard goes on from there.
    const next = /** @type {HTMLElement | undefined} */ (list.children[first]);
    if (next) {
      next.tabIndex = -1;
      next.focus();
    }
  }

  details.addEventListener('toggle', () => {
    if (details.open) load();
  });
  return { section, load };
}
