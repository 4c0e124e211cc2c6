/**
 * @module
 * The phone's sign-in, shared by /confirm and /link. With this Worker's accounts: the form
 * (Username, Password, Sign in) and, where the browser has passkeys, "Sign in with a passkey",
 * resolving once signed in either way. With `IDENTITY=jwt`: a link to the site's own login,
 * which sends the browser back here with `#token=` (see `phone.js`).
 */
import { h, show } from '../kit/dom.js';
import { formCard, refusal } from './form.js';
import { t } from './i18n.js';
import { offerAfterPasswordSignIn, passkeySignIn } from './passkeys.js';

/**
 * @param {HTMLElement} root
 * @param {import('./tokens.js').TokenStore} store
 * @param {import('../kit/config.js').Config} cfg
 * @param {{ refused?: string | null, signedOut?: boolean, ended?: import('../kit/watch.js').EndReason | null }} [more]
 *   the site's token was refused (why: the 401's `reason`), or this phone's session was ended
 *   elsewhere (and why, when the page heard it): say so
 * @returns {Promise<string>} the token
 */
export function signIn(root, store, cfg, { refused = null, signedOut = false, ended = null } = {}) {
  if (cfg.identity === 'jwt' && cfg.identity_login_url) return siteSignIn(root, cfg.identity_login_url, cfg, refused);
  return new Promise((resolve) => {
    const username = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true });
    const password = h('input', {
      id: 'password',
      name: 'password',
      type: 'password',
      autocomplete: 'current-password',
      required: true,
    });
    const form = formCard({
      title: t.signInTitle,
      submit: t.signIn,
      before: signedOut ? h('p', { class: 'warning', role: 'status' }, endedWords(ended)) : null,
      children: [
        h('label', { for: 'username' }, t.username),
        username,
        h('label', { for: 'password' }, t.password),
        password,
      ],
      // The other way in sits inside the card, under the password's button.
      after: [
        passkeySignIn(cfg, (answer) => {
          store.save(answer);
          resolve(answer.token);
        }),
        cfg.development ? h('p', { class: 'hint' }, t.demoHint) : null,
      ],
      onSubmit: async (call) => {
        const res = await call('/api/login', {
          method: 'POST',
          body: { username: username.value, password: password.value },
        });
        if (!res) return;
        if (!res.ok) return refusal(res, { 401: t.wrongPassword });
        store.save(res.body);
        offerAfterPasswordSignIn();
        resolve(res.body.token);
      },
    });
    show(root, form);
    username.focus();
  });
}

/**
 * Why this phone's session ended, in words: the reason its watch heard, else the general words.
 * @param {import('../kit/watch.js').EndReason | null} reason
 */
export function endedWords(reason) {
  if (reason === 'signed_out') return t.endedSignedOut;
  if (reason === 'reused') return t.endedReused;
  if (reason === 'disabled') return t.endedDisabled;
  if (reason === 'expired') return t.endedExpired;
  if (reason === 'too_many') return t.endedTooMany;
  return t.signedOutElsewhere;
}

/**
 * A link to the site's login; it never resolves: the page is left, and comes back signed in.
 * @param {HTMLElement} root
 * @param {string} loginUrl
 * @param {import('../kit/config.js').Config} cfg
 * @param {string | null} refused why the site's last token was refused, if it was
 * @returns {Promise<never>}
 */
function siteSignIn(root, loginUrl, cfg, refused) {
  const target = new URL(loginUrl, location.href);
  target.searchParams.set('return_to', `${location.origin}${location.pathname}${location.search}`);
  const heading = h('h1', { tabindex: -1 }, t.signInTitle);
  show(
    root,
    h(
      'div',
      { class: 'card' },
      heading,
      h('p', {}, t.siteSignInHint(cfg.site_name)),
      refused ? h('p', { class: 'error', role: 'alert' }, refusedWords(refused, cfg.site_name)) : null,
      h('a', { class: 'button primary', href: target.href }, t.signInWithSite(cfg.site_name)),
    ),
  );
  heading.focus();
  return new Promise(() => {});
}

/**
 * Why the site's token was refused, in words that say who can fix it: the user, by signing in
 * again (it expired), or the site (this server does not accept its tokens at all).
 * @param {string} reason the 401's `reason`
 * @param {string} site
 */
function refusedWords(reason, site) {
  if (reason === 'site_token_expired') return t.siteSignInExpired(site);
  if (reason === 'site_token_refused') return t.siteSignInMisfit(site);
  return t.siteSignInRefused(site);
}
