/**
 * @module
 * The tokens this browser keeps, and the one module that reads or writes them: the PC page's
 * (localStorage), the phone's own (localStorage) and, with `IDENTITY=jwt`, the site's
 * (sessionStorage: it comes from the site's login and lives as long as the tab). Everything else
 * asks here, so that short-lived access tokens with a refresh can slot in here alone.
 */

/**
 * @typedef {object} TokenStore
 * @property {() => string | null} get the access token, or null when signed out
 * @property {(answer: { token: string }) => void} save keeps what a login answered
 * @property {() => void} clear
 */

/**
 * A token kept under `key` in `storage`; storage that is off (a private window's policy) keeps nothing.
 * @param {string} key
 * @param {() => Storage} storage
 * @returns {TokenStore}
 */
function kept(key, storage) {
  return {
    get: () => {
      try {
        return storage().getItem(key);
      } catch {
        return null;
      }
    },
    save: ({ token }) => {
      try {
        storage().setItem(key, token);
      } catch {
        // Not kept: this page stays signed in until it is closed.
      }
    },
    clear: () => {
      try {
        storage().removeItem(key);
      } catch {
        // Nothing was kept.
      }
    },
  };
}

/** Where the PC page keeps its token; other tabs learn of a change from its `storage` event. */
export const PC_TOKEN_KEY = 'qrlogin.pc.token';

/** The PC page's token. */
export const pcTokens = kept(PC_TOKEN_KEY, () => localStorage);

const accountTokens = kept('qrlogin.phone.token', () => localStorage);
const siteTokens = kept('qrlogin.phone.site-token', () => sessionStorage);
let siteIdentity = false;

/** The phone user's token: this Worker's own, or the site's after `useSiteTokens()`. */
export const phoneTokens = {
  /** @type {TokenStore['get']} */
  get: () => (siteIdentity ? siteTokens : accountTokens).get(),
  /** @type {TokenStore['save']} */
  save: (answer) => (siteIdentity ? siteTokens : accountTokens).save(answer),
  /** @type {TokenStore['clear']} */
  clear: () => (siteIdentity ? siteTokens : accountTokens).clear(),
  /** The phone user is the site's (`IDENTITY=jwt`): whose token their own sign-out only forgets. */
  get site() {
    return siteIdentity;
  },
};

/**
 * The phone user is the site's own (`IDENTITY=jwt`); `arrived` is a token that the site's login
 * just sent back, if any.
 * @param {string | null} arrived
 */
export function useSiteTokens(arrived) {
  siteIdentity = true;
  if (arrived) siteTokens.save({ token: arrived });
}
