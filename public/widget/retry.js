/**
 * @module
 * Waiting between tries after a lost connection: a short back-off whose every second can be
 * shown, cut short by "Retry now", by the browser coming back online, or by the tab coming back.
 */

/**
 * Seconds to wait before try n+1. Capped at 5 s so that a server that comes back is noticed
 * within 5 s (issue 12: it once took 12.8 s); no jitter, so the countdown shows whole seconds.
 */
const STEPS = [1, 2, 4, 5];
export const backoffSeconds = (attempt) => STEPS[Math.min(attempt, STEPS.length - 1)];

/**
 * Waits `seconds`, calling `onTick(left)` each second. Returns `{ done, now }`: `done` resolves
 * when the wait is over, `now()` ends it at once.
 */
export function countdown(seconds, onTick) {
  let now = () => {};
  const done = new Promise((resolve) => {
    let left = seconds;
    const finish = () => {
      clearInterval(ticker);
      globalThis.removeEventListener?.('online', finish);
      globalThis.document?.removeEventListener('visibilitychange', onVisible);
      resolve();
    };
    const onVisible = () => {
      if (document.visibilityState === 'visible') finish();
    };
    const ticker = setInterval(() => {
      left--;
      if (left <= 0) finish();
      else onTick(left);
    }, 1000);
    globalThis.addEventListener?.('online', finish);
    globalThis.document?.addEventListener('visibilitychange', onVisible);
    now = finish;
  });
  onTick(seconds);
  return { done, now: () => now() };
}
