/**
 * The tables of `npm run bench:profile` (bench/profile.mjs) as Markdown.
 */

const f = (x, digits = 1) => (x === null || x === undefined || Number.isNaN(x) ? '–' : Number(x).toFixed(digits));
const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const total = (obj) => sum(Object.values(obj));

/** `LoginSession 1, LoginSession alarms 1` from `{ kind: n }`, or `–`. */
const listing = (obj, fmt = (n) => f(n, n % 1 ? 2 : 0)) =>
  Object.entries(obj)
    .filter(([, n]) => n)
    .map(([k, n]) => `${k} ${fmt(n)}`)
    .join(', ') || '–';

const none = {
  step: '',
  cpuMsMedian: null,
  cpuMsMean: null,
  kernelMsMean: null,
  commitsPerLogin: {},
  walsClosedPerLogin: null,
};

function cpuTable(r, sequence, p) {
  const app = r.servers.app?.cpu?.[sequence] ?? [];
  const floor = r.servers.floor?.cpu?.[sequence] ?? [];
  if (!app.length && !floor.length) return;
  p(
    '| request | app: workerd CPU, median (mean; of it in the kernel) | floor | app: SQLite commits (where) | floor | app: databases closed or emptied |',
    '|---|---|---|---|---|---|',
  );
  for (let i = 0; i < Math.max(app.length, floor.length); i++) {
    const a = app[i] ?? { ...none, step: floor[i].step };
    const b = floor[i] ?? none;
    p(
      `| ${a.step} | ${f(a.cpuMsMedian, 2)} (${f(a.cpuMsMean, 2)}; ${f(a.kernelMsMean, 1)}) ms | ${f(b.cpuMsMedian, 2)} (${f(b.cpuMsMean, 2)}; ${f(b.kernelMsMean, 1)}) ms | ${f(total(a.commitsPerLogin), 1)}: ${listing(a.commitsPerLogin)} | ${f(total(b?.commitsPerLogin ?? {}), 1)}: ${listing(b?.commitsPerLogin ?? {})} | ${f(a.walsClosedPerLogin, 1)} |`,
    );
  }
  const login = (rows, key) => (rows.length ? sum(rows.map((x) => x[key] ?? 0)) : null);
  p(
    `| **whole login** | **${f(login(app, 'cpuMsMedian'), 2)} (${f(login(app, 'cpuMsMean'), 2)}; ${f(login(app, 'kernelMsMean'), 1)}) ms** | **${f(login(floor, 'cpuMsMedian'), 2)} (${f(login(floor, 'cpuMsMean'), 2)}; ${f(login(floor, 'kernelMsMean'), 1)}) ms** | **${f(app.length ? sum(app.map((x) => total(x.commitsPerLogin))) : null, 1)}** | **${f(floor.length ? sum(floor.map((x) => total(x.commitsPerLogin))) : null, 1)}** | |`,
    '',
  );
}

function callsTable(r, sequence, p) {
  const rows = r.servers.app?.calls?.[sequence];
  if (!rows) return;
  p(
    '| request | Durable Object calls (wait) | storage calls (and SQL rows written) | D1 queries (wait) |',
    '|---|---|---|---|',
  );
  for (const { step, calls } of rows) {
    const pick = (test, withMs) =>
      Object.entries(calls)
        .filter(([k]) => test(k))
        .map(([k, c]) => `${k.replace(/^RPC /, '')} ${f(c.n, c.n % 1 ? 2 : 0)}${withMs ? ` (${f(c.ms, 1)} ms)` : ''}`)
        .join(', ') || '–';
    p(
      `| ${step} | ${pick((k) => k.startsWith('RPC ') || k.endsWith(' loaded'), true)} | ${pick((k) => k.includes(' storage.') || k.endsWith(' rows written'), false)} | ${pick((k) => k.startsWith('D1 '), true)} |`,
    );
  }
  p('');
}

