/**
 * @module
 * The look of `<qr-login>`, applied inside its shadow root. Colours come in light and dark pairs
 * (`light-dark()`, so the element follows the host page's `color-scheme`) that meet WCAG AA: text
 * at least 4.5:1, control borders at least 3:1. They are the pages' palette (public/css/app.css:
 * --fg, --muted, --card, --border, --control-bg, --control-border, --accent-strong, --link),
 * copied because the element lives in other sites' pages too. The server's `SITE_ACCENT` comes in
 * as `--site-accent` and `--site-on-accent` (see `kit/brand.js`), on the controls and the focus
 * rings. The host page can change the accent and the font through `--qr-login-accent` and
 * `--qr-login-font` (and `--qr-login-on-accent`, `--qr-login-background`, `--qr-login-color`
 * when its accent needs another text colour).
 */

export const CSS = `
:host {
  /* Only the server's accent (a later sheet of this root), never one the host page's own CSS happens to define. */
  --site-accent: initial;
  --site-on-accent: initial;
  --_accent: var(--qr-login-accent, var(--site-accent, light-dark(#067d3c, #1f7a35)));
  --_on-accent: var(--qr-login-on-accent, var(--site-on-accent, #fff));
  --_bg: var(--qr-login-background, light-dark(#fff, #161b22));
  --_fg: var(--qr-login-color, light-dark(#1f2328, #e6edf3));
  --_muted: light-dark(#59636e, #9198a1);
  --_control-bg: light-dark(#fff, #21262d);
  --_control: light-dark(#818b98, #6e7681);
  --_line: light-dark(#d0d7de, #30363d);
  --_link: light-dark(#0969da, #58a6ff);
  --_ring: var(--site-accent, var(--_link));
  /* The QR's side: as large as 300 px, but never cut off by a short window (200 % zoom) or a narrow one. */
  --_size: clamp(180px, min(300px, calc(100vw - 60px), calc(100vh - 150px)), 300px);
  display: block;
  box-sizing: border-box;
  max-width: 100%;
  padding: 20px 16px;
  border: 1px solid var(--_line);
  border-radius: 12px;
  background: var(--_bg);
  color: var(--_fg);
  font-family: var(--qr-login-font, system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif);
  line-height: 1.5;
  text-align: center;
}
:host([hidden]) {
  display: none;
}
* {
  box-sizing: border-box;
}
[hidden] {
  display: none !important;
}
p {
  margin: 0;
}
.logo {
  display: flex;
  justify-content: center;
  margin: 0 0 12px;
}
.logo > * {
  display: block;
  height: 32px;
  width: auto;
  max-width: 100%;
}
.frame {
  position: relative;
  display: inline-block;
  padding: 12px;
  border: 1px solid var(--_line);
  border-radius: 12px;
  /* A QR code needs a light background to be read, in the dark look too. */
  background: #fff;
  line-height: 0;
}
.qr,
.skeleton,
.done {
  display: block;
  width: var(--_size);
  height: var(--_size);
}
.qr {
  border-radius: 2px;
  transition:
    opacity 0.2s,
    filter 0.2s;
}
.qr.empty {
  visibility: hidden;
}
.qr:focus {
  outline: none;
}
.qr:focus-visible {
  outline: 3px solid var(--_ring);
  outline-offset: 4px;
}
.frame.scanned .qr {
  opacity: 0.15;
}
.frame.ended .qr,
.frame.busy .qr {
  opacity: 0.2;
  filter: grayscale(1) blur(1px);
}
.skeleton {
  position: absolute;
  inset: 12px;
  border-radius: 4px;
  background: linear-gradient(100deg, #eaeef2 30%, #f6f8fa 50%, #eaeef2 70%) 0 0 / 300% 100%;
  animation: shimmer 1.4s linear infinite;
}
@keyframes shimmer {
  from {
    background-position: 100% 0;
  }
  to {
    background-position: 0 0;
  }
}
@media (prefers-reduced-motion: reduce) {
  .skeleton {
    animation: none;
  }
  .qr {
    transition: none;
  }
}
.overlay {
  position: absolute;
  inset: 12px;
  /* The code shows faintly through, so the name in front of it reads as well as on white. */
  background: rgb(255 255 255 / 0.82);
  display: flex;
  flex-direction: column;
  align-items: center;
  justify-content: center;
  gap: 8px;
  line-height: 1.3;
  color: #1f2328;
}
.done {
  display: flex;
  flex-direction: column;
  align-items: center;
  justify-content: center;
  gap: 12px;
  line-height: 1.3;
  color: #1f2328;
}
.name {
  font-size: 1.15rem;
  font-weight: 600;
  max-width: 100%;
  overflow-wrap: anywhere;
}
.avatar {
  display: inline-flex;
  align-items: center;
  justify-content: center;
  flex: none;
  width: 56px;
  height: 56px;
  border-radius: 50%;
  background: var(--_accent);
  color: var(--_on-accent);
  font-size: 1.6rem;
  font-weight: 600;
}
.avatar.big {
  width: 80px;
  height: 80px;
  font-size: 2.2rem;
}
.match {
  font-size: 0.95rem;
}
.match strong {
  display: block;
  font-size: 3rem;
  line-height: 1.1;
  letter-spacing: 0.1em;
  font-variant-numeric: tabular-nums;
}
.status {
  margin-top: 14px;
  font-size: 1.05rem;
  min-height: 1.5em;
}
/* No code to show (the page's origin is refused): the words stand alone. */
.frame[hidden] + .status {
  margin-top: 0;
}
.status:focus {
  outline: none;
}
.status:focus-visible {
  outline: 3px solid var(--_ring);
  outline-offset: 2px;
}
.count {
  font-variant-numeric: tabular-nums;
}
.timer,
.hint,
.dev-link,
.phone-note {
  color: var(--_muted);
  font-size: 0.9rem;
}
.timer {
  margin-top: 4px;
  font-variant-numeric: tabular-nums;
}
.timer:empty {
  display: none;
}
.phone-note {
  margin: 0 0 14px;
  padding: 10px 12px;
  border: 1px solid var(--_control);
  border-radius: 8px;
  color: var(--_fg);
  text-align: left;
}
button {
  font: inherit;
  font-size: 1rem;
  min-height: 44px;
  padding: 10px 20px;
  border-radius: 8px;
  border: 1px solid var(--_control);
  background: var(--_control-bg);
  color: var(--_fg);
  cursor: pointer;
  white-space: nowrap;
}
button.primary {
  background: var(--_accent);
  border-color: var(--_accent);
  color: var(--_on-accent);
  font-weight: 600;
}
button:hover {
  filter: brightness(0.95);
}
button:focus-visible,
a:focus-visible {
  outline: 3px solid var(--_ring);
  outline-offset: 2px;
}
.refresh {
  position: absolute;
  top: 50%;
  left: 50%;
  transform: translate(-50%, -50%);
  box-shadow: 0 2px 8px rgb(0 0 0 / 0.25);
  line-height: 1.3;
}
.retry,
.again {
  margin-top: 10px;
}
.typed {
  margin-top: 12px;
}
a {
  color: var(--_link);
  text-underline-offset: 2px;
}
.code {
  margin-top: 8px;
}
.user-code {
  margin-top: 4px;
  font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace;
  font-size: 1.6rem;
  font-weight: 700;
  letter-spacing: 0.12em;
}
.hint,
.dev-link {
  overflow-wrap: anywhere;
}
.dev-link {
  margin-top: 12px;
  font-size: 0.8rem;
}
.dev-link a {
  color: inherit;
}
.passkey-row {
  margin-top: 14px;
}
.passkey {
  font-weight: 600;
  white-space: normal;
}
.passkey:disabled {
  opacity: 0.6;
  cursor: default;
}
.passkey-error {
  margin-top: 8px;
  color: light-dark(#cf222e, #f85149);
  font-size: 0.95rem;
}
.passkey-error:empty {
  display: none;
}
`;

/**
 * One constructed style sheet shared by every element (a page's CSP does not stop these).
 * @type {CSSStyleSheet | null}
 */
let sheet = null;

/**
 * Puts the styles into `root`: adopted when the browser can, else (a browser of before 2023) a
 * `<style>` element, which a strict CSP would refuse.
 * @param {ShadowRoot} root
 */
export function applyStyles(root) {
  if ('adoptedStyleSheets' in root && typeof CSSStyleSheet === 'function' && 'replaceSync' in CSSStyleSheet.prototype) {
    sheet ??= new CSSStyleSheet();
    if (!sheet.cssRules.length) sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
    return;
  }
  const style = document.createElement('style');
  style.textContent = CSS;
  root.append(style);
}
