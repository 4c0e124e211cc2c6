/** Tiny DOM helpers: build elements without innerHTML, so nothing from the server is ever parsed as markup. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key in el && key !== 'role') el[key] = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

/** Replaces the contents of `el`. */
export function show(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

/** The first letter of a name, for an avatar (a whole character, also for Chinese or emoji). */
export const initial = (name) => [...(name ?? '').trim()][0]?.toUpperCase() ?? '?';
