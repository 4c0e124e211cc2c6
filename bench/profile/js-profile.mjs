/**
 * Where the isolate's time goes, from V8's sampling CPU profile (`inspect().stopCpuProfile()`),
 * by place: the source module of the bundle (`src/…`, or the package under `node_modules/`), or
 * the runtime's own function that the JavaScript called (`deleteAll()`, `put()`, `fetch()`…) and V8's
 * own entries (`(garbage collector)`, `(program)`). Self time: each sample goes to the function
 * running. The runtime work that a call does synchronously without a frame of its own (a
 * Durable Object stub's call that first makes the object, say) is counted in the calling
 * function, so each function also names its hottest line. Time outside JavaScript (sockets,
 * SQLite done off the JS thread, the runtime's event loop) is not in the profile: it is the rest
 * of the workerd CPU that the profile's CPU table shows.
 */

/** V8's entries that are not work: waiting, and the profile's own root. */
const NOT_WORK = new Set(['(idle)', '(root)']);

/**
 * The place of each line of an unminified esbuild bundle: its `// src/…` and
 * `// node_modules/…` markers, as a function of a 0-based line number.
 */
export function bundlePlaces(bundleText) {
  const lines = bundleText.split('\n');
  const marks = [];
  for (const [i, line] of lines.entries()) {
    // esbuild names each module by its path from the config's folder (`../../src/…` for the floor's).
    const m = /^\/\/ (\S+\.[cm]?[jt]s)$/.exec(line);
    if (m) marks.push([i, m[1].replace(/^(\.\.\/)+/, '').replace(/^node_modules\/((?:@[^/]+\/)?[^/]+).*$/, '$1')]);
  }
  const placeOf = (line) => {
    let [lo, hi, best] = [0, marks.length - 1, '(the bundle’s own code)'];
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (marks[mid][0] <= line) {
        best = marks[mid][1];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best;
  };
  return { placeOf, lineText: (n) => (lines[n - 1] ?? '').trim() };
}

/**
 * Sums `profile`'s self time (ms, from its `timeDeltas`) into `into`: `places` (place → ms) and
 * `functions` ("place function" → { ms, lines: line → samples }). Returns `into`.
 */
export function addProfile(profile, { placeOf }, into = { places: {}, functions: {} }) {
  const msOf = new Map();
  for (const [i, id] of profile.samples.entries()) msOf.set(id, (msOf.get(id) ?? 0) + profile.timeDeltas[i] / 1000);
  for (const node of profile.nodes) {
    const ms = msOf.get(node.id);
    const { functionName, url, lineNumber } = node.callFrame;
    if (!ms || NOT_WORK.has(functionName)) continue;
    // A runtime call is named with its parentheses (and so never as a key of Object.prototype).
    const native = !functionName ? '(runtime)' : functionName.startsWith('(') ? functionName : `${functionName}()`;
    const place = url ? placeOf(lineNumber) : native;
    into.places[place] = (into.places[place] ?? 0) + ms;
    if (!url) continue;
    // Anonymous functions are told apart by where they start in the bundle.
    const key = `${place} ${functionName || `(anonymous, bundle line ${lineNumber + 1})`}`;
    into.functions[key] ??= { ms: 0, lines: {} };
    const fn = into.functions[key];
    fn.ms += ms;
    for (const { line, ticks } of node.positionTicks ?? []) fn.lines[line] = (fn.lines[line] ?? 0) + ticks;
  }
  return into;
}

/** `sum` (as `addProfile` made it) per login, the hottest line of each function spelled out. */
export function perLogin({ places, functions }, logins, { lineText }) {
  const each = (ms) => ms / logins;
  return {
    places: Object.fromEntries(Object.entries(places).map(([k, ms]) => [k, each(ms)])),
    functions: Object.fromEntries(
      Object.entries(functions).map(([k, { ms, lines }]) => {
        const [line] = Object.entries(lines).sort((a, b) => b[1] - a[1])[0] ?? [];
        return [k, { ms: each(ms), hottest: line ? lineText(Number(line)) : null }];
      }),
    ),
  };
}
