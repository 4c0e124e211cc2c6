/**
 * @module
 * Building the pages' and the element's DOM without innerHTML, so that nothing the server says
 * is ever parsed as markup.
 */

/** @typedef {Node | string | null | undefined | false} Child */
/** @typedef {Child | Children[]} Children */

/**
 * The children to append: nested lists flattened, and null, undefined and false left out, so
 * that a view can write `cond ? h(…) : null`.
 * @param {Children[]} children
 * @param {(Node | string)[]} [out]
 */
function kids(children, out = []) {
  for (const child of children) {
    if (Array.isArray(child)) kids(child, out);
    else if (child !== null && child !== undefined && child !== false) out.push(child);
  }
  return out;
}

/**
 * An element: `class`, `on<event>` listeners, the element's own properties (`hidden`, `type`,
 * `href` …) and attributes for the rest (`aria-*`, `role`, `tabindex`, `for`); `true` is an
 * empty attribute, and null, undefined and false set nothing.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, unknown>} [props]
 * @param {...Children} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = String(value);
    else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    } else if (key in el && key !== 'role')
      /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (el))[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  el.append(...kids(children));
  return el;
}

/**
 * Replaces what `el` holds.
 * @param {Element} el
 * @param {...Children} children
 */
export function show(el, ...children) {
  el.replaceChildren(...kids(children));
}

/**
 * Sets the text of `el` only when it changes, so that a live region is not read out again.
 * @param {Node} el
 * @param {string} text
 */
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

/**
 * The first letter of a name, for an avatar (a whole character, also for Chinese or emoji).
 * @param {string | null | undefined} name
 */
export const initial = (name) => [...(name ?? '').trim()][0]?.toUpperCase() ?? '?';
