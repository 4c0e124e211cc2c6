/**
 * @module
 * /confirm?id=…: the phone page the QR opens. It scans, shows what asks to sign in (the site,
 * the computer, where, how long ago, scanned or typed) and counts down to the code's expiry,
 * then confirms or cancels; when the login asks for a passkey, Confirm runs the passkey first
 * (`step-up.js`). At expiry Confirm is disabled at once; what the phone did is remembered, so
 * opening the code again says so instead of "expired".
 */

import { h, show } from '../kit/dom.js';
import { reliably } from './connection.js';
import { t } from './i18n.js';
import { recall, remember } from './outcomes.js';
import {
  config,
  devices,
  dropRefusedToken,
  finish,
  main,
  passkeys,
  showAccountIfSignedIn,
  signedIn,
  store,
} from './phone.js';
import { stepUp } from './step-up.js';
import { wasTyped } from './typed.js';
import { agentText } from './ua.js';

const id = new URLSearchParams(location.search).get('id') ?? '';
document.title = t.phoneTitle;

/** @type {Record<import('./outcomes.js').Outcome, () => void>} */
const FINAL = {
  confirmed: () => finish(t.confirmedDone, t.closePage, 'good'),
  cancelled: () => finish(t.cancelledDone, t.closePage, 'info'),
};

/**
 * What the answer of a phone step means, in words; null when it needs a fresh sign-in.
 * @param {import('../kit/api.js').Answer} res
 */
function outcome(res) {
  if (res.status === 401) return null;
  if (res.status === 400 && res.body?.error === 'invalid_qrcode_id') return () => finish(t.unknownCode, '', 'bad');
  if (res.status === 410) return () => finish(t.qrExpired, t.qrExpiredHint, 'bad');
  if (res.body?.error === 'match_failed') return () => finish(t.matchFailed, '', 'bad');
  if (res.body?.error === 'step_up_failed' || res.body?.error === 'step_up_required') {
    return () => finish(t.stepUpRefused, '', 'bad');
  }
  if (res.status === 409 || res.status === 403) return () => finish(t.usedCode, '', 'bad');
  return () => finish(t.requestFailed, res.body?.message ?? '', 'bad');
}

/**
 * How far the phone's clock is behind the server's, from an answer's `Date` header. It has
 * whole seconds only, so a difference under 2 s is taken as none.
 * @param {number | null} serverDate
 */
function clockSkew(serverDate) {
  if (!serverDate) return 0;
  const skew = serverDate + 500 - Date.now();
  return Math.abs(skew) < 2000 ? 0 : skew;
}

async function run() {
  if (!/^[0-9a-f]{64}$/.test(id)) return finish(t.unknownCode, '', 'bad');
  const done = recall(id);
  if (done) {
    FINAL[done]();
    return showAccountIfSignedIn();
  }
  const token = await signedIn();
  show(main, h('p', { class: 'hint loading' }, t.loading));
  const res = await reliably(`/api/qrcodes/${id}/scan`, { method: 'POST', token }, main);
  if (!res) return;
  if (!res.ok) {
    const next = outcome(res);
    if (next) return next();
    dropRefusedToken(res);
    return run();
  }
  review(token, res.body, clockSkew(res.date), await config());
}

/**
 * What the scan answered (`POST /api/qrcodes/:id/scan`).
 * @typedef {object} Scan
 * @property {string} expires_at
 * @property {{ user_agent?: string, ip?: string, country?: string | null, city?: string | null, created_at?: string }} [requester]
 * @property {string[]} [match_choices]
 * @property {string} [client_id]
 * @property {string} [client_name] the client's registered name, shown instead of its id (a device-flow client's, or the OpenID client a login of `/oauth/authorize` signs in to)
 * @property {string} [site_name]
 * @property {boolean} [location_differs]
 * @property {boolean} [typed] the Worker saw this user type the code
 * @property {any} [step_up] request options: confirming needs a passkey
 * @property {string} [step_up_reason]
 */

/**
 * The confirm view: who asks, the time left, Confirm and Cancel (or the numbers to pick).
 * @param {string} token
 * @param {Scan} scan
 * @param {number} skew how far the phone's clock is behind the server's
 * @param {import('../kit/config.js').Config} cfg
 */
