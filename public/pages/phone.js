/**
 * @module
 * What /confirm and /link share: the server's config and the site's look (accent, logo), who the
 * phone user is (one of this Worker's accounts, or with `IDENTITY=jwt` the site's own user, whose
 * token comes back in the `#token=` fragment), the language switch, the account line with the
 * linked devices, the passkeys and the recent activity, and the final screens.
 */
import { call } from '../kit/api.js';
import { useAccent } from '../kit/brand.js';
import { readConfig, serverConfig } from '../kit/config.js';
import { h, show } from '../kit/dom.js';
import { languageSwitch } from '../kit/lang.js';
import { watchSession } from '../kit/watch.js';
import { recentActivity } from './activity.js';
import { reliably } from './connection.js';
import { linkedDevices } from './devices.js';
import { lang, setLang, t } from './i18n.js';
import { offerAfterPasswordSignIn, passkeyList } from './passkeys.js';
import { endedWords, signIn } from './signin.js';
import { keepPhoneFresh, phoneTokens, useSiteTokens } from './tokens.js';

/**
 * An element of the page's HTML.
 * @param {string} id
 */
const part = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

export const main = part('main');
const extra = part('extra');
const top = part('top');
top.append(languageSwitch(lang, t.language, setLang));

// The site sends its token in the fragment (never the query, which reaches logs). Take it, and
// take it off the address bar at once, so that it is not bookmarked, shared or kept in history.
const arrived = new URLSearchParams(location.hash.slice(1)).get('token');
if (arrived !== null) history.replaceState(history.state, '', location.pathname + location.search);

/** The phone user's token (see `tokens.js`). */
export const store = phoneTokens;

/**
 * Why the server last refused the site's token (the 401's `reason`): said once above the site's
 * sign-in, kept for the tab so that it survives the reload that may follow.
 */
const REFUSED_KEY = 'qrlogin.phone.site-refused';

/**
 * Forgets the phone user's token, which the server answered `res` (a 401) to; for a site's token,
 * keeps why, to say it above the site's sign-in.
 * @param {import('../kit/api.js').Answer | null} res
 */
export function dropRefusedToken(res) {
  if (store.site) {
    try {
      sessionStorage.setItem(REFUSED_KEY, String(res?.body?.reason ?? 'unknown'));
    } catch {
      // Without storage the sign-in is offered without the reason.
    }
  }
  store.clear();
}

/** Why the site's token was refused, once (then forgotten); null when it was not. */
function takeRefusal() {
  try {
    const reason = sessionStorage.getItem(REFUSED_KEY);
    sessionStorage.removeItem(REFUSED_KEY);
    return reason;
  } catch {
    return null;
  }
}

/**
 * The site's accent and logo, once the config is known.
 * @param {import('../kit/config.js').Config} cfg
 */
function brand(cfg) {
  useAccent(document, cfg.site_accent, ':root');
  if (cfg.site_logo && !top.querySelector('.logo')) {
    top.prepend(h('img', { class: 'logo', src: cfg.site_logo, alt: cfg.site_name }));
  }
}

// The look comes first, whatever the page goes on to do (a bad code needs no config).
serverConfig(location.origin).then((cfg) => cfg && brand(cfg));

/** @type {Promise<import('../kit/config.js').Config> | null} */
let loaded = null;
/** `/api/config` (asked once; through a lost connection, said as one), with a default for each field. */
export function config() {
  loaded ??= serverConfig(location.origin)
    .then(async (cfg) => cfg ?? readConfig((await reliably('/api/config', {}, main))?.body))
    .then((cfg) => {
      brand(cfg);
      return cfg;
    });
  return loaded;
}

/**
 * The linked devices of the signed-in user, once shown.
 * @type {ReturnType<typeof linkedDevices> | null}
 */
export let devices = null;

/**
 * The signed-in user's passkeys (the list, and the offer after a password sign-in), once shown.
 * @type {ReturnType<typeof passkeyList> | null}
 */
export let passkeys = null;

