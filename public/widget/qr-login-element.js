/**
 * @module
 * `<qr-login>`: the PC side of scan-to-login as one custom element, for the Worker's own page `/`
 * and for any site that embeds it. It runs a login (`login.js`: the protocol), says each state in
 * words in a `role="status"` region, draws the QR code as inline SVG (so a host page's strict CSP
 * needs no `img-src`), and hands the login token to the page in a `qr-login:login` event. It
 * keeps no login token itself. With the `passkey` attribute it also offers "Use a passkey from
 * your phone": the browser's own cross-device sign-in (`hints: ["hybrid"]`), which checks that
 * the phone is near; its login comes in the same event, with `detail.via = "passkey"`.
 *
 * With the `dpop` attribute (the PC page sets it) the login is bound to this browser's DPoP key
 * (`kit/dpop.js`, RFC 9449): the event's detail says `token_type: "DPoP"`, the token is presented
 * with a proof of that key (`element.dpopProof(method, url, token)` makes one for the site's own
 * requests), and a copied token or poll token is worth nothing without it.
 *
 * Once signed in, while it stays on the page, it watches the new session (`kit/watch.js`): when
 * the session ends (the phone signs this computer out, say), it dispatches `qr-login:logout` with
 * `detail.reason`, says so in words, and shows a new code. It holds the login's access token in
 * memory only, to open that watch (and to open it again after a lost connection while the token
 * is valid; a page that renews the token may hand the new one over: `element.token = …`).
 *
 * The Worker's authorize page gives the element a `flow` (its codes, its passkey sign-in, its
 * client's name): such a login ends at the client, not with a token, so the element says
 * "Returning to <client>…" and hands the page the place to go in a `qr-login:redirect` event.
 * Over 400 lines: one custom element, whose state, rendering and ceremonies share its private
 * fields (the protocol and the strings live beside it, in login.js and strings.js).
 */

import { useAccent } from '../kit/brand.js';
import { serverConfig } from '../kit/config.js';
import { h, initial, setText } from '../kit/dom.js';
import { dpopProof } from '../kit/dpop.js';
import { browserLang, pickLang } from '../kit/lang.js';
import { passkeysUsable } from '../kit/passkey.js';
import { watchSession } from '../kit/watch.js';
import { dataUrlText, drawSvg, logoImage, svgElement } from './images.js';
import { passkeyLogin, qrLogin, typedCode } from './login.js';
import { endedKey, STRINGS } from './strings.js';
import { applyStyles } from './styles.js';

/** Phones (not tablets): they cannot scan a code on their own screen. */
const PHONE_UA = /Android.+Mobile|iPhone|iPod|Windows Phone|HarmonyOS.+Phone|Mobile Safari/i;

/** @typedef {import('./login.js').NewQr} NewQr */
/** @typedef {import('./login.js').User} User */
/** @typedef {import('./login.js').Step} Step */
/** @typedef {typeof STRINGS.en} Strings */

/**
 * A login that ends at an OpenID Connect client (the authorize page's): where its codes come
 * from, where a passkey's assertion goes, and the client's name, for the words.
 * @typedef {object} Flow
 * @property {import('./login.js').StartQr} start
 * @property {import('./login.js').FinishPasskey} passkey
 * @property {string} client
 */

/**
 * What is shown; every render reads only this and the language.
 * @typedef {object} View
 * @property {'idle' | 'loading' | 'waiting' | 'scanned' | 'signed-in' | 'leaving' | 'ended'} phase
 * @property {string} [notice] said before "waiting for a scan"
 * @property {ReturnType<typeof endedKey>} [endedWhy] the last session ended, and why: said before "waiting for a scan", in the current language
 * @property {NewQr} [qr]
 * @property {string | null} [oldImg] the previous code, greyed while the next one loads
 * @property {number} [retry] seconds to the next try after a lost connection; 0 when connected
 * @property {User} [scanner]
 * @property {string | null} [match]
 * @property {User} [user]
 * @property {import('./login.js').EndReason} [end]
 * @property {import('./login.js').LeaveReason} [leaving] why the browser goes back to the client
 * @property {number} [retryAfter]
 * @property {string} [origin] this page's origin, refused by the server
 * @property {{ state?: 'loading' | 'failed', open?: boolean, code?: string, url?: string } | null} [typed]
 */

