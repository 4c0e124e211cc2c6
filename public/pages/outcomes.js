/**
 * @module
 * What this phone did with each QR code (confirmed or cancelled), so that opening the code
 * again (a reload, or the camera opening it in a new tab) says "signed in", not "expired":
 * once its token is delivered the server forgets the session, but the page knows what it did.
 * Kept in localStorage for an hour (a code lives minutes), then dropped.
 */
const KEY = 'qrlogin.phone.outcomes';
const KEEP_MS = 60 * 60 * 1000;
const OUTCOMES = new Set(['confirmed', 'cancelled']);

function read() {
  try {
    const all = JSON.parse(localStorage.getItem(KEY) ?? '{}');
    return all && typeof all === 'object' ? all : {};
  } catch {
    return {};
  }
}

/** @typedef {'confirmed' | 'cancelled'} Outcome */

/**
 * Records that this phone `outcome`d the QR `id`.
 * @param {string} id
 * @param {Outcome} outcome
 */
export function remember(id, outcome) {
  const now = Date.now();
  const all = read();
  for (const [key, entry] of Object.entries(all)) if (!(now - entry?.at <= KEEP_MS)) delete all[key];
  all[id] = { outcome, at: now };
  try {
    localStorage.setItem(KEY, JSON.stringify(all));
  } catch {
    // Without storage a reload asks the server, which then says the code is used or expired.
  }
}

/**
 * What this phone did with the QR `id` within the last hour, or null.
 * @param {string} id
 * @returns {Outcome | null}
 */
export function recall(id) {
  const entry = read()[id];
  return entry && Date.now() - entry.at <= KEEP_MS && OUTCOMES.has(entry.outcome) ? entry.outcome : null;
}
