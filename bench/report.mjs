/**
 * Turns the raw figures of `bench/run.mjs` into `docs/benchmarks.md`: the tables, the
 * targets, the machine, the commit, the load, the date and the command. The notes in
 * `bench/notes.md` (written by people, about what the figures mean) are appended as they are.
 * Over 400 lines: one small renderer per section of one report, which read best side by side
 * (step 7's, what one machine holds, lives with its measurement in `machine.mjs`).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { perWaitingPc } from './hold.mjs';
import { machineSection, machineSummaryRow } from './machine.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const f = (x, digits = 1) => (x === null || x === undefined || Number.isNaN(x) ? '–' : Number(x).toFixed(digits));
const mib = (bytes) => `${Math.round(bytes / 2 ** 20)} MiB`;
const int = (x) => (x === null || x === undefined ? '–' : Math.round(x).toLocaleString('en-US'));
const clients = (c) => `${c} client${c > 1 ? 's' : ''}`;

/** Targets of issue 13 on the floor comparison, and of issues 18 and 30 on a waiting PC. */
const FLOOR_RATIO_TARGET = 0.8;
const KIB_PER_WAITING_PC_TARGET = 250;
const FILES_PER_WAITING_PC_TARGET = 2.5;
const LATENCY_P99_TARGET_MS = 5;
const SCAN_HEARD_P99_TARGET_MS = 5;

/** `p50 / p99 / max ms` of a timing summary. */
const ms3 = (t, digits = 1) => (t?.n ? `${f(t.p50, digits)} / ${f(t.p99, digits)} / ${f(t.max, digits)} ms` : '–');

export function renderMarkdown(r) {
  const lines = [];
  const p = (...xs) => lines.push(...xs);
  p('# Benchmarks', '');
  if (r.quick)
    p(
      '> **Quick run** (`--quick`, the CI smoke run): every step is shrunk; the figures are not comparable with a full run.',
      '',
    );
  header(r, p);
  for (const e of r.serversEnded ?? [])
    p(
      `> **${e.name} ended by itself** during the run (exit code ${e.code}, signal ${e.signal}), after its last step; the run's log has its output.`,
      '',
    );
  summaryTable(r, p);
  floorTable(r, p);
  seedTable(r, p);
  targetsTable(r, p);
  latencySection(r, p);
  waitingSection(r, p);
  throughputSection(r, p);
  codeflowSection(r, p);
  holdSection(r, p);
  qrSection(r, p);
  tokenSection(r, p);
  machineSection(r, p);
  watchSection(r, p);
  const notes = path.join(HERE, 'notes.md');
  if (existsSync(notes)) p(readFileSync(notes, 'utf8').trimEnd(), '');
  return `${lines.join('\n')}\n`;
}

function header(r, p) {
  const m = r.machine;
  p(
    `Measured ${r.date.slice(0, 16).replace('T', ' ')} UTC${r.commit ? ` at commit \`${r.commit}\`` : ''} with \`${r.command}\` (${r.seconds} s).`,
    '',
    `Machine: ${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}, ${m.workerd}, wrangler ${m.wrangler}; open-files limit ${m.openFilesLimit}. ` +
      `Load average before ${m.loadBefore.join(' / ')}, after ${m.loadAfter.join(' / ')}; ` +
      `processes outside the benchmark used ${f(m.othersCores, 2)} of the ${m.cores} cores on average during the run` +
      `${m.othersCores > 0.1 ? ' (**the machine was not quiet: treat the figures as rough**)' : ''}. ` +
      'The load generator (`bench/load.mjs`, undici over loopback) runs on the same cores as the servers.',
    '',
  );
}