/** Whole-login sums of per-step maps (`pick(row)` → { key: ms }). */
function acrossSteps(rows, pick) {
  const out = {};
  for (const row of rows) for (const [k, v] of Object.entries(pick(row))) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** The isolate's JavaScript time per login, by place and step (`profile/js-profile.mjs`), and its hottest functions. */
function jsTable(r, sequence, p, shown = 14) {
  const app = r.servers.app?.js?.[sequence];
  if (!app) return;
  const floor = r.servers.floor?.js?.[sequence];
  const appPlaces = acrossSteps(app, (x) => x.places);
  const floorPlaces = floor ? acrossSteps(floor, (x) => x.places) : null;
  const larger = (k) => Math.max(appPlaces[k] ?? 0, floorPlaces?.[k] ?? 0);
  const top = [...new Set([...Object.keys(appPlaces), ...Object.keys(floorPlaces ?? {})])]
    .sort((a, b) => larger(b) - larger(a))
    .slice(0, shown);
  /** What the places outside the table add up to, in `places` (a step's, or a whole login's). */
  const rest = (places) =>
    places
      ? sum(
          Object.entries(places)
            .filter(([k]) => !top.includes(k))
            .map(([, v]) => v),
        )
      : null;
  p(
    `JavaScript time of the isolate per login, by source module or runtime call (ms of self time in V8's sampling profile of an unminified build of the same code), the ${shown} largest of the app or the floor. ` +
      'V8 samples on the wall clock, so on a busy machine a place also counts the time its thread waited for a core: compare places, and the app with the floor, not these sums with the CPU above.',
    '',
    `| where | ${app.map((x) => x.step).join(' | ')} | app, whole login | floor, whole login |`,
    `|---|${app.map(() => '---|').join('')}---|---|`,
  );
  for (const place of top) {
    p(
      `| ${place} | ${app.map((x) => f(x.places[place], 2)).join(' | ')} | ${f(appPlaces[place], 2)} | ${f(floorPlaces?.[place], 2)} |`,
    );
  }
  p(
    `| everything else | ${app.map((x) => f(rest(x.places), 2)).join(' | ')} | ${f(rest(appPlaces), 2)} | ${f(rest(floorPlaces), 2)} |`,
    `| **all JavaScript** | ${app.map((x) => `**${f(total(x.places), 2)}**`).join(' | ')} | **${f(total(appPlaces), 2)}** | **${f(floorPlaces ? total(floorPlaces) : null, 2)}** |`,
    '',
    "The app's hottest functions over the whole login, each with its hottest line (a runtime call without a frame of its own, such as a stub's call that first makes its object, is counted in the line that makes it):",
    '',
  );
  const fns = {};
  for (const row of app) {
    for (const [k, v] of Object.entries(row.functions)) {
      const had = fns[k];
      fns[k] = {
        ms: (had?.ms ?? 0) + v.ms,
        hottest: had && had.best >= v.ms ? had.hottest : v.hottest,
        best: Math.max(had?.best ?? 0, v.ms),
      };
    }
  }
  for (const [k, v] of Object.entries(fns)
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, 8)) {
    p(`- ${f(v.ms, 2)} ms ${k}${v.hottest ? `: \`${v.hottest.replace(/`/g, "'")}\`` : ''}`);
  }
  p('');
}

const noMemory = {
  n: null,
  perLoadedObject: {},
  perWaitingPoll: {},
  perWaitingPc: {},
  perWaitingPcLater: {},
  heapPerLoadedObject: [],
  heapPerWaitingPoll: [],
  heapPerWaitingPcLater: [],
};

function memoryTables(r, p) {
  const app = r.servers.app?.memory ?? noMemory;
  const floor = r.servers.floor?.memory ?? noMemory;
  if (app === floor) return;
  p(
    '## Memory of a waiting PC',
    '',
    `${r.waiting} sessions on a fresh server, each created and asked its status once (loaded, nobody waiting), then each given a waiting long-poll, read 1 s and again 20 s into the wait (the runtime evicts an object idle for 10 s, where the design lets it). ` +
      'The runtime keeps the memory that an evicted object freed (its allocator seldom gives memory back), so RSS 20 s into the wait still counts the evicted objects; the JavaScript heap and the open files show what is left. ' +
      "RSS is workerd's resident memory. The JavaScript heap is what a heap snapshot of the Worker's isolate holds (through workerd's inspector; workerd's C++ wrappers that V8 sees included); V8 committed is what V8 took from the system for its heap and ArrayBuffers, used or not. The rest of the RSS is native: the runtime, SQLite, sockets; file-backed RSS is mostly the SQLite databases' memory-mapped `-shm` indexes. Open files count descriptors: workerd holds each accepted connection under two.",
    '',
    '| per … | app: workerd RSS (of it file-backed) | app: JS heap (V8 committed) | app: open files (sockets + SQLite) | floor: RSS (file-backed) | floor: JS heap (V8 committed) | floor: open files |',
    '|---|---|---|---|---|---|---|',
  );
  const row = (label, a, b) =>
    p(
      `| ${label} | ${f(a.rssKiB, 0)} (${f(a.fileBackedKiB, 0)}) KiB | ${f(a.jsHeapKiB, 1)} (${f(a.v8CommittedKiB, 0)}) KiB | ${f(a.files)} (${f(a.sockets)} + ${f(a.sqlite)}) | ${f(b.rssKiB, 0)} (${f(b.fileBackedKiB, 0)}) KiB | ${f(b.jsHeapKiB, 1)} (${f(b.v8CommittedKiB, 0)}) KiB | ${f(b.files)} (${f(b.sockets)} + ${f(b.sqlite)}) |`,
    );
  row('loaded object, nobody waiting', app.perLoadedObject, floor.perLoadedObject);
  row('…its waiting long-poll on top', app.perWaitingPoll, floor.perWaitingPoll);
  row('**waiting PC in all**', app.perWaitingPc, floor.perWaitingPc);
  row('**waiting PC, 20 s into the wait**', app.perWaitingPcLater ?? {}, floor.perWaitingPcLater ?? {});
  p('');
  if (!app.heapPerLoadedObject.length) return;
  for (const [title, key] of [
    ['JavaScript heap per loaded object, by kind (app)', 'heapPerLoadedObject'],
    ['JavaScript heap per waiting long-poll, by kind (app)', 'heapPerWaitingPoll'],
    ['JavaScript heap per waiting PC 20 s into the wait, by kind (app)', 'heapPerWaitingPcLater'],
  ]) {
    if (app[key])
      p(`${title}: ${app[key].map((x) => `${x.kind} ×${f(x.count, 1)} ${f(x.bytes, 0)} B`).join('; ')}.`, '');
  }
}

export function renderProfile(r) {
  const lines = [];
  const p = (...xs) => lines.push(...xs);
  p(
    '# Where a login goes',
    '',
    `\`npm run bench:profile\`, ${r.date.slice(0, 16).replace('T', ' ')} UTC, ${r.logins} logins per sequence in waves of ${r.wave}, ${r.waiting} waiting PCs (${r.seconds} s, load average ${r.loadAverage.join(' / ')}). ` +
      `Each server alone (\`npm start\`-style: production bundle, workerd, storage on disk${r.direct ? "; **on workerd's own socket, without Miniflare's entry worker**" : ''}${r.entry ? `; **the app built from \`${r.entry}\`**` : ''}); each step is sent for every login of a wave at once. ` +
      'CPU is the workerd process (all threads, /proc schedstat) from the requests to 40 ms after their answers (work left to `waitUntil` included), minus the idle runtime, per login; median (mean) over the waves. ' +
      "SQLite commits are read from the WAL files: each object's own database, the namespace's alarm table (local workerd keeps every alarm of a class in one shared SQLite database), and D1's. " +
      'A database emptied by `deleteAll()` or closed has its WAL removed, so what it committed last is not seen (counted in the last column).',
    '',
    '## Each request, answered at once',
    '',
  );
  cpuTable(r, 'isolated', p);
  callsTable(r, 'isolated', p);
  p(
    '## As the PC and the phone do it',
    '',
    "The PC's long-poll is sent and left 30 ms to reach its object and wait (on the object's socket, the Worker holding the request); the phone's request then wakes it. Each row is the CPU of both.",
    '',
  );
  cpuTable(r, 'pc', p);
  callsTable(r, 'pc', p);
  jsTable(r, 'pc', p);
  for (const [sequence, title, words] of [
    [
      'codeflow',
      'A site’s sign-in by scan (OpenID Connect code flow)',
      "The authorize page's `POST /api/authorize` (its QR login), the same long-polls, scan and confirm as above, the poll that hands out the code (and the single sign-on cookie) instead of a token, and the site's code exchange at `/oauth/token`.",
    ],
    [
      'continue',
      '“Continue as”: the same browser signs in to a site again, no scan',
      "`POST /api/authorize` with the single sign-on cookie of a code-flow sign-in above (it offers `continue_as` and makes no QR), `/api/authorize/continue` (the code), the site's code exchange.",
    ],
  ]) {
    if (!r.servers.app?.cpu?.[sequence] && !r.servers.app?.calls?.[sequence]) continue;
    p(`## ${title}`, '', words, '');
    cpuTable(r, sequence, p);
    callsTable(r, sequence, p);
  }
  memoryTables(r, p);
  return `${lines.join('\n')}\n`;
}
