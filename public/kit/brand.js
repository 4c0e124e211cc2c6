/**
 * @module
 * The site's accent (`SITE_ACCENT`, which the server has checked for contrast) on a page or in
 * the element: custom properties set by a constructed style sheet, which a strict CSP lets
 * through, unlike a `<style>` element or a `style` attribute. The style sheets name the
 * properties: `--site-accent` (controls, borders, focus rings) and `--site-on-accent` (text on it).
 */

/** @type {WeakMap<Document | ShadowRoot, CSSStyleSheet>} */
const added = new WeakMap();

/**
 * Gives `target` the accent, on `selector` (`:root` for a page, `:host` for the element); null
 * takes it away again. Without constructable style sheets (older browsers) the default look stays.
 * @param {Document | ShadowRoot} target
 * @param {import('./config.js').Accent | null} accent
 * @param {string} selector
 */
export function useAccent(target, accent, selector) {
  if (!('adoptedStyleSheets' in target) || !('replaceSync' in CSSStyleSheet.prototype)) return;
  let sheet = added.get(target);
  if (!sheet) {
    sheet = new CSSStyleSheet();
    added.set(target, sheet);
    target.adoptedStyleSheets = [...target.adoptedStyleSheets, sheet];
  }
  // The config has let only #rrggbb colours through (config.js): nothing else reaches this text.
  sheet.replaceSync(accent ? `${selector}{--site-accent:${accent.color};--site-on-accent:${accent.text}}` : '');
}