function summaryTable(r, p) {
  const s = r.latency.start;
  const d = r.latency['wrangler-dev'];
  const tput = r.throughput;
  const appHold = r.hold.start;
  const per = perWaitingPc(appHold, 0);
  const kept = perWaitingPc(appHold, 1);
  const qr = r.qr.results.local;
  p('## Summary', '');
  p('| | `npm start` (workerd) | `wrangler dev` (reference) | target |', '|---|---|---|---|');
  const lat = (x) => ms3(x?.longpoll.fromConfirmAnswered);
  const plat = (x) => ms3(x?.poll?.fromConfirmAnswered, 0);
  const ratio = (x) => (x?.ratioP50 ? `${f(x.ratioP50, 0)}× / ${f(x.ratioP99, 0)}×` : '–');
  p(
    `| Notification latency, long-poll, p50 / p99 / max (${s.longpoll.logins} logins) | ${lat(s)} | ${lat(d)} | p99 ≤ ${LATENCY_P99_TARGET_MS} ms |`,
    `| Same logins, polling \`status\` every second (the seed's client) | ${plat(s)} | ${plat(d)} | |`,
    `| Polling ÷ long-poll, at p50 / at p99 | ${ratio(s)} | ${ratio(d)} | ≥ 25× |`,
    `| Requests per minute of one waiting PC, long-poll / 1-s polling | ${f(r.waiting.longpoll?.perMinutePerPc, 1)} / ${f(r.waiting.poll?.perMinutePerPc, 1)} | (the same client) | ≤ 3 |`,
  );
  for (const c of r.plan.levels) {
    const a = tput.start?.[c];
    const b = tput['wrangler-dev']?.[c];
    p(
      `| Whole logins per second, ${clients(c)} (errors) | ${f(a?.perSecond)} (${a?.errors ?? '–'}) | ${b ? `${f(b.perSecond)} (${b.errors})` : '–'} | ${c === 64 ? '≥ 160, 0 errors' : '0 errors'} |`,
    );
  }
  const tm = tput['start-tmpfs']?.[64];
  const dr = tput['start-direct-tmpfs']?.[64];
  if (tm)
    p(
      `| …64 clients, storage in memory (tmpfs): through the local front / workerd's socket directly | ${f(tm.perSecond)} / ${f(dr?.perSecond)} (${tm.errors + (dr?.errors ?? 0)}) | | |`,
    );
  p(
    `| Waiting PCs held at once; workerd RSS | ${int(kept?.n)}; ${mib(appHold.rounds?.[1]?.bytes ?? 0)} | not run | 10,000; < 1 GiB |`,
    `| …per waiting PC, ${int(per?.n)} waiting, ${r.plan.holdSettleSeconds} s into the wait: open files of the runtime (sockets + SQLite) | ${f(per?.files, 2)} (${f(per?.sockets, 2)} + ${f(per?.sqlite, 2)}) | | ≤ ${FILES_PER_WAITING_PC_TARGET} |`,
    `| …memory a waiting PC keeps (what ${int(r.plan.hold)} more add, each) | ${f(kept?.kib, 0)} KiB | | ≤ ${KIB_PER_WAITING_PC_TARGET} KiB |`,
    `| …each PC hears of its scan, p50 / p99 / max (of them, objects evicted) | ${ms3(appHold.scanHeardMs, 2)} (${int(appHold.scanHeardEvictedMs?.n)}: ${ms3(appHold.scanHeardEvictedMs, 2)}) | | within milliseconds |`,
    `| …answered when confirmed, cancelled or expired; lost / duplicated | ${int(appHold.total - appHold.lost)} of ${int(appHold.total)}; ${appHold.lost} / ${appHold.duplicates} | | 0 / 0 |`,
    `| QR image as served: bytes; CPU to draw (${qr.modules}×${qr.modules} modules) | ${int(qr.served.bytes)} B; ${f(qr.served.cpuMs, 2)} ms | | ≤ 8 KB; ≤ 1 ms |`,
    ...machineSummaryRow(r),
    '',
  );
}

