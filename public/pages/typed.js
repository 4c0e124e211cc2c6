/**
 * @module
 * Which QR ids this tab reached by typing their code on /link rather than by scanning, so
 * that the confirm view can say how the code came (a link someone sent cannot claim "typed").
 */
/** @param {string} id */
const key = (id) => `qrlogin.typed.${id}`;

/** @param {string} id */
export function markTyped(id) {
  try {
    sessionStorage.setItem(key(id), '1');
  } catch {
    // Without storage the view says "scanned", as for a code opened any other way.
  }
}

/** @param {string} id */
export function wasTyped(id) {
  try {
    return sessionStorage.getItem(key(id)) === '1';
  } catch {
    return false;
  }
}