function review(token, scan, skew, cfg) {
  const now = () => Date.now() + skew;
  const r = scan.requester ?? {};
  const expiresAt = Date.parse(scan.expires_at);
  const createdAt = Date.parse(r.created_at ?? '');
  const place = [r.city, r.country].filter(Boolean).join(', ') || t.unknownPlace;
  const made = h('dd', {});
  const timer = h('p', { class: 'timer' });
  const expiry = h('div', { class: 'expiry-slot' });
  const connection = h('div', { class: 'connection-slot' });
  const warnings = [h('p', { class: 'warning' }, t.warning)];
  if (scan.location_differs === true) warnings.unshift(h('p', { class: 'warning danger' }, t.locationWarning));
  let ended = false;
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let clock;

  const cancel = h('button', { type: 'button', onclick: () => step('cancel') }, t.cancel);
  const choices = Array.isArray(scan.match_choices) ? scan.match_choices : null;
  const picks = (choices ?? []).map((c) =>
    h('button', { type: 'button', class: 'choice', onclick: () => step('confirm', { match_code: c }) }, c),
  );
  const confirm = choices ? null : h('button', { type: 'button', onclick: () => step('confirm') }, t.confirm);
  const buttons = confirm ? [confirm, ...picks, cancel] : [...picks, cancel];
  const guard = scan.step_up
    ? stepUp({
        options: scan.step_up,
        reason: scan.step_up_reason,
        store,
        created: () => (confirm ?? picks[0])?.focus(),
      })
    : null;
  /** @param {boolean} on */
  const enable = (on) => {
    for (const b of buttons) b.disabled = !on;
    guard?.enable(on);
  };

  function stop() {
    ended = true;
    clearInterval(clock);
  }

  function expire() {
    if (ended) return;
    stop();
    enable(false);
    // What is left to read is that it expired: the countdown and the advice for a confirm go.
    timer.hidden = true;
    for (const w of warnings) w.remove();
    guard?.box.remove();
    show(connection);
    show(expiry, h('div', { class: 'expired', role: 'alert' }, h('h2', {}, t.qrExpired), h('p', {}, t.qrExpiredHint)));
  }

  function tick() {
    if (ended) return;
    const left = Math.max(0, Math.ceil((expiresAt - now()) / 1000));
    timer.textContent = t.timeLeft(left);
    if (createdAt) made.textContent = t.ago(Math.max(0, Math.round((now() - createdAt) / 1000)));
    if (left <= 0) expire();
  }

  /**
   * @param {'confirm' | 'cancel'} name
   * @param {{ match_code: string }} [body]
   */
  async function step(name, body) {
    if (ended) return;
    enable(false);
    /** @type {Record<string, unknown> | undefined} */
    let sent = body;
    if (name === 'confirm' && guard) {
      // The passkey first: a cancelled or failed ceremony sends nothing, and the user tries again.
      const passkey = await guard.prove();
      if (ended) return;
      if (!passkey) return again();
      sent = { ...body, passkey };
    }
    // The view may have stayed open a while: the access token is renewed if it is about to expire.
    const current = (await store.fresh()) ?? token;
    let res = await reliably(`/api/qrcodes/${id}/${name}`, { method: 'POST', token: current, body: sent }, connection, {
      alive: () => !ended,
    });
    if (!res) return;
    const refusedPasskey = res.body?.error === 'step_up_failed' || res.body?.error === 'step_up_required';
    if (refusedPasskey && guard) {
      // A fresh challenge for the next try (the refused one may have been spent); the new scan
      // also says whether a try whose answer was lost went through after all.
      const rescan = await reliably(`/api/qrcodes/${id}/scan`, { method: 'POST', token: current }, connection, {
        alive: () => !ended,
      });
      if (!rescan) return;
      if (rescan.ok && !ended) {
        guard.refused(rescan.body?.step_up);
        return again();
      }
      res = { ...rescan, retried: res.retried };
    }
    const result = name === 'confirm' ? 'confirmed' : 'cancelled';
    // A try whose answer was lost may have gone through: the session then has already moved on
    // (409) or, confirmed and collected by the PC, is gone (410) before its expiry.
    const lostButDone = res.retried && (res.status === 409 || (res.status === 410 && now() < expiresAt));
    stop();
    if (res.ok || (lostButDone && res.body?.error !== 'match_failed')) {
      remember(id, result);
      FINAL[result]();
      if (result === 'confirmed') devices?.expectNew(Date.now());
      return;
    }
    const next = outcome(res);
    if (next) return next();
    dropRefusedToken(res);
    location.reload();
  }

  /** The view stays: the buttons work again, and Confirm (or the first number) has the focus back. */
  function again() {
    if (ended) return;
    enable(true);
    (confirm ?? picks[0])?.focus();
  }

  // The new view's heading takes the focus (a screen reader reads it); no button is pre-selected.
  // A login that a site started through `/oauth/authorize` is named by that site ("Sign in to
  // Grafana on a computer?"), as is a device-flow client's; the account it uses is this
  // service's, said below it.
  const site = scan.site_name || cfg.site_name;
  const heading = h('h1', { tabindex: -1 }, t.confirmTitle(scan.client_name || site));
  const actions = choices
    ? h(
        'div',
        { class: 'pick' },
        h('p', {}, t.pickNumber),
        h('div', { class: 'choices' }, picks),
        h('div', { class: 'actions single' }, cancel),
      )
    : h('div', { class: 'actions' }, confirm, cancel);
  show(
    main,
    h(
      'div',
      { class: 'card review' },
      heading,
      h('p', {}, scan.client_name ? t.askingWith(site) : t.asking),
      h(
        'dl',
        { class: 'requester' },
        h('dt', {}, t.computer),
        h('dd', {}, h('strong', {}, agentText(r.user_agent))),
        scan.client_id ? h('dt', {}, t.app) : null,
        scan.client_id ? h('dd', {}, h('strong', {}, scan.client_name || scan.client_id)) : null,
        h('dt', {}, t.ip),
        h('dd', {}, r.ip || t.unknownPlace),
        h('dt', {}, t.place),
        h('dd', {}, place),
        h('dt', {}, t.created),
        made,
        h('dt', {}, t.via),
        h('dd', {}, scan.typed || wasTyped(id) ? t.viaTyped : t.viaScanned),
      ),
      timer,
      warnings,
      guard?.box,
      expiry,
      connection,
      actions,
    ),
  );
  tick();
  if (!ended) clock = setInterval(tick, 250);
  heading.focus();
  // A user asked to make a passkey right here is not also offered one below.
  if (!guard || scan.step_up?.allowCredentials?.length) passkeys?.offer();
}

run();