function floorTable(r, p) {
  const app = r.throughput.start;
  const floor = r.throughput.floor;
  const held = r.throughput['floor-held'] ?? {};
  const contract = r.throughput['floor-contract'] ?? {};
  const ratio = (a, b) => f(a && b ? a / b : null, 2);
  p(
    '## Against the floor',
    '',
    'The floor (`bench/floor/`) is a bare Worker doing the same whole login with the least the design needs: a plain `fetch` handler, one SQLite-backed object per login with one record write and its alarm per transition, one session row in the user’s object and one EdDSA token and refresh token per login (as the app keeps sessions since issue 16), an EdDSA check on each phone request (no session read), and the same QR image. ' +
      'It holds the PC’s wait as the app does since issue 18: the Worker waits on a WebSocket that the object accepted through the Hibernation API, so the object can be evicted while the PC waits, and a confirmed login is claimed by asking the object again. ' +
      'The *floor, wait held in the object* is the same Worker as the design was before issue 18: the wait a promise in the object, which keeps it loaded while the PC waits. ' +
      'All are served like `npm start` (production bundle, workerd, the local front in front of the Worker’s own socket, storage on disk) and measured in the same run, level by level right after the app. ' +
      'The *floor with the contract* is the floor with what the app must have besides its own code: it asks the user’s object whether the token’s session is alive on each phone request ("a revoked token answers 401 at once"), empties the object with `deleteAll()` at the hand-out ("storage is empty within a minute"), and has static assets as the app has its pages (`[assets]` with `run_worker_first`; served as `npm start` serves the app, whose socket opens onto the Worker itself since issue 30, so locally that is the `ASSETS` binding and no longer two asset workers on every request). The app’s gap to it is the app’s own code: Hono, its middleware and validation, and the features the floor does without.',
    '',
    '| | app (`npm start`) | floor | app ÷ floor | floor with the contract | app ÷ it | floor, wait held in the object | app ÷ it | target |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const c of r.plan.levels) {
    const [a, b, bc, bh] = [app[c], floor[c], contract[c], held[c]];
    p(
      `| Whole logins per second, ${clients(c)} (errors) | ${f(a.perSecond)} (${a.errors}) | ${f(b.perSecond)} (${b.errors}) | ${f(a.ofFloor, 2)}× | ${f(bc?.perSecond)} (${bc?.errors ?? '–'}) | ${f(a.ofFloorContract, 2)}× | ${f(bh?.perSecond)} (${bh?.errors ?? '–'}) | ${f(a.ofFloorHeld, 2)}× | ≥ ${FLOOR_RATIO_TARGET}× the floor |`,
    );
  }
  for (const c of r.plan.tmpfsLevels ?? []) {
    const a = r.throughput['start-tmpfs']?.[c];
    const b = r.throughput['floor-tmpfs']?.[c];
    if (a && b)
      p(
        `| …${clients(c)}, storage in memory (tmpfs): no disk syncs | ${f(a.perSecond)} (${a.errors}) | ${f(b.perSecond)} (${b.errors}) | ${f(a.ofFloor, 2)}× | | | | | |`,
      );
  }
  for (const c of r.plan.levels) {
    const cpu = (x) => x?.[c]?.runtimeCpuMsPerLogin;
    const a = cpu(app);
    p(
      `| workerd CPU per login, ${clients(c)} | ${f(a, 2)} ms | ${f(cpu(floor), 2)} ms | ${ratio(a, cpu(floor))}× | ${f(cpu(contract), 2)} ms | ${ratio(a, cpu(contract))}× | ${f(cpu(held), 2)} ms | ${ratio(a, cpu(held))}× | |`,
    );
  }
  const lat = (name) => r.latency[name]?.longpoll.fromConfirmAnswered;
  const [la, lb, lh] = [lat('start'), lat('floor'), lat('floor-held')];
  p(
    `| Notification latency, long-poll, p50 / p99 | ${f(la?.p50, 2)} / ${f(la?.p99, 2)} ms | ${f(lb?.p50, 2)} / ${f(lb?.p99, 2)} ms | | | | ${f(lh?.p50, 2)} / ${f(lh?.p99, 2)} ms | | p99 ≤ ${LATENCY_P99_TARGET_MS} ms |`,
  );
  const holds = [r.hold.start, r.hold.floor, r.hold.floorHeld];
  const [ha, hb, hh] = holds.map((h) => (h ? perWaitingPc(h, 0) : null));
  const [ka, kb, kh] = holds.map((h) => (h ? perWaitingPc(h, 1) : null));
  const files = (x) => `${f(x?.files, 2)} (${f(x?.sockets, 2)} + ${f(x?.sqlite, 2)})`;
  p(
    `| Per waiting PC, ${int(r.plan.hold)} waiting, ${r.plan.holdSettleSeconds} s into the wait: open files (sockets + SQLite files) | ${files(ha)} | ${files(hb)} | | | | ${files(hh)} | | ≤ ${FILES_PER_WAITING_PC_TARGET} |`,
    `| …workerd memory over the idle runtime (every object making and polling loaded, evicted or not) | ${f(ha?.kibOverIdle, 0)} KiB | ${f(hb?.kibOverIdle, 0)} KiB | ${ratio(ha?.kibOverIdle, hb?.kibOverIdle)}× | | | ${f(hh?.kibOverIdle, 0)} KiB | ${ratio(ha?.kibOverIdle, hh?.kibOverIdle)}× | |`,
    `| Memory a waiting PC keeps: what ${int(r.plan.hold)} more add, each | ${f(ka?.kib, 0)} KiB | ${f(kb?.kib, 0)} KiB | ${ratio(ka?.kib, kb?.kib)}× | | | ${f(kh?.kib, 0)} KiB | ${ratio(ka?.kib, kh?.kib)}× | ≤ ${KIB_PER_WAITING_PC_TARGET} KiB |`,
    `| …open files, ${int(ka?.n)} waiting | ${files(ka)} | ${files(kb)} | | | | ${files(kh)} | | ≤ ${FILES_PER_WAITING_PC_TARGET} |`,
    '',
  );
}

