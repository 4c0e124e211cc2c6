/**
 * @module
 * A signed-in page watches its session end (`GET /api/sessions/watch`), the same way on every
 * page and in `<qr-login>`: one request whose answer is a stream of server-sent events, held open
 * at no cost while nothing happens (the Worker waits on a hibernatable socket of the user's
 * object), and that says `event: ended` with `{ "ended": <sid>, "reason": … }` the moment the
 * session ends (signed out from the phone or another tab, a reused token, a disabled account, its
 * expiry). It is read with `fetch`, which sends the access token as every request does and which
 * a site's `connect-src <worker>` allows. The stream watches the session, not the token: it stays
 * open while the page renews its token, and needs a token again only to reconnect.
 *
 * A stream that ends without `ended` (a deploy, a network change) is opened again after a
 * back-off (1 s doubling to 60 s, with a random part so that many pages do not come back at
 * once), at once when the browser comes back online or the tab into view; one that carries
 * nothing, not even the server's keep-alive comment, for `SILENT_MS` went through a dead
 * connection and is opened again too. A 401 when opening says the session has already ended.
 */
import { authHeaders } from './dpop.js';

/** The server writes a comment every 30 s: a stream silent for longer than this is dead. */
const SILENT_MS = 75_000;
const MAX_WAIT_S = 60;

/**
 * Why a session ended: the server's reasons, or `unknown` (its end was learnt from a 401).
 * @typedef {'signed_out' | 'reused' | 'disabled' | 'expired' | 'too_many' | 'unknown'} EndReason
 */

const REASONS = ['signed_out', 'reused', 'disabled', 'expired', 'too_many'];

/**
 * @typedef {object} WatchOptions
 * @property {string} server the Worker's origin
 * @property {() => Promise<string | null>} token a current access token of the session; null: none (the watch stops, saying nothing)
 * @property {(reason: EndReason) => void} ended the session ended (said once; the watch is over)
 */

/**
 * The `ended` event of one block of the stream, or null.
 * @param {string} block lines up to a blank line
 * @returns {EndReason | null}
 */
function endedIn(block) {
  if (!/^event: ended$/m.test(block)) return null;
  try {
    const said = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? '');
    return REASONS.includes(said?.reason) ? said.reason : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Watches a session until it ends or `stop()` is called.
 * @param {WatchOptions} options
 * @returns {{ stop: () => void }}
 */
export function watchSession({ server, token, ended }) {
  const url = new URL('/api/sessions/watch', server);
  let stopped = false;
  /** @type {AbortController | null} the stream being read */
  let reading = null;
  let attempt = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;

  /** @param {EndReason} reason */
  const finish = (reason) => {
    if (stopped) return;
    stop();
    ended(reason);
  };

  async function open() {
    clearTimeout(timer);
    timer = undefined;
    if (stopped || reading) return;
    const mine = new AbortController();
    reading = mine;
    const current = await token().catch(() => null);
    if (stopped || reading !== mine) return;
    if (!current) return stop();
    let silent = setTimeout(() => mine.abort(), SILENT_MS);
    const since = Date.now();
    try {
      const res = await fetch(url, {
        headers: { ...(await authHeaders('GET', url, current)), Accept: 'text/event-stream' },
        cache: 'no-store',
        signal: mine.signal,
      });
      if (res.status === 401) return finish('unknown');
      if (!res.ok || !res.body) return;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        clearTimeout(silent);
        silent = setTimeout(() => mine.abort(), SILENT_MS);
        buffer += value;
        for (let at = buffer.indexOf('\n\n'); at >= 0; at = buffer.indexOf('\n\n')) {
          const reason = endedIn(buffer.slice(0, at));
          buffer = buffer.slice(at + 2);
          if (!reason) continue;
          // The server ends this stream itself: it is let be.
          reading = null;
          return finish(reason);
        }
      }
    } catch {
      // A lost connection, a dead one, or the watch stopped: tried again below unless stopped.
    } finally {
      clearTimeout(silent);
      // A stream that lived a while was a good connection: the next one is tried at once.
      if (Date.now() - since > SILENT_MS) attempt = 0;
      if (reading === mine) reading = null;
      later();
    }
  }

  /** The next try, after the back-off. */
  function later() {
    if (stopped || timer !== undefined || reading) return;
    const seconds = Math.min(2 ** attempt++, MAX_WAIT_S);
    timer = setTimeout(open, (seconds / 2 + (Math.random() * seconds) / 2) * 1000);
  }

  const now = () => {
    if (timer === undefined) return;
    attempt = 0;
    open();
  };
  const onVisible = () => {
    if (document.visibilityState === 'visible') now();
  };

  function stop() {
    stopped = true;
    clearTimeout(timer);
    globalThis.removeEventListener('online', now);
    document.removeEventListener('visibilitychange', onVisible);
    reading?.abort();
    reading = null;
  }

  globalThis.addEventListener('online', now);
  document.addEventListener('visibilitychange', onVisible);
  open();
  return { stop };
}
