/**
 * @module
 * The phone's "Linked devices": a disclosure under the page (never in the way of its main
 * screen; the user's passkeys are listed in it too, see `passkeys.js`), one row per device (same browser, system and IP: the sessions it signed in with
 * are grouped, with when it was last used), and a sign-out that asks before it acts.
 */
import { call } from '../kit/api.js';
import { h, show } from '../kit/dom.js';
import { lang, t } from './i18n.js';
import { agentText } from './ua.js';

/**
 * A session of `GET /api/sessions`.
 * @typedef {object} Session
 * @property {string} sid
 * @property {string} created_at
 * @property {string} [last_used_at]
 * @property {string} via
 * @property {string} user_agent
 * @property {string} ip
 * @property {string | null} place
 * @property {boolean} current
 * @property {{ client_id: string, client_name: string }[]} [clients] a device-flow client (by its registered name), or the sites a browser signed in to
 */

/**
 * One device: its sessions (same browser, system and IP), when it was last used, the sites it
 * signed in to (OpenID Connect).
 * @typedef {{ key: string, name: string, ip: string, place: string | null, sessions: Session[], current: boolean, last: number, sites: string[] }} Device
 */

/**
 * An ISO time, also the older `YYYY-MM-DD HH:MM:SS` (UTC) form, as milliseconds.
 * @param {string | undefined | null} iso
 */
export const when = (iso) => Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(iso ?? '') ? (iso ?? '') : `${iso}Z`) || 0;
/** @param {Session} d */
const lastUsed = (d) => Math.max(when(d.last_used_at), when(d.created_at));

const relative = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
/**
 * "just now", "5 minutes ago", "yesterday" … in the page's language.
 * @param {number} ms
 */
export function ago(ms) {
  const s = Math.round((ms - Date.now()) / 1000);
  if (s > -60) return t.justNow;
  const minutes = Math.round(s / 60);
  if (Math.abs(minutes) < 60) return relative.format(minutes, 'minute');
  const hours = Math.round(s / 3600);
  if (Math.abs(hours) < 24) return relative.format(hours, 'hour');
  return relative.format(Math.round(s / 86_400), 'day');
}

/**
 * Sessions grouped by device, the most recently used first.
 * @param {Session[]} sessions
 */
export function groupDevices(sessions) {
  /** @type {Map<string, Device>} */
  const groups = new Map();
  for (const s of sessions) {
    // A device-flow client (a CLI, a TV app) is named by its registered name, not by the
    // User-Agent of its HTTP library ("Unknown browser on unknown system").
    const client = s.via === 'device' ? s.clients?.[0]?.client_name : undefined;
    const name = client || agentText(s.user_agent);
    const key = `${name}\n${s.ip}`;
    const g = groups.get(key) ?? {
      key,
      name,
      ip: s.ip,
      place: s.place,
      sessions: [],
      current: false,
      last: 0,
      sites: [],
    };
    g.sessions.push(s);
    if (s.via === 'oidc')
      for (const c of s.clients ?? []) if (!g.sites.includes(c.client_name)) g.sites.push(c.client_name);
    g.current ||= s.current === true;
    if (lastUsed(s) >= g.last) {
      g.last = lastUsed(s);
      g.place = s.place || g.place;
    }
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => Number(b.current) - Number(a.current) || b.last - a.last);
}

/**
 * `{ section, load, expectNew }`: `expectNew(since)` says a new sign-in is on its way (the PC
 * just confirmed takes its token a moment later), so the list looks again until it shows.
 * @param {import('./tokens.js').TokenStore} store
 * @param {() => void} onSignedOut this device signed itself out
 * @param {() => void} [beforeSigningOutHere] this device is about to sign itself out
 */