function seedTable(r, p) {
  const seed = r.throughput.seed;
  if (!seed) {
    if (r.seedSkipped) p('## Against the seed', '', `Not measured in this run: ${r.seedSkipped}.`, '');
    return;
  }
  const app = r.throughput.start;
  p(
    '## Against the seed',
    '',
    'The seed (`bench/seed/server.mjs`) is the NestJS tutorial server this project started from, rebuilt as it was: every login in a `Map` in memory (nothing survives a restart), a UUID for an id, `qrcode` drawing a PNG, HS256 tokens from `@nestjs/jwt`, and a PC that polls. ' +
      'Its whole login is the fewest requests it can take: generate, scan, confirm, and one `check` that collects the token (4 requests, against the app’s 5 with its long-polls). It runs in one Node process, measured here at the same levels, right after the floors, with the same 32 phone users. ' +
      'Its CPU per login is its Node process’s, the app’s is workerd’s.',
    '',
    '| | app (`npm start`) | the seed (in memory) | app ÷ seed | target |',
    '|---|---|---|---|---|',
  );
  for (const c of r.plan.levels) {
    const [a, b] = [app[c], seed[c]];
    p(
      `| Whole logins per second, ${clients(c)} (errors) | ${f(a?.perSecond)} (${a?.errors ?? '–'}) | ${f(b?.perSecond)} (${b?.errors ?? '–'}) | ${f(a?.ofSeed, 2)}× | ≥ 1× |`,
    );
  }
  for (const c of r.plan.levels) {
    p(
      `| CPU per login, ${clients(c)} (workerd; the seed’s Node) | ${f(app[c]?.runtimeCpuMsPerLogin, 2)} ms | ${f(seed[c]?.runtimeCpuMsPerLogin, 2)} ms | | |`,
    );
  }
  p('');
}

function targetsTable(r, p) {
  const s = r.latency.start;
  const tput = r.throughput;
  const levels = r.plan.levels;
  const appHold = r.hold.start;
  const per = perWaitingPc(appHold, 0);
  const kept = perWaitingPc(appHold, 1);
  const qr = r.qr.results.local;
  const lost =
    Object.values(r.latency).reduce(
      (n, x) => n + x.longpoll.errors + x.longpoll.duplicates + (x.poll ? x.poll.errors + x.poll.duplicates : 0),
      0,
    ) +
    Object.values(tput).reduce(
      (n, byLevel) => n + Object.values(byLevel).reduce((m, t) => m + t.errors + t.lost, 0),
      0,
    ) +
    appHold.lost +
    appHold.duplicates;
  const best = Math.max(...levels.map((c) => tput.start?.[c]?.perSecond ?? 0));
  const top = levels.at(-1);
  const ratio = tput.start[top].ofFloor;
  const heard = appHold.scanHeardMs;
  const targets = [
    [
      `p99 notification latency ≤ ${LATENCY_P99_TARGET_MS} ms (\`npm start\`, the Worker's hop to the object's socket included)`,
      `${f(s.longpoll.fromConfirmAnswered.p99)} ms`,
      s.longpoll.fromConfirmAnswered.p99 <= LATENCY_P99_TARGET_MS,
    ],
    ['≥ 25× lower than 1-second polling (p99)', `${f(s.ratioP99, 0)}×`, s.ratioP99 >= 25],
    [
      '≤ 3 requests per waiting minute per PC',
      f(r.waiting.longpoll?.perMinutePerPc, 1),
      (r.waiting.longpoll?.perMinutePerPc ?? 99) <= 3,
    ],
    [
      "≥ 160 whole logins/s on `npm start` (2× the seed's NestJS server)",
      `${f(best)} /s (best of ${levels.join(', ')} clients)`,
      best >= 160,
    ],
    [
      `≥ ${FLOOR_RATIO_TARGET}× the floor's whole logins/s (${clients(top)}; the floor waits on a socket as the app does)`,
      `${f(ratio, 2)}× (${f(tput.start[top].perSecond)} vs ${f(tput.floor[top].perSecond)} /s)`,
      ratio >= FLOOR_RATIO_TARGET,
    ],
    [
      `…the same against the floor with the contract (its revocation reads and \`deleteAll()\`)`,
      `${f(tput.start[top].ofFloorContract, 2)}× (${f(tput.start[top].perSecond)} vs ${f(tput['floor-contract']?.[top]?.perSecond)} /s)`,
      (tput.start[top].ofFloorContract ?? 0) >= FLOOR_RATIO_TARGET,
    ],
    ...(tput.seed
      ? [
          [
            `≥ the seed's whole logins/s, measured in the same run (${clients(top)})`,
            `${f(tput.start[top].ofSeed, 2)}× (${f(tput.start[top].perSecond)} vs ${f(tput.seed[top]?.perSecond)} /s)`,
            (tput.start[top].ofSeed ?? 0) >= 1,
          ],
        ]
      : []),
    [
      `≤ ${FILES_PER_WAITING_PC_TARGET} open files of the runtime per waiting PC, ${r.plan.holdSettleSeconds} s into the wait (app, ${int(per?.n)} PCs, then ${int(kept?.n)})`,
      `${f(per?.files, 2)} (${f(per?.sockets, 2)} sockets + ${f(per?.sqlite, 2)} SQLite), then ${f(kept?.files, 2)}`,
      Math.max(per?.files ?? 99, kept?.files ?? 99) <= FILES_PER_WAITING_PC_TARGET,
    ],
    [
      `≤ ${KIB_PER_WAITING_PC_TARGET} KiB of workerd memory kept per waiting PC (app)`,
      `${f(kept?.kib, 0)} KiB`,
      (kept?.kib ?? Number.POSITIVE_INFINITY) <= KIB_PER_WAITING_PC_TARGET,
    ],
    [
      `Every waiting PC hears of its scan within milliseconds (p99 ≤ ${SCAN_HEARD_P99_TARGET_MS} ms after the scan's answer)`,
      `${f(heard?.p99, 2)} ms (${int(heard?.n)} PCs; max ${f(heard?.max, 2)} ms)`,
      heard?.n > 0 && heard.p99 <= SCAN_HEARD_P99_TARGET_MS,
    ],
    ['0 lost or duplicated logins, every step', String(lost), lost === 0],
    [
      '10,000 waiting PCs under 1 GiB runtime RSS',
      `${int(kept?.n)} held, ${mib(appHold.rounds?.[1]?.bytes ?? 0)}`,
      kept?.n >= 10_000 && appHold.rounds[1].bytes < 2 ** 30,
    ],
    [
      'QR image ≤ 8 KB and ≤ 1 ms CPU',
      `${int(qr.served.bytes)} B, ${f(qr.served.cpuMs, 2)} ms`,
      qr.served.bytes <= 8192 && qr.served.cpuMs <= 1,
    ],
  ];
  p('## Targets', '', '| target | measured | met |', '|---|---|---|');
  for (const [what, value, ok] of targets) p(`| ${what} | ${value} | ${ok ? 'yes' : '**no**'} |`);
  p('');
}

