/**
 * @module
 * Riding out a lost connection, the same way on every page: the wait between tries doubles from
 * 1 s up to the caller's cap, every second of it can be shown, and it is cut short by "Retry
 * now", by the browser coming back online, or by the tab coming back into view. The pages differ
 * only in their `RetryPolicy`.
 */
import { isNetworkFailure } from './api.js';

/**
 * How a page retries.
 * @typedef {object} RetryPolicy
 * @property {number} maxSeconds the longest wait between two tries
 * @property {(status: number) => boolean} transient whether an answer means "not now" (a gateway, an outage) rather than an answer
 */

/**
 * What a page shows while it retries.
 * @typedef {object} RetryHooks
 * @property {() => boolean} [alive] false once the page has moved on: the tries stop and null is answered
 * @property {(left: number, now: () => void, answer: import('./api.js').Answer | null) => void} [waiting] each second of a wait; `now()` ends it at once ("Retry now"); `answer` is the transient answer that the wait follows, null after a network failure
 * @property {() => void} [trying] a try after a wait starts
 * @property {() => void} [recovered] an answer came after one or more waits
 */

/**
 * Seconds to wait after the failure of try `attempt` (0 for the first).
 * @param {RetryPolicy} policy
 * @param {number} attempt
 */
export const delaySeconds = (policy, attempt) => Math.min(2 ** attempt, policy.maxSeconds);

/**
 * Waits `seconds`, calling `onTick(left, now)` at once and whenever the whole seconds left change
 * (counted from the clock, so a throttled background tab still ends on time). `now()` ends the
 * wait at once.
 * @param {number} seconds
 * @param {(left: number, now: () => void) => void} onTick
 * @returns {Promise<void>}
 */
export function countdown(seconds, onTick) {
  return new Promise((resolve) => {
    const end = Date.now() + seconds * 1000;
    let shown = seconds;
    const now = () => {
      clearInterval(ticker);
      globalThis.removeEventListener('online', now);
      document.removeEventListener('visibilitychange', onVisible);
      resolve();
    };
    const onVisible = () => {
      if (document.visibilityState === 'visible') now();
    };
    const ticker = setInterval(() => {
      const left = Math.ceil((end - Date.now()) / 1000);
      if (left <= 0) now();
      else if (left !== shown) {
        shown = left;
        onTick(left, now);
      }
    }, 250);
    globalThis.addEventListener('online', now);
    document.addEventListener('visibilitychange', onVisible);
    onTick(seconds, now);
  });
}

/**
 * `request(attempt)` until it answers with a status the policy does not call transient, waiting
 * between tries as the policy says. A network failure or a timeout is tried again like a
 * transient answer; any other error is thrown. `retried` says that an earlier try may have
 * reached the server although its answer was lost.
 * @template {import('./api.js').Answer} A
 * @param {(attempt: number) => Promise<A>} request
 * @param {RetryPolicy} policy
 * @param {RetryHooks} [hooks]
 * @returns {Promise<(A & { retried: boolean }) | null>}
 */
export async function persist(request, policy, { alive = () => true, waiting, trying, recovered } = {}) {
  for (let attempt = 0; ; attempt++) {
    /** @type {A | null} */
    let res = null;
    try {
      res = await request(attempt);
    } catch (err) {
      if (!alive()) return null;
      if (!isNetworkFailure(err)) throw err;
    }
    if (!alive()) return null;
    if (res && !policy.transient(res.status)) {
      if (attempt > 0) recovered?.();
      return { ...res, retried: attempt > 0 };
    }
    const failed = res;
    await countdown(delaySeconds(policy, attempt), (left, now) => {
      if (alive()) waiting?.(left, now, failed);
    });
    if (!alive()) return null;
    trying?.();
  }
}
