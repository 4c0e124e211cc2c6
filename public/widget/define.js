/**
 * @module
 * Registers `<qr-login>`. A page that loads the widget twice (say from two URLs) keeps the first
 * definition instead of failing.
 */
import { QrLoginElement } from './qr-login-element.js';

try {
  customElements.define('qr-login', QrLoginElement);
} catch (err) {
  if (!(err instanceof DOMException && err.name === 'NotSupportedError')) throw err;
}

export { QrLoginElement };