/**
 * The parts of the shadow tree that change, built once.
 * @param {{ refresh: () => void, retryNow: () => void, toggleTypedCode: () => void, usePasskey: () => void }} on
 */
function buildParts(on) {
  const qr = svgElement();
  qr.setAttribute('class', 'qr empty');
  qr.setAttribute('part', 'qr');
  qr.setAttribute('tabindex', '-1');
  qr.setAttribute('aria-hidden', 'true');
  const p = {
    box: h('div', { class: 'box', part: 'box' }),
    logo: h('div', { class: 'logo', part: 'logo', hidden: true }),
    phoneNote: h('p', { class: 'phone-note', hidden: true }),
    qr,
    skeleton: h('div', { class: 'skeleton', 'aria-hidden': 'true' }),
    avatar: h('span', { class: 'avatar', 'aria-hidden': 'true' }),
    scannerName: h('span', { class: 'name' }),
    matchHint: h('span'),
    matchCode: h('strong'),
    doneAvatar: h('span', { class: 'avatar big', 'aria-hidden': 'true' }),
    doneName: h('span', { class: 'name' }),
    refresh: h('button', {
      type: 'button',
      class: 'primary refresh',
      part: 'refresh',
      hidden: true,
      onclick: on.refresh,
    }),
    count: h('span', { class: 'count', 'aria-live': 'off' }),
    status: h('p', { class: 'status', part: 'status', role: 'status', 'aria-live': 'polite', tabindex: '-1' }),
    timer: h('p', { class: 'timer', part: 'timer' }),
    retryButton: h('button', { type: 'button', onclick: on.retryNow }),
    again: h('button', { type: 'button', onclick: on.refresh }),
    cantScan: h('a', {
      href: '#',
      class: 'cant-scan',
      part: 'typed-code-link',
      'aria-expanded': 'false',
      'aria-controls': 'typed-code',
      /** @param {Event} event */
      onclick: (event) => {
        event.preventDefault();
        on.toggleTypedCode();
      },
    }),
    codeHint: h('p', { class: 'hint' }),
    userCode: h('p', { class: 'user-code' }),
    devText: h('span'),
    devUrl: h('a', { target: '_blank', rel: 'noopener' }),
    passkeyButton: h('button', { type: 'button', class: 'passkey', part: 'passkey-button', onclick: on.usePasskey }),
    passkeyError: h('p', { class: 'passkey-error', role: 'alert' }),
  };
  const match = h('p', { class: 'match' }, p.matchHint, p.matchCode);
  const overlay = h('div', { class: 'overlay', hidden: true }, p.avatar, p.scannerName, match);
  const done = h('div', { class: 'done', hidden: true }, p.doneAvatar, p.doneName);
  const frame = h('div', { class: 'frame', part: 'frame' }, p.qr, p.skeleton, overlay, done, p.refresh);
  const retry = h('p', { class: 'retry', hidden: true }, p.retryButton);
  const againRow = h('p', { class: 'again', hidden: true }, p.again);
  const code = h('div', { class: 'code', id: 'typed-code', hidden: true }, p.codeHint, p.userCode);
  const typed = h('div', { class: 'typed', hidden: true }, h('p', {}, p.cantScan), code);
  const dev = h('p', { class: 'dev-link', hidden: true }, p.devText, ' ', p.devUrl);
  const passkey = h('div', { class: 'passkey-row', hidden: true }, p.passkeyButton, p.passkeyError);
  p.box.append(p.logo, p.phoneNote, frame, p.status, p.timer, retry, againRow, typed, passkey, dev);
  return { ...p, match, overlay, done, frame, retry, againRow, code, typed, passkey, dev };
}

/** @typedef {ReturnType<typeof buildParts>} Parts */

export class QrLoginElement extends HTMLElement {
  static observedAttributes = ['lang', 'server', 'passkey'];