function latencySection(r, p) {
  const s = r.latency.start;
  p(
    '## 1. Notification latency',
    '',
    "From the moment the phone's `confirm` is answered to the moment the waiting PC holds its token (the same clock, in the load generator). " +
      `Long-poll logins run ${s.longpoll.concurrency} at a time; the PC's \`status?after=1&wait=30\` is sent 10 ms before the confirm. ` +
      'On the app and the floor the Worker waits on the object’s socket and, told of the confirm, asks the object once more for the token; on the floor whose wait is held in the object, the object answers the waiting request itself. ' +
      `The polling client asks \`status\` once a second from the moment the QR exists, as the seed's tutorial page does; ${s.poll.concurrency} such logins run at once and the phone confirms at a random moment. ` +
      'After its token, every PC asks once more and must get 410 (a second token would be a duplicate).',
    '',
    '| server | client | logins | p50 | p99 | max | mean | from confirm *sent*: p50 / p99 | errors | duplicates |',
    '|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const [name, byMode] of Object.entries(r.latency)) {
    for (const mode of ['longpoll', 'poll']) {
      const x = byMode[mode];
      if (!x) continue;
      const a = x.fromConfirmAnswered;
      p(
        `| ${name} | ${mode === 'longpoll' ? 'long-poll' : '1-s polling'} | ${x.logins} | ${f(a.p50, 2)} ms | ${f(a.p99, 2)} ms | ${f(a.max, 2)} ms | ${f(a.mean, 2)} ms | ${f(x.fromConfirmSent.p50, 2)} / ${f(x.fromConfirmSent.p99, 2)} ms | ${x.errors} | ${x.duplicates} |`,
      );
    }
  }
  p('');
}

function waitingSection(r, p) {
  p(
    '## 2. Requests while waiting',
    '',
    `${r.waiting.longpoll?.pcs} long-polling PCs (\`status?after=0\`, the default wait of 25 s) and ${r.waiting.poll?.pcs} PCs polling once a second, nobody scanning, for ${r.waiting.longpoll?.seconds} s against \`npm start\`. Per minute = 60 s ÷ the mean gap between one PC's successive requests.`,
    '',
    '| client | requests in the window | mean gap | requests per minute per PC |',
    '|---|---|---|---|',
  );
  for (const mode of ['longpoll', 'poll']) {
    const w = r.waiting[mode];
    if (w)
      p(
        `| ${mode === 'longpoll' ? 'long-poll' : '1-s polling'} | ${w.requests} | ${w.meanGapMs ? `${int(w.meanGapMs)} ms` : '–'} | ${f(w.perMinutePerPc, 1)} |`,
      );
  }
  p('');
}

