/**
 * @module
 * A placeholder of the authorize page (`/oauth/authorize` shows `authorize.html`): enough to
 * sign in by hand while the real page is being made. It sends the request's parameters to
 * `POST /api/authorize`, shows the QR and "Continue as", long-polls the QR login's status, asks
 * for a fresh QR when one expires, and goes wherever an answer's `redirect_to` says
 * (`location.replace`). No token ever reaches it: the code goes straight to the client.
 */
import { call } from '../kit/api.js';

/** @param {string} id */
const part = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const title = part('title');
const statusLine = part('status');
const qr = /** @type {HTMLImageElement} */ (part('qr'));
const continueButton = /** @type {HTMLButtonElement} */ (part('continue'));
const cancelButton = /** @type {HTMLButtonElement} */ (part('cancel'));

/** @typedef {{ qrcode_id: string, poll_token: string, img: string, version: number }} Login */

let authorization = '';

/** @param {string} text */
const say = (text) => {
  statusLine.textContent = text;
};

/**
 * Goes where an answer says, if it says so.
 * @param {any} body
 */
function follow(body) {
  if (typeof body?.redirect_to !== 'string') return false;
  location.replace(body.redirect_to);
  return true;
}

/** @param {number} ms */
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Shows a QR login and waits on it until it ends.
 * @param {Login} login
 */
async function watch(login) {
  qr.src = login.img;
  qr.hidden = false;
  say('请用手机扫码 · Scan with your phone');
  let after = login.version;
  for (;;) {
    const res = await call(`/api/qrcodes/${login.qrcode_id}/status?after=${after}&wait=25`, {
      pollToken: login.poll_token,
      timeoutMs: 35_000,
    }).catch(() => null);
    if (res && follow(res.body)) return;
    if (res?.status === 410 || res?.body?.status === 'expired' || res?.body?.status === 'scan-cancel') {
      const fresh = await call('/api/authorize/qrcode', { method: 'POST', body: { authorization } });
      if (follow(fresh.body)) return;
      if (fresh.ok) return watch(fresh.body.login);
    }
    if (!res?.ok) {
      await pause(2000);
      continue;
    }
    after = res.body.version;
    if (res.body.scanner) say(`${res.body.scanner.display_name}: 请在手机上确认 · confirm on the phone`);
  }
}

continueButton.addEventListener('click', async () => {
  const res = await call('/api/authorize/continue', { method: 'POST', body: { authorization } });
  if (!follow(res.body)) say(res.body?.message ?? 'Error');
});
cancelButton.addEventListener('click', async () => {
  const res = await call('/api/authorize/cancel', { method: 'POST', body: { authorization } });
  follow(res.body);
});

const started = await call('/api/authorize', {
  method: 'POST',
  body: Object.fromEntries(new URLSearchParams(location.search)),
});
if (!follow(started.body)) {
  if (!started.ok) say(started.body?.message ?? 'Error');
  else {
    authorization = started.body.authorization;
    title.textContent = `登录 ${started.body.client_name} · Sign in to ${started.body.client_name}`;
    cancelButton.hidden = false;
    if (started.body.continue_as) {
      continueButton.textContent = `以 ${started.body.continue_as.display_name} 继续 · Continue as ${started.body.continue_as.display_name}`;
      continueButton.hidden = false;
    }
    void watch(started.body.login);
  }
}
