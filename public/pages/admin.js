/**
 * @module
 * /admin: the operator's page, for the accounts of `ADMIN_USERS`. It signs in as the phone pages
 * do (password or passkey: the same form, the same tokens), asks for a passkey whenever the
 * server says the last one is more than 10 minutes old, and then: find a user, see their
 * sessions and recent activity, sign a session out, disable or enable the account (each asked
 * first), read the audit log filtered, page by page. What the server refuses is said in words
 * (`role="alert"`), what was done in the status line (`role="status"`); the keyboard reaches
 * every control, and the focus moves to what a step shows.
 */
import { call } from '../kit/api.js';
import { useAccent } from '../kit/brand.js';
import { readConfig, serverConfig } from '../kit/config.js';
import { h, show } from '../kit/dom.js';
import { languageSwitch } from '../kit/lang.js';
import { passkeysUsable, usePasskey } from '../kit/passkey.js';
import { describeEvent, eventWhere } from './activity.js';
import { ago, askFirst, when } from './devices.js';
import { lang, setLang, t } from './i18n.js';
import { addPasskey, ceremonyWords } from './passkeys.js';
import { signIn } from './signin.js';
import { keepPhoneFresh, phoneTokens as store } from './tokens.js';
import { agentText } from './ua.js';

/**
 * @typedef {import('./activity.js').ActivityEvent} ActivityEvent
 * @typedef {{ id: string, username: string, display_name: string, created_at: string, disabled_at: string | null }} Account
 * @typedef {{ sid: string, via: string, user_agent: string, ip: string, place: string | null, created_at: string, last_used_at: string }} Session
 */

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const top = /** @type {HTMLElement} */ (document.getElementById('top'));
top.append(languageSwitch(lang, t.language, setLang));
document.title = t.adminTitle;

const KINDS = /** @type {(keyof typeof t.kinds)[]} */ (Object.keys(t.kinds));
const dateTime = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' });

/** @type {import('../kit/config.js').Config | null} */
let cfg = null;

/** What was done, said once (a polite live region). */
const status = h('p', { class: 'admin-status', role: 'status' });
/** What the server refused, in words (read at once). */
const alert = h('p', { class: 'error admin-alert', role: 'alert' });

/** @param {string} text */
const say = (text) => {
  alert.textContent = '';
  status.textContent = text;
};
/** @param {string} text */
const complain = (text) => {
  status.textContent = '';
  alert.textContent = text;
};

/**
 * A refusal in words: the page's own for what it knows, else the server's message.
 * @param {import('../kit/api.js').Answer | null} res
 */
function refusalWords(res) {
  if (!res) return t.devicesOffline;
  const code = res.body?.error;
  if (res.status === 429) return t.rateLimited(res.retryAfter || 60);
  if (code === 'not_found') return t.adminGone;
  if (code === 'invalid_request') return lang === 'en' && res.body?.message ? res.body.message : t.adminBadInput;
  if (code === 'service_unavailable' || res.status >= 500) return t.adminUnavailable;
  if (code === 'step_up_failed') return t.adminStepUpRefused;
  if (code === 'forbidden' && /own account/.test(res.body?.message ?? '')) return t.adminSelf;
  if (code === 'forbidden' && /page of/.test(res.body?.message ?? '')) return t.adminOtherPage;
  if (code === 'forbidden') return t.adminNotAdmin;
  return res.body?.message ?? t.requestFailed;
}

/**
 * An admin API call with a fresh token. The server asking for the passkey again (its 10
 * minutes are over) shows the step-up, and the call is made again once it is done.
 * @param {string} path
 * @param {import('../kit/api.js').CallOptions} [options]
 * @returns {Promise<import('../kit/api.js').Answer | null>} null: no connection
 */