function throughputSection(r, p) {
  p(
    '## 3. Whole logins per second',
    '',
    'Each client repeats a whole login: `POST /api/qrcodes`; the PC long-polls while the phone scans; the PC long-polls again while the phone confirms; the PC holds its token (5 requests). ' +
      `${r.plan.levelSeconds} s per level after ${r.plan.warmup} s of warm-up; at each level the app runs, then the floors and the seed (its own 4 requests: see "Against the seed"). Client i's phone is one of 32 users (\`bench1\` … \`bench32\`, each with its own object), as on a real site. ` +
      "Runtime CPU per login is the CPU time of the server's workerd process (the seed's Node process; all threads, /proc) over the whole level divided by every login that ended in it; the load generator's own CPU is beside it (both share the cores).",
    '',
    '| server | clients | logins/s | ÷ floor | errors | lost | login p50 / p99 | workerd CPU per login | load generator CPU | load average |',
    '|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const [name, byLevel] of Object.entries(r.throughput)) {
    for (const [c, t] of Object.entries(byLevel)) {
      p(
        `| ${name} | ${c} | ${f(t.perSecond)} | ${t.ofFloor ? `${f(t.ofFloor, 2)}×` : ''} | ${t.errors} | ${t.lost} | ${f(t.loginMs.p50)} / ${f(t.loginMs.p99)} ms | ${f(t.runtimeCpuMsPerLogin, 2)} ms | ${f(t.loadGeneratorCpuSeconds, 1)} s | ${t.loadAverage[0]} |`,
      );
    }
  }
  p('');
}

function codeflowSection(r, p) {
  if (!r.codeflow || !Object.keys(r.codeflow).length) return;
  p(
    '## 3b. A site’s sign-ins by scan (OpenID Connect code flow) per second',
    '',
    "On the app, at each level right after its QR logins: the authorize page's `POST /api/authorize` makes the QR login, the PC long-polls while the phone scans and again while it confirms, the poll hands out the code (and the single sign-on cookie) instead of a token, and the site's backend exchanges the code at `/oauth/token` (6 requests). The clients' phones are the same 32 users as the QR logins' (a user has at most 50 live sessions, and each sign-in's browser session is one until its code is exchanged). *÷ QR logins* compares with the app's QR logins of the same level above.",
    '',
    '| clients | sign-ins/s | ÷ QR logins | errors | sign-in p50 / p99 | workerd CPU per sign-in | load average |',
    '|---|---|---|---|---|---|---|',
  );
  for (const [c, t] of Object.entries(r.codeflow)) {
    p(
      `| ${c} | ${f(t.perSecond)} | ${t.ofQrLogins ? `${f(t.ofQrLogins, 2)}×` : ''} | ${t.errors} | ${f(t.loginMs.p50)} / ${f(t.loginMs.p99)} ms | ${f(t.runtimeCpuMsPerLogin, 2)} ms | ${t.loadAverage[0]} |`,
    );
  }
  p('');
}

