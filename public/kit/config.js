/**
 * @module
 * What `/api/config` says about a server, as the pages and the element read it: each field with
 * a default for a server that does not send it, and asked once per page and server.
 */
import { call } from './api.js';

/**
 * @typedef {object} Accent the site's accent (already checked by the server) and the colour of text on it
 * @property {string} color
 * @property {string} text
 */

/**
 * @typedef {object} Config
 * @property {boolean} development a local server: the demo accounts and the QR's link are shown
 * @property {boolean} match_code
 * @property {string} site_name
 * @property {'accounts' | 'jwt'} identity
 * @property {string | null} identity_login_url
 * @property {Accent | null} site_accent
 * @property {string | null} site_logo
 * @property {string | null} passkey_rp_id the passkeys' relying party (`PASSKEY_RP_ID`); null when they cannot be used
 */

const HEX = /^#[0-9a-f]{6}$/;

/**
 * A config answer's body as a `Config`.
 * @param {any} body
 * @returns {Config}
 */
export function readConfig(body) {
  const c = body && typeof body === 'object' ? body : {};
  const accent = c.site_accent;
  return {
    development: c.development === true,
    match_code: c.match_code === true,
    site_name: typeof c.site_name === 'string' && c.site_name ? c.site_name : 'QR Login',
    identity: c.identity === 'jwt' ? 'jwt' : 'accounts',
    identity_login_url: typeof c.identity_login_url === 'string' ? c.identity_login_url : null,
    // Only a #rrggbb pair ever reaches a style sheet.
    site_accent: HEX.test(accent?.color) && HEX.test(accent?.text) ? { color: accent.color, text: accent.text } : null,
    site_logo: typeof c.site_logo === 'string' && c.site_logo ? c.site_logo : null,
    passkey_rp_id: typeof c.passkey_rp_id === 'string' && c.passkey_rp_id ? c.passkey_rp_id : null,
  };
}

/** @type {Map<string, Promise<Config | null>>} */
const asked = new Map();

/**
 * `/api/config` of `server`, asked once per page; null while it cannot be had (offline, or a
 * page the server does not allow), and then asked again next time.
 * @param {string} server
 * @returns {Promise<Config | null>}
 */
export function serverConfig(server) {
  let answer = asked.get(server);
  if (!answer) {
    answer = call('/api/config', { server })
      .then((res) => (res.ok ? readConfig(res.body) : null))
      .catch(() => null)
      .then((config) => {
        if (!config) asked.delete(server);
        return config;
      });
    asked.set(server, answer);
  }
  return answer;
}