async function adminCall(path, options = {}) {
  const send = async () => call(path, { ...options, token: await store.fresh() }).catch(() => null);
  let res = await send();
  if (res?.status === 401) {
    store.clear();
    location.reload();
    return new Promise(() => {});
  }
  if (res?.status === 403 && res.body?.error === 'step_up_required') {
    await stepUp(document.activeElement);
    res = await send();
  }
  return res;
}

// ---------------------------------------------------------------- the passkey

/** The step-up in progress, so that several calls wait for one. */
/** @type {Promise<void> | null} */
let steppingUp = null;
const stepUpBox = h('div', { class: 'step-up-slot' });

/**
 * Asks for the passkey (a card above the page) and resolves once the server took it; then the
 * focus goes back to `returnTo`.
 * @param {Element | null} [returnTo]
 */
function stepUp(returnTo = null) {
  steppingUp ??= new Promise((resolve) => {
    const heading = h('h2', { tabindex: -1 }, t.adminPasskeyTitle);
    const error = h('p', { class: 'error', role: 'alert' });
    const button = h('button', { type: 'button', class: 'passkey primary', onclick: confirm }, t.adminConfirmPasskey);
    const create = h(
      'button',
      { type: 'button', class: 'create-passkey', hidden: true, onclick: createThenConfirm },
      t.createPasskey,
    );
    const unusable = !passkeysUsable(cfg?.passkey_rp_id ?? null);
    show(
      stepUpBox,
      h(
        'section',
        { class: 'card step-up-card', 'aria-labelledby': 'step-up-title' },
        Object.assign(heading, { id: 'step-up-title' }),
        h('p', {}, t.adminPasskeyWhy),
        unusable ? h('p', { class: 'error' }, t.passkeyUnavailable) : null,
        button,
        create,
        error,
      ),
    );
    if (unusable) button.disabled = true;
    heading.focus();

    async function confirm() {
      button.disabled = true;
      error.textContent = '';
      const message = await attempt().catch(() => t.requestFailed);
      if (!message) {
        show(stepUpBox);
        steppingUp = null;
        if (returnTo instanceof HTMLElement && returnTo.isConnected) returnTo.focus();
        resolve();
        return;
      }
      error.textContent = message;
      button.disabled = false;
      button.focus();
    }

    /** @returns {Promise<string | undefined>} */
    async function attempt() {
      const options = await call('/api/admin/step-up/options', { method: 'POST', token: await store.fresh() }).catch(
        () => null,
      );
      if (!options?.ok) return refusalWords(options);
      if (!options.body.allowCredentials?.length) {
        create.hidden = false;
        create.focus();
        return t.adminNoPasskey;
      }
      let assertion;
      try {
        assertion = await usePasskey(options.body);
      } catch (err) {
        return ceremonyWords(err);
      }
      const res = await call('/api/admin/step-up', {
        method: 'POST',
        token: await store.fresh(),
        body: { passkey: assertion },
      }).catch(() => null);
      return res?.ok ? undefined : refusalWords(res);
    }

    async function createThenConfirm() {
      create.disabled = true;
      const added = await addPasskey(store, error);
      create.disabled = false;
      if (!added.ok) {
        error.textContent = added.message;
        return;
      }
      create.hidden = true;
      error.textContent = t.passkeyCreated;
      await confirm();
    }
  });
  return steppingUp;
}

// ---------------------------------------------------------------- finding a user

const results = h('ul', { class: 'devices results' });
const moreUsers = h('button', { type: 'button', hidden: true }, t.adminMoreUsers);
const query = h('input', {
  id: 'admin-q',
  name: 'q',
  maxlength: 64,
  autocomplete: 'off',
  'aria-describedby': 'admin-q-hint',
});
query.setAttribute('spellcheck', 'false');
let lastQuery = '';
/** @type {string | null} */
let nextUsers = null;