function holdSection(r, p) {
  const h = r.hold;
  const app = h.start;
  p(
    '## 4. Waiting PCs held at once',
    '',
    `A second \`npm start\`, a second floor and a second floor whose wait is held in the object, each with \`--var QR_TTL_SECONDS:${h.ttlSeconds}\`, side by side, in two rounds of ${int(r.plan.hold)} PCs (bench/hold.mjs). Both rounds' codes are made first, each left until the runtime has evicted the objects that making it loaded (*codes made*). Then round 1's PCs long-poll at once (\`wait=30\`, again after each answer) and the runtime is read ${r.plan.holdSettleSeconds} s later; then round 2's, and the runtime is read again once both rounds' objects are evicted (round 1's PCs poll again 30 s into their wait, which loads their objects again for 10 s). ` +
      'RSS is the sum of VmRSS of the workerd processes under that server (Miniflare runs one); the Node process that hosts Miniflare is listed apart. Open files per waiting PC = (reading − idle) ÷ PCs waiting. ' +
      'The runtime keeps the memory that an evicted object freed (its allocator seldom gives memory back to the system), so RSS over the idle runtime counts every object that making the codes and polling loaded, evicted or not; what round 2 adds per PC, its objects loading into memory that evicted ones freed, is what a waiting PC keeps. *Polled in the last 11 s*: PCs whose object may still be loaded at the reading. ' +
      `Then the floors' PCs hang up; on the app every code is scanned (8 at a time), each PC timed from the scan's answer to its poll's answer (a PC whose poll had waited more than 11 s waits on an evicted object), one in ${r.plan.holdConfirmEvery} confirmed (timed to its token), the rest ${r.plan.holdRest === 'expire' ? 'left to expire' : 'cancelled'}; each PC must end with its token (and then 410), \`expired\` or \`scan-cancel\`.`,
    '',
    '| server | reading | waiting PCs (polled in the last 11 s) | workerd RSS | per waiting PC: over idle / kept | open files: all (sockets, SQLite) | per waiting PC | Miniflare Node RSS |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const [name, hold] of [
    ['app', app],
    ['floor', h.floor],
    ['floor, wait held in the object', h.floorHeld],
  ]) {
    if (!hold?.rounds?.length) {
      p(`| ${name} | not held${hold?.stoppedBy ? `: ${hold.stoppedBy}` : ''} | | | | | | |`);
      continue;
    }
    const files = (x) => `${int(x.files.all)} (${int(x.files.sockets)}, ${int(x.files.sqlite)})`;
    const row = (label, x, per) =>
      p(
        `| ${name} | ${label} | ${per ? `${int(per.n)} (${int(per.younger)})` : '–'} | ${mib(x.bytes)} | ${per ? `${f(per.kibOverIdle, 0)} / ${per.kib === null ? '–' : `${f(per.kib, 0)}`} KiB` : '–'} | ${files(x)} | ${per ? f(per.files, 2) : '–'} | ${mib(x.node)} |`,
      );
    row('idle', hold.idle, null);
    if (hold.made) row(`codes made (${int(2 * r.plan.hold)})`, hold.made, null);
    hold.rounds.forEach((x, i) => {
      row(`round ${x.round}, at ${f(x.at, 0)} s`, x, perWaitingPc(hold, i));
    });
    if (hold.stoppedBy) p(`| ${name}: ${hold.stoppedBy} | | | | | | | |`);
  }
  p(
    '',
    `App outcomes: ${Object.entries(app.outcomes ?? {})
      .map(([k, v]) => `${k} ${int(v)}`)
      .join(
        ', ',
      )}; confirmed ${int(app.confirmed)}; scans and confirms took ${f(app.stepsSeconds)} s; lost ${app.lost}; duplicated ${app.duplicates}; ${int(app.polls)} long-polls in all, ${int(app.retried ?? 0)} of them tried again after a 429 or 5xx (as the page's back-off does)` +
      `${app.restarted ? '; **the runtime restarted during the step**' : ''}. RSS after they all ended: ${mib(app.after.bytes)}, ${int(app.after.files.all)} open files.`,
    '',
    '| each PC, from the phone’s answer to its own | PCs | p50 / p99 / max |',
    '|---|---|---|',
    `| hears of the scan | ${int(app.scanHeardMs?.n)} | ${ms3(app.scanHeardMs, 2)} |`,
    `| …of them, its poll waiting on an evicted object | ${int(app.scanHeardEvictedMs?.n)} | ${ms3(app.scanHeardEvictedMs, 2)} |`,
    `| holds its token after the confirm | ${int(app.tokenMs?.n)} | ${ms3(app.tokenMs, 2)} |`,
    '',
  );
}

function qrSection(r, p) {
  p(
    '## 5. The QR image',
    '',
    `CPU time per image in a Node ${r.machine.node} process (V8, as in workerd), ${r.qr.iterations} draws after a warm-up; bytes as sent in the JSON.`,
    '',
    '| scan URL | modules | served (`qrDataUrl`): bytes, CPU | qrcode-svg `svg()`: bytes, CPU | `svg()` as a base64 data URL |',
    '|---|---|---|---|---|',
  );
  for (const x of Object.values(r.qr.results)) {
    p(
      `| \`${x.url.replace(/[0-9a-f]{64}/, '<64 hex>')}\` | ${x.modules} × ${x.modules} | ${int(x.served.bytes)} B, ${f(x.served.cpuMs, 2)} ms | ${int(x.qrcodeSvg.bytes)} B, ${f(x.qrcodeSvg.cpuMs, 2)} ms | ${int(x.qrcodeSvgDataUrl.bytes)} B, ${f(x.qrcodeSvgDataUrl.cpuMs, 2)} ms |`,
    );
  }
  p('');
}

