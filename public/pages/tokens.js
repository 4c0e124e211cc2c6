/**
 * @module
 * The tokens this browser keeps, and the one module that reads or writes them: the PC page's
 * (localStorage), the phone's own (localStorage) and, with `IDENTITY=jwt`, the site's
 * (sessionStorage: it comes from the site's login and lives as long as the tab).
 *
 * Our own access tokens live fifteen minutes; the store keeps when each expires, and renews it
 * in the background (`POST /oauth/token`, refresh grant) a minute before it does, or on demand
 * (`fresh()`). One renewal runs at a time across the browser's tabs (a Web Lock named after the
 * store). The refresh token and the latest renewal are kept in IndexedDB, whose transactions
 * every tab sees at once: localStorage reaches other tabs a moment later (Chromium caches it per
 * process), so a tab that waited for the lock could otherwise send the token the other tab has
 * just rotated, which the server refuses (and after 10 s treats as theft). A refresh token the
 * server refuses (`invalid_grant`: the session was signed out, or has ended) signs the page out:
 * the store is emptied and `signedOut` is set.
 */

import { dpopProof, heard, isBound } from '../kit/dpop.js';

/** A token is renewed this long before it expires. */
const MARGIN_MS = 60_000;

/**
 * @typedef {object} LoginAnswer
 * @property {string} token the access token
 * @property {string} [refresh_token]
 * @property {number} [expires_in] seconds
 */

/**
 * @typedef {object} TokenStore
 * @property {() => string | null} get the access token as stored (it may have expired), or null when signed out
 * @property {() => Promise<string | null>} fresh an access token good for at least a minute, renewed if needed; null when signed out
 * @property {(answer: LoginAnswer) => void} save keeps what a login (or a refresh) answered
 * @property {() => void} clear
 * @property {boolean} signedOut the server ended this store's session (its refresh token was refused); said until the next sign-in
 * @property {import('../kit/watch.js').EndReason | null} endedBecause why the session ended, when the page heard it (its watch); null otherwise
 * @property {(reason: import('../kit/watch.js').EndReason) => void} ended the page heard that its session ended: signed out, and why kept for the next sign-in
 * @property {boolean} [site] the user is the site's own (`IDENTITY=jwt`; only the phone's store says)
 */

/** @param {() => Storage} storage */
function slots(storage) {
  return {
    /** @param {string} key */
    read(key) {
      try {
        return storage().getItem(key);
      } catch {
        return null;
      }
    },
    /**
     * @param {string} key
     * @param {string | null} value
     */
    write(key, value) {
      try {
        if (value === null) storage().removeItem(key);
        else storage().setItem(key, value);
      } catch {
        // Storage that is off (a private window's policy) keeps nothing: signed in until the page closes.
      }
    },
  };
}

/**
 * What IndexedDB keeps per store: the refresh token, and the access token it last renewed (with
 * its expiry), so that the next tab to hold the lock sees the renewal.
 * @typedef {{ refresh: string, token: string, expires: number }} Renewal
 */

/** @type {Promise<IDBDatabase> | null} */
let database = null;