/** @param {boolean} [more] the next page of the same search */
async function search(more = false) {
  if (!more) lastQuery = query.value.trim();
  const params = new URLSearchParams({ q: lastQuery });
  if (more && nextUsers) params.set('after', nextUsers);
  const res = await adminCall(`/api/admin/users?${params}`);
  if (!res?.ok) return complain(refusalWords(res));
  /** @type {{ users: Account[], next: string | null }} */
  const page = res.body;
  nextUsers = page.next;
  moreUsers.hidden = page.next === null;
  const items = page.users.map(userItem);
  if (more) results.append(...items);
  else show(results, items.length ? items : h('li', { class: 'empty' }, t.adminNoUsers));
  say(t.adminFound(results.querySelectorAll('li:not(.empty)').length));
  if (more) /** @type {HTMLElement | undefined} */ (items[0]?.querySelector('button'))?.focus();
}
moreUsers.addEventListener('click', () => search(true));

/** @param {Account} account */
function userItem(account) {
  return h(
    'li',
    {},
    h(
      'div',
      { class: 'device' },
      h('strong', {}, account.username),
      account.disabled_at ? h('span', { class: 'tag' }, t.adminDisabledTag) : null,
      h('br'),
      h('small', {}, [account.display_name, account.id].join(' · ')),
    ),
    h(
      'div',
      { class: 'device-actions' },
      h(
        'button',
        { type: 'button', 'aria-label': t.adminOpen(account.username), onclick: () => openUser(account.id) },
        t.adminOpenButton,
      ),
    ),
  );
}

const findCard = h(
  'section',
  { class: 'card', 'aria-labelledby': 'find-title' },
  h('h2', { id: 'find-title' }, t.adminFind),
  h(
    'form',
    {
      role: 'search',
      class: 'admin-form',
      /** @param {SubmitEvent} event */
      onsubmit: (event) => {
        event.preventDefault();
        search();
      },
    },
    h('label', { for: 'admin-q' }, t.adminQuery),
    h('p', { class: 'hint field-hint', id: 'admin-q-hint' }, t.adminQueryHint),
    h('div', { class: 'inline-field' }, query, h('button', { type: 'submit', class: 'primary' }, t.adminSearch)),
  ),
  results,
  moreUsers,
);

// ---------------------------------------------------------------- one user

const userCard = h('section', { class: 'card user-card', 'aria-labelledby': 'user-title', hidden: true });

/**
 * Shows account `id` (its sessions, its activity); `focus`: the heading takes the focus.
 * @param {string} id
 * @param {boolean} [focus]
 */
async function openUser(id, focus = true) {
  const res = await adminCall(`/api/admin/users/${encodeURIComponent(id)}`);
  if (!res?.ok) return complain(refusalWords(res));
  /** @type {{ user: Account, sessions: Session[], activity: ActivityEvent[] }} */
  const { user, sessions, activity } = res.body;
  const heading = h('h2', { id: 'user-title', tabindex: -1 }, `${user.username} (${user.display_name})`);
  const state = user.disabled_at
    ? h('p', { class: 'warning danger' }, t.adminDisabledSince(dateTime.format(when(user.disabled_at))))
    : h('p', { class: 'hint' }, t.adminActive);
  const actions = h('div', { class: 'device-actions user-actions' });
  if (user.disabled_at) {
    actions.append(h('button', { type: 'button', onclick: () => enable(user) }, t.adminEnable));
  } else {
    askFirst(actions, h('button', { type: 'button', class: 'danger' }, t.adminDisable), {
      question: t.adminAskDisable(user.username),
      yes: t.adminConfirmDisable,
      keep: t.adminKeep,
      act: (yes, keep) => disable(user, yes, keep),
    });
  }
  show(
    userCard,
    heading,
    h('p', { class: 'hint' }, user.id),
    state,
    actions,
    h('h3', {}, t.adminSessions),
    sessions.length
      ? h(
          'ul',
          { class: 'devices' },
          sessions.map((s) => sessionItem(user, s)),
        )
      : h('p', { class: 'hint' }, t.adminNoSessions),
    h('h3', {}, t.adminUserActivity),
    activity.length
      ? h(
          'ol',
          { class: 'devices activity' },
          activity.map((e) => auditItem(e, false)),
        )
      : h('p', { class: 'hint' }, t.noActivity),
  );
  userCard.hidden = false;
  if (focus) heading.focus();
}

