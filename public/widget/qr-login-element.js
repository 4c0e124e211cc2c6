/**
 * @module
 * `<qr-login>`: the PC side of scan-to-login as one custom element, for the Worker's own page `/`
 * and for any site that embeds it. It asks the Worker (`server`) for a QR code, long-polls its
 * status (the server answers the moment something changes; nothing polls on a timer), says each
 * state in words in a `role="status"` region, and hands the login token to the page in a
 * `qr-login:login` event. It keeps no login token itself.
 */
import { call, isAbort } from './api.js';
import { backoffSeconds, countdown } from './retry.js';
import { browserLang, pickLang, STRINGS } from './strings.js';
import { applyStyles } from './styles.js';

const POLL_WAIT_S = 25;
/** A long-poll that has not answered well after `wait` went through a dead connection. */
const POLL_TIMEOUT_MS = (POLL_WAIT_S + 15) * 1000;
/** Phones (not tablets): they cannot scan a code on their own screen. */
const PHONE_UA = /Android.+Mobile|iPhone|iPod|Windows Phone|HarmonyOS.+Phone|Mobile Safari/i;
/** `/api/config` once per server: it does not change while a page is open. */
const configs = new Map();

/** Builds an element without innerHTML, so nothing from the server is ever parsed as markup. */
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : value);
  }
  el.append(...children.filter((c) => c !== null && c !== undefined));
  return el;
}

const setText = (el, text) => {
  if (el.textContent !== text) el.textContent = text;
};
const initial = (name) => [...(name ?? '').trim()][0]?.toUpperCase() ?? '?';

export class QrLoginElement extends HTMLElement {
  static observedAttributes = ['lang', 'server'];

