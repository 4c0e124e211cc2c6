/**
 * @module
 * Images drawn in a way that a host page's strict Content-Security-Policy lets through, where
 * neither an `<img>` of a `data:` URL nor one from the Worker's origin may load: an SVG (the QR
 * code, an SVG logo) is rebuilt as inline SVG with DOM APIs, keeping only what draws (no script,
 * no style, no link out); a raster logo is drawn on a canvas.
 */

const SVG = 'http://www.w3.org/2000/svg';
const DRAWING = new Set([
  'g',
  'path',
  'rect',
  'circle',
  'ellipse',
  'line',
  'polyline',
  'polygon',
  'text',
  'tspan',
  'defs',
  'linearGradient',
  'radialGradient',
  'stop',
  'clipPath',
  'mask',
  'use',
  'symbol',
]);
/** Geometry and presentation attributes; never `style` (a CSP refuses it) nor an event handler. */
const ATTRIBUTE =
  /^(d|points|x[12]?|y[12]?|c[xy]|r[xy]?|f[xy]|dx|dy|width|height|viewBox|preserveAspectRatio|transform|offset|id|href|opacity|visibility|fill(-opacity|-rule)?|stroke(-[a-z]+)?|stop-(color|opacity)|clip-(path|rule)|mask|shape-rendering|vector-effect|gradient(Units|Transform)|spreadMethod|(clipPath|mask|pattern)Units|font-(family|size|weight|style)|text-anchor|dominant-baseline)$/;
/**
 * Whether an attribute refers to something outside the drawing (`href="https://…"`,
 * `fill="url(https://…)"`): only `#id` references are kept.
 * @param {string} name
 * @param {string} value
 */
const outside = (name, value) =>
  name === 'href' ? !value.trim().startsWith('#') : /url\(\s*['"]?\s*[^#\s'"]/.test(value);

/**
 * What a `data:` URL holds, and its type.
 * @param {string} url
 */
function dataUrlBytes(url) {
  const comma = url.indexOf(',');
  const meta = url.slice(5, comma);
  const payload = url.slice(comma + 1);
  const bytes = /;base64$/i.test(meta)
    ? Uint8Array.from(atob(payload), (c) => c.charCodeAt(0))
    : new TextEncoder().encode(decodeURIComponent(payload));
  return { type: meta.split(';')[0] ?? '', bytes };
}

/**
 * The text a `data:` URL holds (an SVG, say).
 * @param {string} url
 */
export const dataUrlText = (url) => new TextDecoder().decode(dataUrlBytes(url).bytes);

/**
 * What a `data:` URL holds, as a Blob of its type.
 * @param {string} url
 */
function dataUrlBlob(url) {
  const { type, bytes } = dataUrlBytes(url);
  return new Blob([bytes], { type });
}

/**
 * A copy of `node` made of drawing elements and attributes only; null for anything else.
 * @param {Node} node
 * @returns {Node | null}
 */
function drawingOf(node) {
  if (node.nodeType === Node.TEXT_NODE) return document.createTextNode(node.textContent ?? '');
  if (!(node instanceof Element) || node.namespaceURI !== SVG || !DRAWING.has(node.localName)) return null;
  const el = document.createElementNS(SVG, node.localName);
  for (const { localName, value } of node.attributes) {
    // `xlink:href` is written `href` since SVG 2; only a reference inside the drawing is kept.
    if (ATTRIBUTE.test(localName) && !outside(localName, value)) el.setAttribute(localName, value);
  }
  for (const child of node.childNodes) {
    const copy = drawingOf(child);
    if (copy) el.append(copy);
  }
  return el;
}

/**
 * Draws the SVG `source` into `target` (an `<svg>` of ours, which keeps its own attributes and
 * focus), instead of what it drew before. False when `source` is no SVG.
 * @param {SVGSVGElement} target
 * @param {string} source
 */
export function drawSvg(target, source) {
  const root = new DOMParser().parseFromString(source, 'image/svg+xml').documentElement;
  if (root.namespaceURI !== SVG || root.localName !== 'svg') return false;
  const size = [root.getAttribute('width'), root.getAttribute('height')].map((n) => Number.parseFloat(n ?? ''));
  const viewBox = root.getAttribute('viewBox') ?? (size.every((n) => n > 0) ? `0 0 ${size.join(' ')}` : null);
  if (viewBox) target.setAttribute('viewBox', viewBox);
  for (const name of ['preserveAspectRatio', 'shape-rendering', 'fill']) {
    const value = root.getAttribute(name);
    if (value) target.setAttribute(name, value);
    else target.removeAttribute(name);
  }
  target.replaceChildren(...[...root.childNodes].map(drawingOf).filter((n) => n !== null));
  return true;
}

/** An empty `<svg>` of ours. */
export const svgElement = () => document.createElementNS(SVG, 'svg');

/**
 * The site's logo as an image named `label` that a strict CSP lets through: inline SVG, or a
 * canvas for a raster image. `src` is a path of `server` (fetched with CORS, which the
 * host page's `connect-src` allows) or a `data:` URL. Null when it cannot be had or drawn.
 * @param {string} src
 * @param {string} server
 * @param {string} label
 * @returns {Promise<Element | null>}
 */
export async function logoImage(src, server, label) {
  try {
    let blob;
    if (src.startsWith('data:')) blob = dataUrlBlob(src);
    else {
      const res = await fetch(new URL(src, server));
      if (!res.ok) return null;
      blob = await res.blob();
    }
    /** @type {Element} */
    let image;
    if (blob.type.startsWith('image/svg+xml')) {
      image = svgElement();
      if (!drawSvg(/** @type {SVGSVGElement} */ (image), await blob.text())) return null;
    } else {
      const bitmap = await createImageBitmap(blob);
      const canvas = document.createElement('canvas');
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
      canvas.getContext('2d')?.drawImage(bitmap, 0, 0);
      bitmap.close();
      image = canvas;
    }
    image.setAttribute('role', 'img');
    image.setAttribute('aria-label', label);
    return image;
  } catch {
    return null;
  }
}