function tokenSection(r, p) {
  const t = r.tokenCheck;
  if (!t) return;
  p(
    '## 6. What the token check costs',
    '',
    `Every request that checks a token verifies its signature and asks the user’s sessions object whether its session is alive (so a revoked device is refused at once). ${int(t.requests)} sequential requests each on \`npm start\`:`,
    '',
    '| request | p50 | p99 |',
    '|---|---|---|',
    `| \`GET /api/me\` (token verified, session checked in the user’s object) | ${f(t.me.p50, 2)} ms | ${f(t.me.p99, 2)} ms |`,
    ...(t.dpop
      ? [
          `| \`GET /api/me\` with a DPoP-bound token (and the proof: its signature, and the key’s replay store) | ${f(t.dpop.p50, 2)} ms | ${f(t.dpop.p99, 2)} ms |`,
        ]
      : []),
    `| \`GET /api/config\` (no token) | ${f(t.config.p50, 2)} ms | ${f(t.config.p99, 2)} ms |`,
    `| the check, at p50 | ${f(t.costP50Ms, 2)} ms | |`,
    ...(t.dpop ? [`| what DPoP adds to it, at p50 | ${f(t.dpopCostP50Ms, 2)} ms | |`] : []),
    '',
  );
}

/** `--token-only`: step 6 alone, as its own small report. */
export function renderTokens(r) {
  const out = [];
  const p = (...lines) => out.push(...lines);
  p(
    `Step 6 alone (\`npm run bench -- --token-only\`), commit ${r.commit}, ${r.machine.cores} cores, load average after ${r.machine.loadAfter?.join(' ')}.`,
    '',
  );
  tokenSection(r, p);
  return `${out.join('\n')}\n`;
}

/** Step 8 alone (`npm run bench -- --watch-only`). */
export function renderWatch(r) {
  const lines = [];
  const p = (...xs) => lines.push(...xs);
  p(
    '# Pages watching their sessions',
    '',
    `\`${r.command}\`, ${r.date}, commit ${r.commit ?? '?'}; ${r.machine.cores} cores, load average ${r.machine.loadBefore?.join(' ')} before, ${r.machine.loadAfter?.join(' ')} after.`,
    '',
  );
  watchSection(r, p);
  return `${lines.join('\n')}\n`;
}

function watchSection(r, p) {
  const w = r.watch;
  if (!w) return;
  const [before, held, after] = w.sqliteFilesBeforeHeldAfter;
  p(
    '## 8. Pages watching their sessions end',
    '',
    `${int(w.pages)} open pages (${int(w.sessions)} sessions of one user, ${int(w.pages / w.sessions)} pages each) each hold \`GET /api/sessions/watch\` on \`npm start\`: a stream the Worker feeds from a hibernatable socket of the user’s object. They are left alone for ${f(w.idleSeconds, 0)} s, then each session is signed out (\`DELETE /api/sessions/:sid\` from another session), one after the other.`,
    '',
    '| | measured |',
    '|---|---|',
    `| page hears \`ended\`, from the revoke sent (p50 / p99 / max) | ${ms3(w.fromRevokeSent)} |`,
    `| from the revoke’s 204 (negative: heard before the answer) | ${ms3(w.fromRevokeAnswered)} |`,
    `| pages that never heard it / stream errors | ${int(w.missed)} / ${int(w.errors)} |`,
    `| pages still open after ${f(w.idleSeconds, 0)} idle s | ${int(w.openWhileIdle)} of ${int(w.pages)} |`,
    `| keep-alive comments heard while idle (one per stream every 30 s) | ${int(w.keepalivesHeard)} |`,
    `| runtime CPU over ${f(w.idleWindowSeconds, 0)} idle seconds once the object was evicted, all pages open (${int(w.keepalivesInWindow)} keep-alive comments written meanwhile; /proc counts in 10 ms ticks) | ${f(w.runtimeCpuMsIdle, 0)} ms |`,
    `| runtime CPU to open one page's watch | ${f(w.runtimeCpuMsOpeningEach, 2)} ms |`,
    `| open files per open page (sockets) | ${f(w.perPage.files, 2)} (${f(w.perPage.sockets, 2)}) |`,
    `| resident memory per open page | ${f(w.perPage.kib, 1)} KiB |`,
    `| the runtime’s SQLite files: before / while the pages are idle / after the sign-outs | ${int(before)} / ${int(held)} / ${int(after)} |`,
    '',
    'While nothing happens the user’s object runs nothing and holds no request: local workerd evicts it (its SQLite files close, as the row above shows), as Cloudflare would let it hibernate, unbilled. Each open page is one request held by the Worker (not billed while it waits) and one socket of the object; opening one costs one Worker request and one object request.',
    '',
  );
}