/** @param {import('../kit/config.js').Config} cfg */
function takeIdentity(cfg) {
  if (cfg.identity !== 'jwt') return;
  useSiteTokens(arrived);
  // Just back from the site's sign-in: the moment its token may add a passkey (10 minutes).
  if (arrived) offerAfterPasswordSignIn();
}

/**
 * A token of a signed-in user, asking for a sign-in first if needed; shows who is signed in.
 * @returns {Promise<string>}
 */
export async function signedIn() {
  const cfg = await config();
  takeIdentity(cfg);
  let refused = takeRefusal();
  for (;;) {
    // Our own access token is renewed first if it expired while the phone was away.
    const token = await store.fresh();
    if (token) {
      const me = await reliably('/api/me', { token }, main);
      if (me?.ok) {
        showAccount(me.body, cfg);
        if (!store.site) {
          keepPhoneFresh(signedOutHere);
          watchOwnSession();
        }
        return token;
      }
      if (me?.status !== 401) {
        finish(t.requestFailed, me?.body?.message ?? '', 'bad');
        return new Promise(() => {});
      }
      // Signed out elsewhere, expired, or a site token this server does not accept (and why).
      dropRefusedToken(me);
      refused = takeRefusal();
      if (!store.site) store.signedOut = true;
    }
    show(extra);
    // This phone's session was ended elsewhere (another device, or a reused token): say so.
    const signedOut = store.signedOut;
    await signIn(main, store, cfg, { refused, signedOut, ended: store.endedBecause });
  }
}

/** The background renewal learnt that this phone was signed out: start again, which says so. */
function signedOutHere() {
  location.reload();
}

/** The watch of this phone's own session (a site's token has none of ours to watch). */
let watching = /** @type {{ stop: () => void } | null} */ (null);

/**
 * Watches this phone's session: the moment it ends (signed out from another device, a reused
 * token, a disabled account), the page says so and why, in place of whatever it showed, and
 * offers to sign in again.
 */
function watchOwnSession() {
  if (watching) return;
  watching = watchSession({
    server: location.origin,
    token: () => store.fresh(),
    ended: (reason) => {
      watching = null;
      store.ended(reason);
      show(extra);
      finish(endedWords(reason), '', 'bad');
      main
        .querySelector('.final')
        ?.append(h('button', { type: 'button', class: 'primary', onclick: () => location.reload() }, t.signInAgain));
    },
  });
}

/** This phone signs itself out: its own sign-out is no news to it. */
function stopWatching() {
  watching?.stop();
  watching = null;
}

/** Shows the final screens' account line and devices, without asking anyone to sign in. */
export async function showAccountIfSignedIn() {
  const cfg = await config();
  takeIdentity(cfg);
  const token = await store.fresh();
  if (!token) return;
  const me = await call('/api/me', { token }).catch(() => null);
  if (me?.ok) showAccount(me.body, cfg);
}

/**
 * @param {{ display_name: string }} user
 * @param {import('../kit/config.js').Config} cfg
 */
function showAccount(user, cfg) {
  devices = linkedDevices(
    store,
    () => {
      store.clear();
      location.reload();
    },
    stopWatching,
  );
  passkeys = passkeyList(store, cfg, devices.section);
  const switchAccount = async () => {
    // Our own session is revoked on the server; a site's token is only forgotten here.
    const token = await store.fresh();
    stopWatching();
    if (!store.site && token) await call('/api/logout', { method: 'POST', token }).catch(() => null);
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
    passkeys.offerSlot,
    devices.section,
    recentActivity(store).section,
  );
}

/**
 * A final screen: a heading that says what happened, and a line more.
 * @param {string} title
 * @param {string} detail
 * @param {'good' | 'bad' | 'info'} [kind]
 */
export function finish(title, detail, kind = 'info') {
  const heading = h('h1', { tabindex: -1 }, title);
  show(main, h('div', { class: `card final ${kind}`, role: 'status' }, heading, detail ? h('p', {}, detail) : null));
  heading.focus();
}
