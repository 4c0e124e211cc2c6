/** What /confirm and /link share: the phone's token, its header and its linked devices. */
import { api, tokenStore } from './api.js';
import { linkedDevices } from './devices.js';
import { h, show } from './dom.js';
import { t } from './i18n.js';
import { signIn } from './signin.js';

export const store = tokenStore('qrlogin.phone.token');
export const main = document.getElementById('main');
const extra = document.getElementById('extra');

/** A token of a signed-in user, asking for a sign-in first if needed; shows who is signed in and the devices. */
export async function signedIn() {
  let token = store.get();
  if (token) {
    const me = await api('/api/me', { token }).catch(() => null);
    if (me?.status === 401) {
      store.clear();
      token = null;
    } else if (me?.ok) {
      showAccount(me.body);
      return token;
    }
  }
  show(extra);
  token = await signIn(main, store);
  const me = await api('/api/me', { token }).catch(() => null);
  if (me?.ok) showAccount(me.body);
  return token;
}

function showAccount(user) {
  const devices = linkedDevices(store, () => {
    store.clear();
    location.reload();
  });
  show(extra, h('p', { class: 'hint account' }, t.signedInAs(user.display_name)), devices.section);
}

/** A final screen: a heading that says what happened, and a line more. */
export function finish(title, detail, kind = 'info') {
  show(
    main,
    h('div', { class: `card final ${kind}`, role: 'status' }, h('h1', {}, title), detail ? h('p', {}, detail) : null),
  );
}