/** The pages' IndexedDB database (one object store, `renewals`). */
function db() {
  database ??= new Promise((resolve, reject) => {
    const req = indexedDB.open('qrlogin', 1);
    req.onupgradeneeded = () => req.result.createObjectStore('renewals');
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return database;
}

/**
 * Runs one request on the `renewals` store and resolves once its transaction has committed.
 * @template T
 * @param {IDBTransactionMode} mode
 * @param {(store: IDBObjectStore) => IDBRequest<T>} op
 * @returns {Promise<T>}
 */
async function renewals(mode, op) {
  const tx = (await db()).transaction('renewals', mode);
  const req = op(tx.objectStore('renewals'));
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve(req.result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

/** @param {string} key @returns {Promise<Renewal | undefined>} */
const readRenewal = (key) => renewals('readonly', (store) => store.get(key)).catch(() => undefined);
/** @param {string} key @param {Renewal | null} value */
const writeRenewal = (key, value) =>
  renewals(
    'readwrite',
    (store) => /** @type {IDBRequest<unknown>} */ (value ? store.put(value, key) : store.delete(key)),
  ).catch(() => undefined);

/**
 * Runs `work` while holding the lock `name` across this browser's tabs (where Web Locks exist).
 * @template T
 * @param {string} name
 * @param {() => Promise<T>} work
 * @returns {Promise<T>}
 */
function exclusively(name, work) {
  return navigator.locks ? navigator.locks.request(name, work) : work();
}

/**
 * A store kept under `key` in `storage`; `refreshes` when its tokens are ours (they renew).
 * @param {string} key
 * @param {() => Storage} storage
 * @param {boolean} refreshes
 * @returns {TokenStore}
 */
function kept(key, storage, refreshes) {
  const { read, write } = slots(storage);
  const expiresKey = `${key}.expires`;
  const expiresAt = () => Number(read(expiresKey)) || 0;
  /** The refresh token's IndexedDB write, so that a renewal right after a sign-in finds it. */
  let saving = /** @type {Promise<unknown>} */ (Promise.resolve());

  // Said once after a reload too (the page that learns it may be the next one): kept for the tab.
  const notice = slots(() => sessionStorage);
  const signedOutKey = `${key}.signed-out`;

  const store = {
    get signedOut() {
      return notice.read(signedOutKey) !== null;
    },
    set signedOut(value) {
      notice.write(signedOutKey, value ? '1' : null);
    },
    get endedBecause() {
      const said = notice.read(signedOutKey);
      return said === null || said === '1' ? null : /** @type {import('../kit/watch.js').EndReason} */ (said);
    },
    /** @param {import('../kit/watch.js').EndReason} reason */
    ended(reason) {
      store.clear();
      notice.write(signedOutKey, reason);
    },
    get: () => read(key),
    /** @param {LoginAnswer} answer */
    save({ token, refresh_token, expires_in }) {
      store.signedOut = false;
      const expires = refreshes && refresh_token && expires_in ? Date.now() + expires_in * 1000 : 0;
      saving = writeRenewal(key, expires ? { refresh: /** @type {string} */ (refresh_token), token, expires } : null);
      write(expiresKey, expires ? String(expires) : null);
      write(key, token);
    },
    clear() {
      write(key, null);
      write(expiresKey, null);
      saving = writeRenewal(key, null);
    },
    async fresh() {
      const token = read(key);
      // No expiry kept: a site's token, or one of a version without refresh tokens.
      if (!token || !expiresAt() || expiresAt() - Date.now() > MARGIN_MS) return token;
      return renew(token);
    },
  };

  /**
   * Renews the access token `stale`; keeps what there is when the server cannot be reached.
   * @param {string} stale
   * @returns {Promise<string | null>}
   */
  function renew(stale) {
    return exclusively(`qrlogin.refresh:${key}`, async () => {
      await saving;
      const kept = await readRenewal(key);
      // Signed out in another tab while this one waited for the lock.
      if (!kept) return read(key);
      // Renewed in another tab: take its token (this tab's localStorage may not show it yet).
      if (kept.token !== stale && kept.expires - Date.now() > MARGIN_MS) {
        write(expiresKey, String(kept.expires));
        write(key, kept.token);
        return kept.token;
      }
      const now = read(key);
      const sent = kept.refresh;
      let res;
      let body;
      try {
        // A session bound to this browser's DPoP key refreshes only with a proof of it (and
        // once more with the server's nonce, when it asks for one).
        for (let tries = 0; tries < 2; tries++) {
          const url = new URL('/oauth/token', location.href);
          const proof = isBound(stale) ? await dpopProof('POST', url) : null;
          res = await fetch(url, {
            method: 'POST',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(proof ? { DPoP: proof } : {}) },
            body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: sent }),
            cache: 'no-store',
          });
          heard(url.href, res.headers);
          body = await res.json().catch(() => null);
          if (!(proof && body?.error === 'use_dpop_nonce')) break;
        }
      } catch {
        return now;
      }
      if (!res) return now;
      if (res.ok && body?.access_token) {
        store.save({ token: body.access_token, refresh_token: body.refresh_token, expires_in: body.expires_in });
        await saving;
        return body.access_token;
      }
      if (body?.error !== 'invalid_grant') return now;
      // A browser without Web Locks may have raced another tab: its renewal is the one to use.
      const after = await readRenewal(key);
      if (after && after.refresh !== sent) return after.token;
      store.clear();
      store.signedOut = true;
      return null;
    });
  }

  return store;
}

/**
 * Keeps `store`'s access token renewed while the page is open, a minute before it expires (in
 * one tab at a time); `onSignedOut` runs when the server refuses the refresh token.
 * @param {TokenStore} store
 * @param {() => void} onSignedOut
 * @param {string} key the store's storage key, whose changes in other tabs move the next renewal
 */
function keepFresh(store, onSignedOut, key) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const plan = () => {
    clearTimeout(timer);
    const expires = Number(localStorage.getItem(`${key}.expires`)) || 0;
    if (!store.get() || !expires) return;
    timer = setTimeout(
      async () => {
        const token = await store.fresh();
        if (token === null && store.signedOut) onSignedOut();
        else plan();
      },
      Math.max(5_000, expires - MARGIN_MS - Date.now()),
    );
  };
  window.addEventListener('storage', (event) => {
    if (event.key === key || event.key === `${key}.expires`) plan();
  });
  plan();
  return plan;
}