  /** @type {ShadowRoot | null} */
  #root = null;
  /** @type {Parts | null} */
  #ui = null;
  /** Bumped by every new session: work of an older one sees it and stops. */
  #generation = 0;
  #abort = new AbortController();
  /** @type {ReturnType<typeof setInterval> | undefined} */
  #ticker = undefined;
  /** @type {(() => void) | null} Ends the current retry countdown at once ("Retry now"). */
  #retryNow = null;
  /** @type {View} */
  #s = { phase: 'idle' };
  /** The server says it is a development one: the scan link is printed as text. */
  #development = false;
  /** What the page asked to be said before the next "waiting" (e.g. "You were signed out."). */
  #notice = '';
  /** The QR image drawn now (a data: URL), so that an unchanged one is not drawn again. */
  #drawn = '';
  /** The server whose logo is shown (or being fetched). */
  #logoFrom = '';
  /**
   * The server's config is known: a passkey can sign in, its own account's (`IDENTITY=accounts`)
   * or a site's user's who registered it on the phone (`IDENTITY=jwt`).
   */
  #passkeyServer = false;
  /** The passkeys' RP ID (`/api/config`): a page whose host is not under it cannot use them. */
  #rpId = /** @type {string | null} */ (null);
  /** A passkey sign-in under way, or why the last one did not happen. */
  #passkey =
    /** @type {{ busy: boolean, problem: import('./login.js').PasskeyProblem | null, retryAfter: number }} */ ({
      busy: false,
      problem: null,
      retryAfter: 0,
    });
  /** Ends a passkey ceremony under way (the element left the page). */
  #passkeyAbort = new AbortController();
  /** The signed-in session's watch, while the element is signed in. */
  #watch = /** @type {{ stop: () => void } | null} */ (null);
  /** The access token the watch opens with (in memory only): the login's, or one the page handed over. */
  #watchToken = /** @type {string | null} */ (null);
  /** Why the last session ended, for the next code's words. */
  #endedWhy = /** @type {ReturnType<typeof endedKey> | null} */ (null);
  /** @type {Flow | null} */
  #flow = null;

  /** The authorize page's login (see `Flow`), set before the element joins the page; null for a QR login. */
  get flow() {
    return this.#flow;
  }

  set flow(flow) {
    this.#flow = flow ?? null;
    this.#render();
  }

  /** The Worker's origin: the `server` attribute, else the origin this script came from. */
  get server() {
    const attr = this.getAttribute('server');
    try {
      return new URL(attr || import.meta.url).origin;
    } catch {
      return new URL(import.meta.url).origin;
    }
  }

  /** `zh-CN` or `en`: the `lang` attribute, else the browser's language. */
  get language() {
    const attr = this.getAttribute('lang');
    return attr ? pickLang(attr) : browserLang();
  }