export function linkedDevices(store, onSignedOut, beforeSigningOutHere = () => {}) {
  const list = h('ul', { class: 'devices' });
  const note = h('p', { class: 'hint', 'aria-live': 'polite' });
  const section = h(
    'details',
    { class: 'card devices-box' },
    h('summary', {}, h('span', { class: 'summary-title' }, t.devices)),
    list,
    note,
  );
  let waitingSince = 0;
  let tries = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;

  async function load() {
    clearTimeout(timer);
    const res = await call('/api/sessions', { token: await store.fresh() }).catch(() => null);
    if (!res?.ok || !Array.isArray(res.body)) {
      if (section.open) note.textContent = res ? t.requestFailed : t.devicesOffline;
      return;
    }
    if (note.textContent === t.devicesOffline || note.textContent === t.requestFailed) note.textContent = '';
    render(groupDevices(res.body));
    // The PC signed in by a confirm opens its session when it collects its token: look again.
    const arrived = res.body.some((d) => d.via === 'qrcode' && when(d.created_at) >= waitingSince - 5000);
    if (waitingSince && !arrived && tries < 6) timer = setTimeout(load, 500 * 2 ** tries++);
    else waitingSince = 0;
  }

  /** @param {Device[]} groups */
  function render(groups) {
    if (!groups.length) return show(list, h('li', { class: 'empty' }, t.noDevices));
    show(list, groups.map(row));
  }

  /** @param {Device} g */
  function row(g) {
    const actions = h('div', { class: 'device-actions' });
    const item = h(
      'li',
      {},
      h(
        'div',
        { class: 'device' },
        h('strong', {}, g.name),
        g.current ? h('span', { class: 'tag' }, t.thisDevice) : null,
        h('br'),
        h('small', {}, [g.ip, g.place, t.lastUsed(ago(g.last))].filter(Boolean).join(' · ')),
        g.sites.length ? h('br') : null,
        g.sites.length ? h('small', { class: 'clients' }, t.signedInTo(g.sites)) : null,
      ),
      actions,
    );
    const label = `${t.signOut}: ${g.name}${g.current ? ` (${t.thisDevice})` : ''}`;
    askFirst(actions, h('button', { type: 'button', 'aria-label': label }, t.signOut), {
      question: g.current ? t.askSignOutThis : t.askSignOut(g.name),
      yes: t.confirmSignOut,
      keep: t.keepSignedIn,
      act: signOut,
    });

    /**
     * @param {HTMLButtonElement} yes
     * @param {HTMLButtonElement} keep
     */
    async function signOut(yes, keep) {
      yes.disabled = true;
      keep.disabled = true;
      const token = await store.fresh();
      /** @param {Session} s */
      const revoke = (s) =>
        call(`/api/sessions/${encodeURIComponent(s.sid)}`, { method: 'DELETE', token }).catch(() => null);
      // 404: already signed out (elsewhere, or expired): as good as done.
      /** @param {(import('../kit/api.js').Answer | null)[]} answers */
      const done = (answers) => answers.every((a) => a && (a.status === 204 || a.status === 404));
      // This device's own session goes last, and only once the others are out: after it, its
      // token signs nothing else out, and a retry would be impossible.
      let answers = await Promise.all(g.sessions.filter((s) => !s.current).map(revoke));
      if (done(answers) && g.current) beforeSigningOutHere();
      if (done(answers)) answers = await Promise.all(g.sessions.filter((s) => s.current).map(revoke));
      if (done(answers)) {
        note.textContent = t.deviceSignedOut(g.name);
        if (g.current) return onSignedOut();
        item.remove();
        section.querySelector('summary')?.focus();
        return load();
      }
      note.textContent = answers.some((a) => a === null) ? t.devicesOffline : t.requestFailed;
      yes.disabled = false;
      keep.disabled = false;
    }
    return item;
  }

  section.addEventListener('toggle', () => {
    if (section.open) load();
  });
  return {
    section,
    load,
    /** @param {number} since */
    expectNew(since) {
      waitingSince = since;
      tries = 0;
      load();
    },
  };
}

/**
 * A row's button that asks before it acts: pressed, it gives way to the question and two
 * buttons, the safe one (`keep`) holding the focus, so that Enter changes nothing. `act(yes,
 * keep)` runs on yes, with both buttons to disable while it works.
 * @param {HTMLElement} actions where the button, then the question, are shown
 * @param {HTMLButtonElement} button
 * @param {{ question: string, yes: string, keep: string, act: (yes: HTMLButtonElement, keep: HTMLButtonElement) => unknown }} words
 */
export function askFirst(actions, button, { question, yes, keep, act }) {
  button.addEventListener('click', () => {
    const no = h(
      'button',
      {
        type: 'button',
        onclick: () => {
          show(actions, button);
          button.focus();
        },
      },
      keep,
    );
    const go = h('button', { type: 'button', class: 'danger', onclick: () => act(go, no) }, yes);
    show(actions, h('p', { class: 'ask', role: 'alert' }, question), h('div', { class: 'ask-buttons' }, go, no));
    no.focus();
  });
  show(actions, button);
}