/** Where the PC page keeps its token; other tabs learn of a change from its `storage` event. */
export const PC_TOKEN_KEY = 'qrlogin.pc.token';

/** The PC page's tokens. */
export const pcTokens = kept(PC_TOKEN_KEY, () => localStorage, true);

const PHONE_TOKEN_KEY = 'qrlogin.phone.token';
const accountTokens = kept(PHONE_TOKEN_KEY, () => localStorage, true);
const siteTokens = kept('qrlogin.phone.site-token', () => sessionStorage, false);
let siteIdentity = false;
const current = () => (siteIdentity ? siteTokens : accountTokens);

/** The phone user's tokens: this Worker's own, or the site's after `useSiteTokens()` (which do not renew). */
export const phoneTokens = {
  /** @type {TokenStore['get']} */
  get: () => current().get(),
  /** @type {TokenStore['fresh']} */
  fresh: () => current().fresh(),
  /** @type {TokenStore['save']} */
  save: (answer) => current().save(answer),
  /** @type {TokenStore['clear']} */
  clear: () => current().clear(),
  get signedOut() {
    return current().signedOut;
  },
  set signedOut(value) {
    current().signedOut = value;
  },
  get endedBecause() {
    return current().endedBecause;
  },
  /** @type {TokenStore['ended']} */
  ended: (reason) => current().ended(reason),
  /** The phone user is the site's (`IDENTITY=jwt`): whose token their own sign-out only forgets. */
  get site() {
    return siteIdentity;
  },
};

/**
 * Renews the PC page's tokens in the background; `onSignedOut` when the server ended the session.
 * @param {() => void} onSignedOut
 */
export const keepPcFresh = (onSignedOut) => keepFresh(pcTokens, onSignedOut, PC_TOKEN_KEY);

/**
 * Renews the phone's own tokens in the background (a site's are the site's to renew).
 * @param {() => void} onSignedOut
 */
export const keepPhoneFresh = (onSignedOut) => keepFresh(accountTokens, onSignedOut, PHONE_TOKEN_KEY);

/**
 * The phone user is the site's own (`IDENTITY=jwt`); `arrived` is a token that the site's login
 * just sent back, if any.
 * @param {string | null} arrived
 */
export function useSiteTokens(arrived) {
  siteIdentity = true;
  if (arrived) siteTokens.save({ token: arrived });
}
