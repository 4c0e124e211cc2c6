/**
 * @module
 * What /confirm and /link share: the server's config, who the phone user is (one of this
 * Worker's accounts, or with `IDENTITY=jwt` the site's own user, whose token comes back in the
 * `#token=` fragment), the language switch, the account line with the linked devices, and
 * the final screens.
 */
import { api, tokenStore } from './api.js';
import { reliably } from './connection.js';
import { linkedDevices } from './devices.js';
import { h, show } from './dom.js';
import { t } from './i18n.js';
import { languageSwitch } from './lang-switch.js';
import { signIn } from './signin.js';

export const main = document.getElementById('main');
const extra = document.getElementById('extra');
document.getElementById('top')?.append(languageSwitch());

// The site sends its token in the fragment (never the query, which reaches logs). Take it, and
// take it off the address bar at once, so that it is not bookmarked, shared or kept in history.
const arrived = new URLSearchParams(location.hash.slice(1)).get('token');
if (arrived !== null) history.replaceState(history.state, '', location.pathname + location.search);

const accountStore = tokenStore('qrlogin.phone.token');
// A site's token lives only as long as the tab: the site's own login is where it comes from.
const siteStore = tokenStore('qrlogin.phone.site-token', sessionStorage);
let siteIdentity = false;

/** The phone user's token: this Worker's (localStorage) or, with `IDENTITY=jwt`, the site's (sessionStorage). */
export const store = {
  get: () => (siteIdentity ? siteStore : accountStore).get(),
  set: (value) => (siteIdentity ? siteStore : accountStore).set(value),
  clear: () => (siteIdentity ? siteStore : accountStore).clear(),
};

let loaded = null;
/** `/api/config` (asked once), with a default for each field an older server does not send. */
export function config() {
  loaded ??= reliably('/api/config', {}, main).then((res) => {
    const c = (res?.ok && res.body) || {};
    return {
      development: c.development === true,
      match_code: c.match_code === true,
      site_name: typeof c.site_name === 'string' && c.site_name ? c.site_name : 'QR Login',
      identity: c.identity === 'jwt' ? 'jwt' : 'accounts',
      identity_login_url: typeof c.identity_login_url === 'string' ? c.identity_login_url : null,
    };
  });
  return loaded;
}

/** The linked devices of the signed-in user, once shown. */
export let devices = null;

/** A token of a signed-in user, asking for a sign-in first if needed; shows who is signed in. */
export async function signedIn() {
  const cfg = await config();
  siteIdentity = cfg.identity === 'jwt';
  if (siteIdentity && arrived) siteStore.set(arrived);
  let refused = false;
  for (;;) {
    const token = store.get();
    if (token) {
      const me = await reliably('/api/me', { token }, main);
      if (me.ok) {
        showAccount(me.body);
        return token;
      }
      if (me.status !== 401) {
        finish(t.requestFailed, me.body?.message ?? '', 'bad');
        return new Promise(() => {});
      }
      // Signed out elsewhere, expired, or a site token this server does not accept.
      refused = siteIdentity;
      store.clear();
    }
    show(extra);
    await signIn(main, store, cfg, { refused });
  }
}

/** Shows the final screens' account line and devices, without asking anyone to sign in. */
export async function showAccountIfSignedIn() {
  const cfg = await config();
  siteIdentity = cfg.identity === 'jwt';
  if (siteIdentity && arrived) siteStore.set(arrived);
  const token = store.get();
  if (!token) return;
  const me = await api('/api/me', { token }).catch(() => null);
  if (me?.ok) showAccount(me.body);
}

function showAccount(user) {
  devices = linkedDevices(store, () => {
    store.clear();
    location.reload();
  });
  const switchAccount = async () => {
    // Our own session is revoked on the server; a site's token is only forgotten here.
    const token = store.get();
    if (!siteIdentity && token) await api('/api/logout', { method: 'POST', token }).catch(() => null);
    store.clear();
    location.reload();
  };
  show(
    extra,
    h(
      'p',
      { class: 'account' },
      h('span', {}, t.signedInAs(user.display_name)),
      h('button', { type: 'button', class: 'link', onclick: switchAccount }, t.switchAccount),
    ),
    devices.section,
  );
}

/** A final screen: a heading that says what happened, and a line more. */
export function finish(title, detail, kind = 'info') {
  const heading = h('h1', { tabindex: -1 }, title);
  show(main, h('div', { class: `card final ${kind}`, role: 'status' }, heading, detail ? h('p', {}, detail) : null));
  heading.focus();
}
