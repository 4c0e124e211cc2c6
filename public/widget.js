/**
 * @module
 * The widget a site embeds: `<script type="module" src="https://<worker>/widget.js"></script>`,
 * then `<qr-login></qr-login>` anywhere in the page. Defines the element and exports its class.
 */
export { QrLoginElement } from './widget/define.js';