  #root = null;
  /** The parts of the shadow tree that change; built once. */
  #ui = null;
  /** Bumped by every new session: work of an older one sees it and stops. */
  #generation = 0;
  #abort = new AbortController();
  #ticker = null;
  /** Ends the current retry countdown at once ("Retry now"). */
  #retryNow = null;
  /** What is shown: every render reads only this and the language. */
  #s = { phase: 'idle' };
  /** The server says it is a development one: the scan link is printed as text. */
  #development = false;
  /** What the page asked to be said before the next "waiting" (e.g. "You were signed out."). */
  #notice = '';

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
      this.#phoneQuery?.removeEventListener('change', this.#phoneChanged);
      this.#phoneQuery = null;
    });
  }

  attributeChangedCallback(name, before, after) {
    if (before === after || !this.#root) return;
    if (name === 'lang') this.#render();
    if (name === 'server' && this.isConnected) {
      this.#development = false;
      this.refresh({ focus: false });
    }
  }

  /** Starts over with a new QR code (what the Refresh button does). */
  refresh({ focus = true } = {}) {
    if (!this.isConnected) return;
    if (focus) this.#focusQr();
    this.#newSession();
  }

  /** Focus goes to the QR code, or to the status while there is none. */
  focus(options) {
    if (!this.#root) return super.focus(options);
    this.#focusQr(options);
  }

  #build() {
    this.#root = this.attachShadow({ mode: 'open' });
    applyStyles(this.#root);
    const ui = {};
    ui.box = h('div', { class: 'box', part: 'box' });
    ui.phoneNote = h('p', { class: 'phone-note', hidden: true });
    ui.img = h('img', { class: 'qr empty', part: 'qr', width: 300, height: 300, tabindex: '-1', alt: '' });
    ui.skeleton = h('div', { class: 'skeleton', 'aria-hidden': 'true' });
    ui.avatar = h('span', { class: 'avatar', 'aria-hidden': 'true' });
    ui.scannerName = h('span', { class: 'name' });
    ui.matchHint = h('span');
    ui.matchCode = h('strong');
    ui.match = h('p', { class: 'match' }, ui.matchHint, ui.matchCode);
    ui.overlay = h('div', { class: 'overlay', hidden: true }, ui.avatar, ui.scannerName, ui.match);
    ui.doneAvatar = h('span', { class: 'avatar big', 'aria-hidden': 'true' });
    ui.doneName = h('span', { class: 'name' });
    ui.done = h('div', { class: 'done', hidden: true }, ui.doneAvatar, ui.doneName);
    ui.refresh = h('button', {
      type: 'button',
      class: 'primary refresh',
      part: 'refresh',
      hidden: true,
      onclick: () => this.refresh(),
    });
    ui.frame = h('div', { class: 'frame', part: 'frame' }, ui.img, ui.skeleton, ui.overlay, ui.done, ui.refresh);
    ui.count = h('span', { class: 'count', 'aria-live': 'off' });
    ui.status = h('p', { class: 'status', part: 'status', role: 'status', 'aria-live': 'polite', tabindex: '-1' });
    ui.timer = h('p', { class: 'timer', part: 'timer' });
    ui.retryButton = h('button', { type: 'button', onclick: () => this.#retryNow?.() });
    ui.retry = h('p', { class: 'retry', hidden: true }, ui.retryButton);
    ui.again = h('button', { type: 'button', onclick: () => this.refresh() });
    ui.againRow = h('p', { class: 'again', hidden: true }, ui.again);
    ui.cantScan = h('a', {
      href: '#',
      class: 'cant-scan',
      part: 'typed-code-link',
      'aria-expanded': 'false',
      'aria-controls': 'typed-code',
      onclick: (event) => {
        event.preventDefault();
        this.#toggleTypedCode();
      },
    });
    ui.codeHint = h('p', { class: 'hint' });
    ui.userCode = h('p', { class: 'user-code' });
    ui.code = h('div', { class: 'code', id: 'typed-code', hidden: true }, ui.codeHint, ui.userCode);
    ui.typed = h('div', { class: 'typed', hidden: true }, h('p', {}, ui.cantScan), ui.code);
    ui.devText = h('span');
    ui.devUrl = h('a', { target: '_blank', rel: 'noopener' });
    ui.dev = h('p', { class: 'dev-link', hidden: true }, ui.devText, ' ', ui.devUrl);
    ui.box.append(ui.phoneNote, ui.frame, ui.status, ui.timer, ui.retry, ui.againRow, ui.typed, ui.dev);
    this.#root.append(ui.box);
    this.#ui = ui;
  }

  /** Stops everything of the current session: its requests, its timers, its countdown. */
  #stop() {
    this.#generation++;
    this.#abort.abort();
    this.#abort = new AbortController();
    clearInterval(this.#ticker);
    this.#ticker = null;
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
    // The old code stays greyed under the skeleton, so the space and the focus stay where they were.
    this.#s = { phase: 'loading', notice, oldImg: previous.qr?.img ?? previous.oldImg ?? null };
    this.#render();
    this.#loadConfig(mine);
    const res = await this.#request(mine, '/api/qrcodes', { method: 'POST' });
    if (!res) return;
    if (!res.ok) {
      this.#s = {
        phase: 'ended',
        end: res.status === 429 ? 'rateLimited' : 'failed',
        retryAfter: res.retryAfter || 60,
        oldImg: this.#s.oldImg,
      };
      this.#render();
      return;
    }
    const qr = res.body;
    this.#s = { phase: 'waiting', qr, version: qr.version, notice: this.#s.notice, typed: null };
    this.#startTimer();
    this.#render();
    this.#emitStatus({ status: qr.status, version: qr.version });
    await this.#poll(mine);
  }

  /**
   * Calls the Worker; on a network failure, a timeout or a 5xx waits with a visible countdown
   * and tries again, with `retryPath` when given (a long-poll retries as an immediate answer, so
   * that a server that is back is seen at once, not after a held poll). Null when a newer session
   * took over.
   */
  async #request(mine, path, options, retryPath = path) {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await call(this.server, attempt ? retryPath : path, { ...options, signal: this.#abort.signal });
        if (mine !== this.#generation) return null;
        if (res.status < 500) {
          if (this.#s.retry) {
            this.#s.retry = 0;
            this.#render();
          }
          return res;
        }
      } catch (err) {
        if (mine !== this.#generation || (isAbort(err) && this.#abort.signal.aborted)) return null;
      }
      const wait = countdown(backoffSeconds(attempt), (left) => {
        if (mine !== this.#generation) return;
        this.#s.retry = left;
        this.#render();
      });
      this.#retryNow = wait.now;
      await wait.done;
      if (mine !== this.#generation) return null;
      this.#retryNow = null;
    }
  }

  async #poll(mine) {
    for (;;) {
      const { qr, version } = this.#s;
      const status = `/api/qrcodes/${qr.qrcode_id}/status?after=${version}`;
      const res = await this.#request(
        mine,
        `${status}&wait=${POLL_WAIT_S}`,
        { pollToken: qr.poll_token, timeoutMs: POLL_TIMEOUT_MS },
        `${status}&wait=0`,
      );
      if (!res) return;
      if (res.status === 429) {
        await new Promise((resolve) => setTimeout(resolve, (res.retryAfter || 1) * 1000));
        if (mine !== this.#generation) return;
        continue;
      }
      // 410: the session is gone (expired and cleaned up, or its token already collected).
      if (res.status === 410) return this.#end('expired', { status: 'expired', version });
      if (!res.ok || !res.body) return this.#end('failed', null);
      const s = res.body;
      if (s.version === version) continue;
      this.#s.version = s.version;
      const detail = { status: s.status, version: s.version };
      if (s.scanner) detail.scanner = s.scanner;
      if (s.status === 'scan-wait-confirm') {
        Object.assign(this.#s, { phase: 'scanned', scanner: s.scanner ?? {}, match: s.match_code ?? null });
        this.#render();
        this.#emitStatus(detail);
      } else if (s.status === 'scan-confirm' && s.token) {
        clearInterval(this.#ticker);
        const user = s.user ?? s.scanner ?? {};
        const hadFocus = this.#hasFocus();
        Object.assign(this.#s, { phase: 'signed-in', user });
        this.#render();
        if (hadFocus) this.#ui.status.focus();
        this.#emitStatus(detail);
        this.dispatchEvent(
          new CustomEvent('qr-login:login', { bubbles: true, composed: true, detail: { token: s.token, user } }),
        );
        return;
      } else if (s.status === 'scan-cancel') {
        return this.#end(s.reason === 'match_failed' ? 'matchFailed' : 'cancelled', detail);
      } else if (s.status === 'expired' || s.status === 'scan-confirm') {
        // A confirmed session without a token was collected by another poll: this one is over.
        return this.#end('expired', detail);
      } else {
        this.#render();
        this.#emitStatus(detail);
      }
    }
  }

  /** The session is over: grey the code, say why, offer a new one (never a silent refresh). */
  #end(why, detail) {
    clearInterval(this.#ticker);
    Object.assign(this.#s, { phase: 'ended', end: why });
    this.#render();
    if (detail) this.#emitStatus(detail);
  }

  #emitStatus(detail) {
    this.dispatchEvent(new CustomEvent('qr-login:status', { bubbles: true, composed: true, detail }));
  }

  #startTimer() {
    clearInterval(this.#ticker);
    this.#ticker = setInterval(() => this.#renderTimer(), 1000);
  }

  async #loadConfig(mine) {
    const server = this.server;
    if (!configs.has(server)) {
      configs.set(
        server,
        call(server, '/api/config', {})
          .then((res) => (res.ok ? res.body : null))
          .catch(() => null)
          .then((config) => {
            // Not known now (offline, or an origin the Worker does not allow): ask again next time.
            if (!config) configs.delete(server);
            return config;
          }),
      );
    }
    const config = await configs.get(server);
    if (mine !== this.#generation || !config) return;
    this.#development = config.development === true;
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
    s.typed = { state: 'loading', open: true };
    this.#render();
    let res = null;
    try {
      res = await call(this.server, `/api/qrcodes/${qr.qrcode_id}/user-code`, {
        method: 'POST',
        pollToken: qr.poll_token,
        signal: this.#abort.signal,
      });
    } catch {
      res = null;
    }
    if (mine !== this.#generation) return;
    if (res?.ok && res.body?.user_code) {
      s.typed = { open: true, code: res.body.user_code, url: res.body.verification_url };
    } else if (res && (res.status === 404 || res.status === 405) && qr.user_code) {
      // A Worker from before codes on demand: its code came with the QR.
      s.typed = { open: true, code: qr.user_code, url: qr.verification_url };
    } else if (res?.status === 409 || res?.status === 410) {
      // Scanned or ended meanwhile: the long-poll is about to say so; no code is needed any more.
      s.typed = null;
    } else {
      s.typed = { state: 'failed', open: true };
    }
    this.#render();
  }

  /** Focus sits somewhere inside this element. */
  #hasFocus() {
    return this.#root?.activeElement != null;
  }

  #focusQr(options) {
    const { img, status } = this.#ui;
    if (!img.classList.contains('empty') && !img.hidden) img.focus(options);
    else status.focus(options);
  }

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
    if (!ui) return;
    const t = STRINGS[this.language];
    const s = this.#s;
    const { phase } = s;
    ui.box.lang = t.lang;
    // Whatever is about to disappear must not take the keyboard focus with it.
    const focused = this.#root.activeElement;

    // The QR code, or its skeleton while the first one loads, greyed once it cannot be used.
    const src = s.qr?.img ?? s.oldImg ?? '';
    if (src && ui.img.getAttribute('src') !== src) ui.img.src = src;
    ui.img.classList.toggle('empty', !src);
    ui.img.alt = src ? t.qrAlt : '';
    ui.img.hidden = phase === 'signed-in';
    ui.skeleton.hidden = phase !== 'loading';
    ui.frame.classList.toggle('busy', phase === 'loading' && Boolean(src));
    ui.frame.classList.toggle('scanned', phase === 'scanned');
    ui.frame.classList.toggle('ended', phase === 'ended');
    ui.frame.setAttribute('aria-busy', String(phase === 'loading'));

    const name = s.scanner?.display_name ?? '';
    ui.overlay.hidden = phase !== 'scanned';
    setText(ui.avatar, initial(name));
    setText(ui.scannerName, name);
    ui.match.hidden = !s.match;
    setText(ui.matchHint, t.matchHint);
    setText(ui.matchCode, s.match ?? '');

    ui.done.hidden = phase !== 'signed-in';
    setText(ui.doneAvatar, initial(s.user?.display_name));
    setText(ui.doneName, s.user?.display_name ?? '');

    ui.refresh.hidden = phase !== 'ended';
    setText(ui.refresh, t.refresh);
    ui.againRow.hidden = phase !== 'scanned';
    setText(ui.again, t.otherAccount);

    // The status says, in words, what is happening; a lost connection counts down inside it.
    if (s.retry) {
      const [before, after] = t.retrying.split('{n}');
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

    const scanUrl = s.qr?.scan_url;
    ui.dev.hidden = !(this.#development && scanUrl && (phase === 'waiting' || phase === 'scanned'));
    setText(ui.devText, t.devLink);
    if (scanUrl) {
      ui.devUrl.href = scanUrl;
      setText(ui.devUrl, scanUrl);
    }

    if (focused && focused !== ui.status && !this.#visible(focused)) this.#focusQr();
  }

  #visible(el) {
    for (let node = el; node && node !== this.#root; node = node.parentNode) if (node.hidden) return false;
    return !(el === this.#ui.img && el.classList.contains('empty'));
  }

  #statusText(t) {
    const s = this.#s;
    switch (s.phase) {
      case 'loading':
        return t.loading;
      case 'waiting':
        return s.notice ? `${s.notice} ${t.waiting}` : t.waiting;
      case 'scanned':
        return t.scanned(s.scanner?.display_name ?? '');
      case 'signed-in':
        return t.signedIn(s.user?.display_name ?? '');
      case 'ended':
        return s.end === 'rateLimited' ? t.rateLimited(s.retryAfter) : t[s.end];
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
    setText(this.#ui.timer, text);
  }
}