/**
 * @param {Account} user
 * @param {Session} s
 */
function sessionItem(user, s) {
  const name = agentText(s.user_agent);
  const actions = h('div', { class: 'device-actions' });
  askFirst(actions, h('button', { type: 'button', 'aria-label': `${t.signOut}: ${name}` }, t.signOut), {
    question: t.adminAskSignOut(name),
    yes: t.confirmSignOut,
    keep: t.keepSignedIn,
    act: async (yes, keep) => {
      yes.disabled = true;
      keep.disabled = true;
      const res = await adminCall(
        `/api/admin/users/${encodeURIComponent(user.id)}/sessions/${encodeURIComponent(s.sid)}`,
        {
          method: 'DELETE',
        },
      );
      // The card is read again first: what it says next is about the list as it is now.
      await openUser(user.id);
      if (res?.status === 204) say(t.adminSignedOut(name));
      else complain(refusalWords(res));
    },
  });
  return h(
    'li',
    {},
    h(
      'div',
      { class: 'device' },
      h('strong', {}, name),
      h('br'),
      h(
        'small',
        {},
        [s.ip, s.place, t.lastUsed(ago(Math.max(when(s.last_used_at), when(s.created_at))))]
          .filter(Boolean)
          .join(' · '),
      ),
    ),
    actions,
  );
}

/**
 * @param {Account} user
 * @param {HTMLButtonElement} yes
 * @param {HTMLButtonElement} keep
 */
async function disable(user, yes, keep) {
  yes.disabled = true;
  keep.disabled = true;
  const res = await adminCall(`/api/admin/users/${encodeURIComponent(user.id)}/disable`, { method: 'POST' });
  if (res?.ok) {
    say(
      res.body.changed
        ? t.adminDisabledDone(user.username, res.body.sessions_ended)
        : t.adminAlreadyDisabled(user.username),
    );
  } else complain(refusalWords(res));
  await openUser(user.id);
}

/** @param {Account} user */
async function enable(user) {
  const res = await adminCall(`/api/admin/users/${encodeURIComponent(user.id)}/enable`, { method: 'POST' });
  await openUser(user.id);
  if (res?.ok) say(t.adminEnabledDone(user.username));
  else complain(refusalWords(res));
}

// ---------------------------------------------------------------- the audit log

const auditUser = h('input', { id: 'audit-user', name: 'user', maxlength: 64, autocomplete: 'off' });
const auditKind = h(
  'select',
  { id: 'audit-kind', name: 'kind' },
  h('option', { value: '' }, t.adminAuditAny),
  KINDS.map((k) => h('option', { value: k }, t.kinds[k])),
);
const auditSince = h('input', { id: 'audit-since', name: 'since', type: 'date' });
const auditList = h('ol', { class: 'devices activity audit' });
const olderEvents = h('button', { type: 'button', hidden: true }, t.adminAuditOlder);
/** @type {string | null} */
let auditCursor = null;
/** @type {URLSearchParams} */
let auditFilter = new URLSearchParams();