  /**
   * A sentence said before "waiting for a scan" (the page's news, e.g. "You were signed out."):
   * for the code being shown or loaded, else for the next one. Nothing once the code was scanned.
   */
  set notice(text) {
    const said = String(text ?? '');
    if (this.#s.phase === 'idle') this.#notice = said;
    else if (this.#s.phase === 'waiting' || this.#s.phase === 'loading') {
      this.#s.notice = said;
      this.#render();
    }
  }

  get notice() {
    return this.#s.notice ?? '';
  }

  /**
   * A current access token of the session this element signed in, for the page that renews it:
   * the element's watch of the session needs one only to open again after a lost connection.
   * @param {string | null} value
   */
  set token(value) {
    if (typeof value === 'string' && value) this.#watchToken = value;
  }

  connectedCallback() {
    if (!this.#root) this.#build();
    // Moved within the page (disconnected and connected in one go): the session goes on.
    if (this.#s.phase === 'idle') this.refresh({ focus: false });
    this.#watchPhone();
  }

  disconnectedCallback() {
    queueMicrotask(() => {
      if (this.isConnected) return;
      this.#stop();
      this.#passkeyAbort.abort();
      this.#passkeyAbort = new AbortController();
      this.#passkey = { busy: false, problem: null, retryAfter: 0 };
      this.#phoneQuery?.removeEventListener('change', this.#phoneChanged);
      this.#phoneQuery = null;
    });
  }

  /**
   * @param {string} name
   * @param {string | null} before
   * @param {string | null} after
   */
  attributeChangedCallback(name, before, after) {
    if (before === after || !this.#root) return;
    if (name === 'lang' || name === 'passkey') this.#render();
    if (name === 'server' && this.isConnected) {
      this.#development = false;
      this.refresh({ focus: false });
    }
  }

  /**
   * A DPoP proof of this browser's key for the site's own request (`method` on `url`, with the
   * access token it carries), for a login made with `dpop`: send it in the `DPoP` header beside
   * `Authorization: DPoP <token>`. Null where the browser has no key (the token is then a
   * bearer token).
   * @param {string} method
   * @param {string | URL} url
   * @param {string} [accessToken]
   * @returns {Promise<string | null>}
   */
  dpopProof(method, url, accessToken) {
    return dpopProof(method, url, accessToken);
  }

  /** Starts over with a new QR code (what the Refresh button does). */
  refresh({ focus = true } = {}) {
    if (!this.isConnected) return;
    if (focus) this.#focusQr();
    this.#newSession();
  }

  /**
   * Focus goes to the QR code, or to the status while there is none.
   * @override
   * @param {FocusOptions} [options]
   */
  focus(options) {
    if (!this.#root) return super.focus(options);
    this.#focusQr(options);
  }

  #build() {
    this.#root = this.attachShadow({ mode: 'open' });
    applyStyles(this.#root);
    this.#ui = buildParts({
      refresh: () => this.refresh(),
      retryNow: () => this.#retryNow?.(),
      toggleTypedCode: () => this.#toggleTypedCode(),
      usePasskey: () => this.#usePasskey(),
    });
    this.#root.append(this.#ui.box);
  }

  /** Stops everything of the current session: its requests, its timers, its countdown, its watch. */
  #stop() {
    this.#watch?.stop();
    this.#watch = null;
    this.#watchToken = null;
    this.#generation++;
    this.#abort.abort();
    this.#abort = new AbortController();
    clearInterval(this.#ticker);
    this.#ticker = undefined;
    this.#retryNow?.();
    this.#retryNow = null;
    this.#s = { phase: 'idle' };
  }

  async #newSession() {
    const previous = this.#s;
    this.#stop();
    const mine = this.#generation;
    const notice = this.#notice;
    this.#notice = '';
    const endedWhy = this.#endedWhy ?? undefined;
    this.#endedWhy = null;
    if (!this.#passkey.busy) this.#passkey.problem = null;
    // The old code stays greyed under the skeleton, so the space and the focus stay where they were.
    this.#s = { phase: 'loading', notice, endedWhy, oldImg: previous.qr?.img ?? previous.oldImg ?? null };
    this.#render();
    this.#loadConfig(mine);
    const steps = qrLogin(
      this.server,
      this.#abort.signal,
      {
        waiting: (left, now) => {
          this.#s.retry = left;
          this.#retryNow = now;
          this.#render();
        },
        recovered: () => {
          this.#s.retry = 0;
          this.#retryNow = null;
          this.#render();
        },
      },
      this.#flow?.start,
      // `dpop`: the login is bound to this browser's key (the PC page sets it; a site opts in).
      !this.#flow?.start && this.hasAttribute('dpop'),
    );
    for await (const step of steps) {
      if (mine !== this.#generation) return;
      this.#take(step);
    }
  }

  /** @param {Step} step */
  #take(step) {
    if (step.kind === 'code') {
      this.#s = { phase: 'waiting', qr: step.qr, notice: this.#s.notice, endedWhy: this.#s.endedWhy, typed: null };
      this.#startTimer();
      this.#render();
      this.#emitStatus({ status: step.qr.status, version: step.qr.version });
    } else if (step.kind === 'status') {
      const s = step.status;
      if (s.status === 'scan-wait-confirm') {
        Object.assign(this.#s, { phase: 'scanned', scanner: s.scanner ?? {}, match: s.match_code ?? null });
      }
      this.#render();
      this.#emitStatus(statusDetail(s));
    } else if (step.kind === 'login') {
      clearInterval(this.#ticker);
      // Signed in by the QR: a passkey ceremony still open in the browser has nothing left to do.
      this.#passkeyAbort.abort();
      this.#passkeyAbort = new AbortController();
      this.#signedIn(step.status, () => this.#emitStatus(statusDetail(step.status)));
    } else if (step.kind === 'leave') {
      const { status } = step;
      this.#leave(step.why, step.to, status?.scanner, () => status && this.#emitStatus(statusDetail(status)));
    } else {
      // The session is over: grey the code, say why, offer a new one (never a silent refresh).
      clearInterval(this.#ticker);
      Object.assign(this.#s, { phase: 'ended', end: step.why, retryAfter: step.retryAfter, origin: step.origin });
      this.#render();
      if (step.status) this.#emitStatus(statusDetail(step.status));
    }
  }

  /**
   * Signed in, by the QR or by a passkey (`via`): say so, then hand the tokens to the page.
   * @param {import('./login.js').Status} s the answer that carries the tokens
   * @param {() => void} before what to tell the page first (the QR's last status)
   * @param {string} [via] said in the event's detail for a login that is not the QR's
   */
  #signedIn(s, before, via) {
    const user = s.user ?? s.scanner ?? {};
    const hadFocus = this.#root?.activeElement != null;
    Object.assign(this.#s, { phase: 'signed-in', user });
    this.#render();
    if (hadFocus) this.#ui?.status.focus();
    before();
    /** @type {Record<string, unknown>} */
    const detail = { token: s.token, user };
    // A Worker that issues refresh tokens hands them over beside the access token.
    if (s.refresh_token !== undefined) detail.refresh_token = s.refresh_token;
    if (s.expires_in !== undefined) detail.expires_in = s.expires_in;
    // Bound to this browser's DPoP key: the site presents it with `dpopProof` (RFC 9449).
    if (s.token_type === 'DPoP') detail.token_type = 'DPoP';
    if (via) detail.via = via;
    this.dispatchEvent(new CustomEvent('qr-login:login', { bubbles: true, composed: true, detail }));
    // A page that took the element away (as the PC page does) watches the session itself.
    if (this.isConnected && this.#s.phase === 'signed-in' && typeof s.token === 'string') this.#watchSession(s.token);
  }

  /**
   * Watches the session just signed in: when it ends, the page hears `qr-login:logout` with the
   * reason, and the element says so above a new code.
   * @param {string} token
   */
  #watchSession(token) {
    this.#watch?.stop();
    this.#watchToken = token;
    const server = this.server;
    const mine = this.#generation;
    this.#watch = watchSession({
      server,
      // Only a token still valid for a minute opens a socket; an older one ends the watch quietly.
      token: async () => {
        const held = this.#watchToken;
        return held && expiresAt(held) - Date.now() > 60_000 ? held : null;
      },
      ended: (reason) => {
        if (mine !== this.#generation) return;
        this.#watch = null;
        this.dispatchEvent(new CustomEvent('qr-login:logout', { bubbles: true, composed: true, detail: { reason } }));
        if (!this.isConnected || mine !== this.#generation) return;
        this.#endedWhy = endedKey(reason);
        this.refresh({ focus: false });
      },
    });
  }

  /**
   * The login ends at the client (the authorize page's): say why and where the browser goes,
   * then hand the page the place to go. A confirmed login shows who signed in.
   * @param {import('./login.js').LeaveReason} why
   * @param {string} to
   * @param {User | undefined} user
   * @param {() => void} before what to tell the page first (the QR's last status)
   */
  #leave(why, to, user, before) {
    clearInterval(this.#ticker);
    if (why === 'confirmed') {
      this.#passkeyAbort.abort();
      this.#passkeyAbort = new AbortController();
    }
    const hadFocus = this.#root?.activeElement != null;
    Object.assign(this.#s, { phase: 'leaving', leaving: why, user: user ?? {}, retry: 0 });
    this.#render();
    if (hadFocus) this.#ui?.status.focus();
    before();
    this.dispatchEvent(
      new CustomEvent('qr-login:redirect', { bubbles: true, composed: true, detail: { redirect_to: to, why } }),
    );
  }

  /**
   * "Use a passkey from your phone": the browser's cross-device sign-in. On success the code on
   * screen is let go (nobody needs it) and the page gets its login; otherwise the code stays,
   * and the words say why.
   */
  async #usePasskey() {
    if (this.#passkey.busy || this.#s.phase === 'signed-in') return;
    // A page outside the RP ID (or on an IP address) is told so, not sent to a ceremony that must fail.
    const usable = passkeysUsable(this.#rpId);
    this.#passkey = { busy: usable, problem: usable ? null : 'unavailable', retryAfter: 0 };
    this.#render();
    if (!usable) return;
    const result = await passkeyLogin(this.server, this.#passkeyAbort.signal, this.#flow?.passkey);
    this.#passkey.busy = false;
    // Meanwhile the element may have left the page, or the QR signed someone in.
    const { phase } = /** @type {View} */ (this.#s);
    if (!this.isConnected || phase === 'signed-in' || phase === 'leaving') return;
    if (!result.ok) {
      this.#passkey.problem = result.why;
      this.#passkey.retryAfter = result.retryAfter ?? 0;
      this.#render();
      this.#ui?.passkeyButton.focus();
      return;
    }
    this.#stop();
    const to = result.answer.redirect_to;
    if (typeof to === 'string') {
      // An error in the answer's place to go: the request grew too old while the passkey was used.
      const why = new URL(to, location.href).searchParams.has('error') ? 'denied' : 'confirmed';
      this.#s = { phase: 'leaving' };
      this.#leave(why, to, result.answer.user, () => {});
      return;
    }
    this.#s = { phase: 'signed-in' };
    this.#signedIn(result.answer, () => {}, 'passkey');
  }

  /** @param {{ status: string, version: number, scanner?: User }} detail */
  #emitStatus(detail) {
    this.dispatchEvent(new CustomEvent('qr-login:status', { bubbles: true, composed: true, detail }));
  }

  #startTimer() {
    clearInterval(this.#ticker);
    this.#ticker = setInterval(() => this.#renderTimer(), 1000);
  }

  /** @param {number} mine */
  async #loadConfig(mine) {
    const server = this.server;
    const config = await serverConfig(server);
    if (mine !== this.#generation || !config || !this.#root || !this.#ui) return;
    this.#development = config.development;
    this.#passkeyServer = true;
    this.#rpId = config.passkey_rp_id;
    useAccent(this.#root, config.site_accent, ':host');
    if (this.#logoFrom !== server) {
      this.#logoFrom = server;
      const { logo } = this.#ui;
      // Not tied to the code's session: a refresh meanwhile must not lose the logo.
      const image = config.site_logo ? await logoImage(config.site_logo, server, config.site_name) : null;
      if (this.#logoFrom !== server) return;
      logo.replaceChildren(...(image ? [image] : []));
      logo.hidden = !image;
    }
    this.#render();
  }

  async #toggleTypedCode() {
    const s = this.#s;
    if (s.typed?.code || s.typed?.state === 'loading') {
      if (s.typed.code) s.typed.open = !s.typed.open;
      this.#render();
      return;
    }
    const mine = this.#generation;
    const { qr } = s;
    if (!qr) return;
    s.typed = { state: 'loading', open: true };
    this.#render();
    const got = await typedCode(this.server, qr, this.#abort.signal);
    if (mine !== this.#generation) return;
    s.typed = got === 'failed' ? { state: 'failed', open: true } : got && { open: true, ...got };
    this.#render();
  }

  /** @param {FocusOptions} [options] */
  #focusQr(options) {
    const ui = this.#ui;
    if (!ui) return;
    if (!ui.qr.classList.contains('empty')) ui.qr.focus(options);
    else ui.status.focus(options);
  }

  /** @type {MediaQueryList | null} */
  #phoneQuery = null;
  #phoneChanged = () => this.#render();

  #watchPhone() {
    if (this.#phoneQuery || typeof matchMedia !== 'function') return;
    this.#phoneQuery = matchMedia('(max-width: 640px) and (pointer: coarse)');
    this.#phoneQuery.addEventListener('change', this.#phoneChanged);
  }

  #onPhone() {
    return PHONE_UA.test(navigator.userAgent) || this.#phoneQuery?.matches === true;
  }

  /** Puts the state into words and pixels. Reads only `#s` and the language. */
  #render() {
    const ui = this.#ui;
    if (!ui || !this.#root) return;
    const t = STRINGS[this.language];
    const s = this.#s;
    const { phase } = s;
    // Signed in: by the QR or a passkey, here (a token) or at the client (a code).
    const done = phase === 'signed-in' || (phase === 'leaving' && s.leaving === 'confirmed');
    const ended = phase === 'ended' || (phase === 'leaving' && s.leaving !== 'confirmed');
    ui.box.lang = t.lang;
    // Whatever is about to disappear must not take the keyboard focus with it.
    const focused = this.#root.activeElement;

    // The QR code, or its skeleton while the first one loads, greyed once it cannot be used.
    const src = s.qr?.img ?? s.oldImg ?? '';
    if (src && src !== this.#drawn) {
      this.#drawn = src;
      drawSvg(ui.qr, dataUrlText(src));
    }
    ui.qr.classList.toggle('empty', !src);
    if (src) {
      ui.qr.setAttribute('role', 'img');
      ui.qr.setAttribute('aria-label', t.qrAlt);
      ui.qr.removeAttribute('aria-hidden');
    }
    ui.qr.toggleAttribute('hidden', done);
    // Refused by the server: no code will come.
    ui.frame.hidden = s.end === 'origin';
    if (done || !src) {
      ui.qr.removeAttribute('role');
      ui.qr.removeAttribute('aria-label');
      ui.qr.setAttribute('aria-hidden', 'true');
    }
    ui.skeleton.hidden = phase !== 'loading';
    ui.frame.classList.toggle('busy', phase === 'loading' && Boolean(src));
    ui.frame.classList.toggle('scanned', phase === 'scanned');
    ui.frame.classList.toggle('ended', ended);
    ui.frame.setAttribute('aria-busy', String(phase === 'loading'));

    const name = s.scanner?.display_name ?? '';
    ui.overlay.hidden = phase !== 'scanned';
    setText(ui.avatar, initial(name));
    setText(ui.scannerName, name);
    ui.match.hidden = !s.match;
    setText(ui.matchHint, t.matchHint);
    setText(ui.matchCode, s.match ?? '');

    ui.done.hidden = !done;
    ui.doneAvatar.hidden = !s.user?.display_name;
    setText(ui.doneAvatar, initial(s.user?.display_name));
    setText(ui.doneName, s.user?.display_name ?? '');

    ui.refresh.hidden = phase !== 'ended' || s.end === 'origin';
    setText(ui.refresh, t.refresh);
    ui.againRow.hidden = phase !== 'scanned';
    setText(ui.again, t.otherAccount);

    // The status says, in words, what is happening; a lost connection counts down inside it.
    if (s.retry) {
      const [before = '', after = ''] = t.retrying.split('{n}');
      setText(ui.count, String(s.retry));
      if (ui.status.firstChild?.textContent !== before || !ui.status.contains(ui.count)) {
        ui.status.replaceChildren(before, ui.count, after);
      }
    } else {
      setText(ui.status, this.#statusText(t));
    }
    ui.retry.hidden = !s.retry;
    setText(ui.retryButton, t.retryNow);
    this.#renderTimer();

    // The code to type: on demand, while nobody has scanned.
    const typedOpen = phase === 'waiting' && s.typed?.open;
    ui.typed.hidden = phase !== 'waiting';
    setText(ui.cantScan, t.cantScan);
    ui.cantScan.href = `${this.server}/link`;
    ui.cantScan.setAttribute('aria-expanded', String(Boolean(typedOpen)));
    ui.code.hidden = !typedOpen;
    if (s.typed?.code) {
      setText(ui.codeHint, t.noCamera(s.typed.url ?? `${this.server}/link`));
      setText(ui.userCode, s.typed.code);
    } else {
      setText(ui.codeHint, s.typed?.state === 'failed' ? t.codeFailed : t.codeLoading);
      setText(ui.userCode, '');
    }
    ui.userCode.hidden = !s.typed?.code;

    ui.phoneNote.hidden = !(this.#onPhone() && (phase === 'waiting' || phase === 'loading'));
    setText(ui.phoneNote, t.onPhone);

    this.#renderPasskey(t);

    const scanUrl = s.qr?.scan_url;
    ui.dev.hidden = !(this.#development && scanUrl && (phase === 'waiting' || phase === 'scanned'));
    setText(ui.devText, t.devLink);
    if (scanUrl) {
      ui.devUrl.href = scanUrl;
      setText(ui.devUrl, scanUrl);
    }

    if (focused && focused !== ui.status && !this.#visible(focused)) this.#focusQr();
  }

  /**
   * The passkey button: asked for (`passkey`), usable (this browser, this server), and only while
   * the code waits for a scan or has ended (someone who scanned is confirming on their phone).
   * @param {Strings} t
   */
  #renderPasskey(t) {
    const ui = this.#ui;
    if (!ui) return;
    const { phase, end } = this.#s;
    const wanted = this.hasAttribute('passkey') && this.#passkeyServer && typeof PublicKeyCredential === 'function';
    ui.passkey.hidden = !wanted || !(phase === 'waiting' || (phase === 'ended' && end !== 'origin'));
    setText(ui.passkeyButton, t.usePasskey);
    ui.passkeyButton.disabled = this.#passkey.busy;
    const { problem, retryAfter } = this.#passkey;
    const words = {
      cancelled: t.passkeyCancelled,
      refused: t.passkeyRefused,
      unavailable: t.passkeyUnavailable,
      failed: t.passkeyFailed,
      rateLimited: t.passkeyRateLimited(retryAfter || 60),
    };
    setText(ui.passkeyError, problem ? words[problem] : '');
  }

  /** @param {Element} el */
  #visible(el) {
    /** @type {Node | null} */
    let node = el;
    for (; node && node !== this.#root; node = node.parentNode) {
      if (node instanceof Element && node.hasAttribute('hidden')) return false;
    }
    return !(el === this.#ui?.qr && el.classList.contains('empty'));
  }

  /** @param {Strings} t */
  #statusText(t) {
    const s = this.#s;
    switch (s.phase) {
      case 'loading':
        return t.loading;
      case 'waiting': {
        const notice = s.endedWhy ? t[s.endedWhy] : s.notice;
        return notice ? `${notice} ${t.waiting}` : t.waiting;
      }
      case 'scanned':
        return t.scanned(s.scanner?.display_name ?? '');
      case 'signed-in':
        return t.signedIn(s.user?.display_name ?? '');
      case 'leaving':
        return t.returning[s.leaving ?? 'denied'](this.#flow?.client ?? '', s.user?.display_name ?? '');
      case 'ended':
        if (s.end === 'rateLimited') return t.rateLimited(s.retryAfter ?? 60);
        if (s.end === 'origin') return t.originRefused(s.origin ?? location.origin, this.server);
        return t[s.end ?? 'failed'];
      default:
        return '';
    }
  }

  #renderTimer() {
    const s = this.#s;
    let text = '';
    if ((s.phase === 'waiting' || s.phase === 'scanned') && s.qr) {
      const left = Math.max(0, Math.round((Date.parse(s.qr.expires_at) - Date.now()) / 1000));
      text = STRINGS[this.language].timeLeft(left);
    }
    if (this.#ui) setText(this.#ui.timer, text);
  }
}

/**
 * When an access token expires (epoch ms), from its `exp`; 0 when it cannot be read.
 * @param {string} token
 */
function expiresAt(token) {
  try {
    const part = token.split('.')[1] ?? '';
    const json = atob(
      part
        .replace(/-/g, '+')
        .replace(/_/g, '/')
        .padEnd(Math.ceil(part.length / 4) * 4, '='),
    );
    return Number(JSON.parse(json).exp) * 1000 || 0;
  } catch {
    return 0;
  }
}

/**
 * The detail of `qr-login:status`: the status and version, and who scanned once someone did.
 * @param {{ status: string, version: number, scanner?: User }} s
 */
function statusDetail(s) {
  return s.scanner
    ? { status: s.status, version: s.version, scanner: s.scanner }
    : { status: s.status, version: s.version };
}
