/**
 * The PC page: asks for a QR code, long-polls its status (no timer: the server answers the
 * moment something changes), says in words what is happening, and keeps the token once signed in.
 */
import { api, tokenStore } from './api.js';
import { h, initial, show } from './dom.js';
import { t } from './i18n.js';

const store = tokenStore('qrlogin.pc.token');
const main = document.getElementById('main');
const statusEl = document.getElementById('status');
const MAX_BACKOFF_MS = 30_000;

let generation = 0;
let aborter = null;
let countdown = null;
/** What the status region says when no connection problem is being reported. */
let said = '';

const say = (text) => {
  said = text;
  statusEl.textContent = text;
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Stops whatever the previous screen was doing. */
function reset() {
  generation++;
  aborter?.abort();
  aborter = new AbortController();
  clearInterval(countdown);
  return generation;
}

/** Calls the API; on network errors and 5xx waits (1 s, 2 s, 4 s … 30 s) and tries again. */
async function resilient(mine, path, options = {}) {
  let delay = 1000;
  for (;;) {
    try {
      const res = await api(path, { ...options, signal: aborter.signal });
      if (res.status < 500) return res;
    } catch (err) {
      if (err?.name === 'AbortError') return null;
    }
    if (mine !== generation) return null;
    statusEl.textContent = t.retrying(Math.round(delay / 1000));
    await sleep(delay);
    if (mine !== generation) return null;
    // Trying again: say again what was being said before the problem (a long-poll may now wait quietly).
    statusEl.textContent = said;
    delay = Math.min(delay * 2, MAX_BACKOFF_MS);
  }
}

/** A new QR session; `notice` is said before the waiting text (e.g. "You were signed out."). */
async function newQr(notice = '') {
  const mine = reset();
  say(t.loading);
  const res = await resilient(mine, '/api/qrcodes', { method: 'POST' });
  if (!res || mine !== generation) return;
  if (!res.ok) {
    say(res.status === 429 ? t.rateLimited(res.retryAfter || 60) : t.requestFailed);
    show(main, refreshButton());
    return;
  }
  const qr = res.body;
  const img = h('img', { class: 'qr', src: qr.img, alt: t.qrAlt, width: 300, height: 300 });
  const frame = h('div', { class: 'qr-frame' }, img);
  const timer = h('p', { class: 'timer' });
  const scanner = h('div', { class: 'scanner' });
  const typed = qr.user_code
    ? h(
        'div',
        { class: 'no-camera' },
        h('p', { class: 'hint' }, t.noCamera(qr.verification_url)),
        h('p', { class: 'user-code' }, qr.user_code),
      )
    : null;
  show(main, frame, timer, scanner, typed);
  const expiresAt = Date.parse(qr.expires_at);
  const tick = () => {
    const left = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
    timer.textContent = t.timeLeft(left);
  };
  tick();
  countdown = setInterval(tick, 1000);
  say(notice ? `${notice} ${t.waiting}` : t.waiting);
  await pollLoop(mine, qr, { img, frame, timer, scanner, typed });
}

async function pollLoop(mine, qr, view) {
  let version = qr.version;
  for (;;) {
    const res = await resilient(mine, `/api/qrcodes/${qr.qrcode_id}/status?after=${version}&wait=25`, {
      pollToken: qr.poll_token,
    });
    if (!res || mine !== generation) return;
    if (res.status === 429) {
      await sleep((res.retryAfter || 1) * 1000);
      if (mine !== generation) return;
      continue;
    }
    // 410: the session is gone (expired and cleaned up); any other refusal ends it too.
    if (!res.ok) return ended(view, t.expired);
    const s = res.body;
    version = s.version;
    if (s.status === 'scan-wait-confirm') {
      const name = s.scanner?.display_name ?? '';
      say(t.scanned(name));
      view.typed?.remove();
      show(
        view.scanner,
        h('span', { class: 'avatar', 'aria-hidden': 'true' }, initial(name)),
        h('span', { class: 'scanner-name' }, name),
        s.match_code ? h('p', { class: 'match' }, t.matchHint, h('strong', {}, s.match_code)) : null,
      );
      view.img.classList.add('dim');
    } else if (s.status === 'scan-confirm' && s.token) {
      store.set(s.token);
      return signedIn();
    } else if (s.status === 'scan-cancel') {
      return ended(view, t.cancelled);
    } else if (s.status === 'expired') {
      return ended(view, t.expired);
    }
  }
}

function refreshButton() {
  return h('button', { type: 'button', class: 'primary refresh', onclick: () => newQr() }, t.refresh);
}

/** Greys the code, says why, and offers a new one (never a silent refresh). */
function ended(view, text) {
  clearInterval(countdown);
  view.img.classList.remove('dim');
  view.img.classList.add('ended');
  view.timer.textContent = '';
  view.typed?.remove();
  show(view.scanner);
  say(text);
  view.frame.append(refreshButton());
}

async function signedIn(notice = '') {
  const mine = reset();
  const token = store.get();
  const res = await resilient(mine, '/api/me', { token });
  if (!res || mine !== generation) return;
  if (!res.ok) {
    store.clear();
    return newQr(res.status === 401 ? t.signedOut : notice);
  }
  const user = res.body;
  say(t.signedIn(user.display_name));
  show(
    main,
    h(
      'div',
      { class: 'card signed-in' },
      h('span', { class: 'avatar big', 'aria-hidden': 'true' }, initial(user.display_name)),
      h('p', { class: 'user-name' }, user.display_name),
      h('p', { class: 'hint' }, `@${user.username}`),
      h(
        'button',
        {
          type: 'button',
          onclick: async () => {
            await api('/api/logout', { method: 'POST', token }).catch(() => null);
            store.clear();
            newQr();
          },
        },
        t.signOut,
      ),
    ),
  );
}

/** A device signed out from the phone loses its session on its next request: check when the tab comes back. */
async function recheck() {
  const token = store.get();
  if (!token || document.visibilityState !== 'visible') return;
  const res = await api('/api/me', { token }).catch(() => null);
  if (res?.status === 401 && store.get() === token) {
    store.clear();
    newQr(t.signedOut);
  }
}
document.addEventListener('visibilitychange', recheck);
window.addEventListener('focus', recheck);

document.title = t.pcTitle;
document.getElementById('title').textContent = t.pcTitle;
if (store.get()) signedIn();
else newQr();