/** @param {boolean} [more] the next page of the same filter */
async function readAudit(more = false) {
  if (!more) {
    auditFilter = new URLSearchParams();
    if (auditUser.value.trim()) auditFilter.set('user', auditUser.value.trim());
    if (auditKind.value) auditFilter.set('kind', auditKind.value);
    if (auditSince.value) auditFilter.set('since', auditSince.value);
  }
  const params = new URLSearchParams(auditFilter);
  if (more && auditCursor) params.set('cursor', auditCursor);
  const res = await adminCall(`/api/admin/audit?${params}`);
  if (!res?.ok) return complain(refusalWords(res));
  /** @type {{ events: ActivityEvent[], next: string | null }} */
  const page = res.body;
  auditCursor = page.next;
  olderEvents.hidden = page.next === null;
  const items = page.events.map((e) => auditItem(e));
  if (more) auditList.append(...items);
  else show(auditList, items.length ? items : h('li', { class: 'empty' }, t.adminAuditEmpty));
  say(t.adminAuditShown(auditList.querySelectorAll('li:not(.empty)').length));
  if (more && items[0]) {
    items[0].tabIndex = -1;
    items[0].focus();
  }
}
olderEvents.addEventListener('click', () => readAudit(true));

/**
 * An event as the operator reads it: what, whose (`withUser`), by which admin, from where, when.
 * @param {ActivityEvent} e
 * @param {boolean} [withUser]
 */
function auditItem(e, withUser = true) {
  const who = [withUser ? e.user.username : null, e.actor ? t.adminBy(e.actor.username) : null].filter(Boolean);
  return h(
    'li',
    { class: 'event' },
    h(
      'div',
      { class: 'device' },
      h('strong', {}, describeEvent(e)),
      who.length ? [h('br'), h('span', { class: 'who' }, who.join(' · '))] : null,
      h('br'),
      eventWhere(e),
    ),
  );
}

const auditCard = h(
  'section',
  { class: 'card', 'aria-labelledby': 'audit-title' },
  h('h2', { id: 'audit-title' }, t.adminAudit),
  h('p', { class: 'hint' }, t.adminAuditHint),
  h(
    'form',
    {
      class: 'admin-form audit-filter',
      /** @param {SubmitEvent} event */
      onsubmit: (event) => {
        event.preventDefault();
        readAudit();
      },
    },
    h('div', {}, h('label', { for: 'audit-user' }, t.adminAuditUser), auditUser),
    h('div', {}, h('label', { for: 'audit-kind' }, t.adminAuditKind), auditKind),
    h('div', {}, h('label', { for: 'audit-since' }, t.adminAuditSince), auditSince),
    h('button', { type: 'submit', class: 'primary' }, t.adminAuditShow),
  ),
  auditList,
  olderEvents,
);

// ---------------------------------------------------------------- the page

/**
 * A card that says why this page is not for this account, and a way to switch.
 * @param {string} words
 */
function notForYou(words) {
  const heading = h('h1', { tabindex: -1 }, t.adminTitle);
  show(
    main,
    h(
      'div',
      { class: 'card final bad' },
      heading,
      h('p', {}, words),
      h('button', { type: 'button', onclick: switchAccount }, t.switchAccount),
    ),
  );
  heading.focus();
}

async function switchAccount() {
  const token = await store.fresh();
  if (token) await call('/api/logout', { method: 'POST', token }).catch(() => null);
  store.clear();
  location.reload();
}

async function run() {
  cfg = (await serverConfig(location.origin)) ?? readConfig(null);
  useAccent(document, cfg.site_accent, ':root');
  if (cfg.identity !== 'accounts') return notForYou(t.adminNeedsAccounts);
  if (!(await store.fresh())) await signIn(main, store, cfg);
  keepPhoneFresh(() => location.reload());
  const me = await adminCall('/api/admin/me');
  if (!me?.ok) return notForYou(me?.status === 403 ? t.adminNotAdmin : refusalWords(me));
  const heading = h('h1', { tabindex: -1 }, t.adminTitle);
  show(
    main,
    heading,
    h(
      'p',
      { class: 'account' },
      h('span', {}, t.signedInAs(me.body.user.display_name)),
      h('button', { type: 'button', class: 'link', onclick: switchAccount }, t.switchAccount),
    ),
    stepUpBox,
    status,
    alert,
    findCard,
    userCard,
    auditCard,
  );
  heading.focus();
  if (!me.body.passkey_until) await stepUp(query);
}

run();
