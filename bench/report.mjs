/**
 * Turns the raw figures of `bench/run.mjs` into `docs/benchmarks.md`: the tables, the
 * targets, the machine, the date and the command. The notes in `bench/notes.md` (written by
 * people, about what the figures mean) are appended as they are.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const f = (x, digits = 1) => (x === null || x === undefined || Number.isNaN(x) ? '–' : Number(x).toFixed(digits));
const mib = (bytes) => `${Math.round(bytes / 2 ** 20)} MiB`;
const int = (x) => (x === null || x === undefined ? '–' : Math.round(x).toLocaleString('en-US'));

export function renderMarkdown(r) {
  const s = r.latency.start;
  const d = r.latency['wrangler-dev'];
  const tput = r.throughput;
  const levels = r.plan.levels;
  const hold = r.hold;
  const maxStep = hold.steps.at(-1);
  const qr = r.qr.results;
  const lines = [];
  const p = (...xs) => lines.push(...xs);

  p('# Benchmarks', '');
  if (r.quick)
    p(
      '> **Quick run** (`--quick`, the CI smoke run): every step is shrunk; the figures are not comparable with a full run.',
      '',
    );
  p(
    `Measured ${r.date.slice(0, 16).replace('T', ' ')} UTC${r.commit ? ` at commit \`${r.commit}\`` : ''} with \`${r.command}\` (${r.seconds} s).`,
    '',
    `Machine: ${r.machine.cores} × ${r.machine.cpu}, ${r.machine.memoryGiB} GiB, ${r.machine.os}; ` +
      `Node ${r.machine.node}, ${r.machine.workerd}, wrangler ${r.machine.wrangler}; open-files limit ${r.machine.openFilesLimit}. ` +
      `Load average before ${r.machine.loadBefore.join(' / ')}, after ${r.machine.loadAfter.join(' / ')}. ` +
      'The load generator (`bench/load.mjs`, undici over loopback) runs on the same two cores as the server.',
    '',
  );

  p('## Summary', '');
  p('| | `npm start` (workerd) | `wrangler dev` (reference) | target |', '|---|---|---|---|');
  const lat = (x) =>
    x
      ? `${f(x.longpoll.fromConfirmAnswered.p50)} / ${f(x.longpoll.fromConfirmAnswered.p99)} / ${f(x.longpoll.fromConfirmAnswered.max)} ms`
      : '–';
  const plat = (x) =>
    x
      ? `${f(x.poll.fromConfirmAnswered.p50, 0)} / ${f(x.poll.fromConfirmAnswered.p99, 0)} / ${f(x.poll.fromConfirmAnswered.max, 0)} ms`
      : '–';
  p(
    `| Notification latency, long-poll, p50 / p99 / max (${s.longpoll.logins} logins) | ${lat(s)} | ${lat(d)} | p99 ≤ 20 ms |`,
  );
  p(`| Same logins, polling \`status\` every second | ${plat(s)} | ${plat(d)} | |`);
  p(
    `| Polling ÷ long-poll, at p50 / at p99 | ${f(s.ratioP50, 0)}× / ${f(s.ratioP99, 0)}× | ${d ? `${f(d.ratioP50, 0)}× / ${f(d.ratioP99, 0)}×` : '–'} | ≥ 25× |`,
  );
  p(
    `| Requests per minute of one waiting PC, long-poll / 1-s polling | ${f(r.waiting.longpoll?.perMinutePerPc, 1)} / ${f(r.waiting.poll?.perMinutePerPc, 1)} | (the same client) | ≤ 3 |`,
  );
  for (const c of levels) {
    const a = tput.start?.[c];
    const b = tput['wrangler-dev']?.[c];
    p(
      `| Whole logins per second, ${c} client${c > 1 ? 's' : ''} (errors) | ${f(a?.perSecond)} (${a?.errors ?? '–'}) | ${b ? `${f(b.perSecond)} (${b.errors})` : '–'} | ${c === 64 ? '≥ 160, 0 errors' : '0 errors'} |`,
    );
  }
  const tm = tput['start-tmpfs'];
  const dr = tput['start-direct-tmpfs'];
  if (tm?.[64])
    p(
      `| …64 clients, storage in memory (tmpfs): Miniflare's entry / workerd's direct socket | ${f(tm[64].perSecond)} / ${f(dr?.[64]?.perSecond)} (${tm[64].errors + (dr?.[64]?.errors ?? 0)}) | | |`,
    );
  p(
    `| Waiting PCs held at once; runtime RSS | ${int(maxStep.openByClient)}; ${mib(maxStep.bytes)} | not run | 10,000; < 1 GiB |`,
  );
  p(
    `| …answered when confirmed or expired; lost / duplicated | ${int(hold.total - hold.lost)} of ${int(hold.total)}; ${hold.lost} / ${hold.duplicates} | | 0 / 0 |`,
  );
  p(
    `| QR image as served: bytes; CPU to draw (${qr.local.modules}×${qr.local.modules} modules) | ${int(qr.local.served.bytes)} B; ${f(qr.local.served.cpuMs, 2)} ms | | ≤ 8 KB; ≤ 1 ms |`,
    '',
  );

  p('## Targets', '');
  const lost =
    Object.values(r.latency).reduce(
      (n, x) => n + x.longpoll.errors + x.poll.errors + x.longpoll.duplicates + x.poll.duplicates,
      0,
    ) +
    Object.values(tput).reduce(
      (n, byLevel) => n + Object.values(byLevel).reduce((m, t) => m + t.errors + t.lost, 0),
      0,
    ) +
    hold.lost +
    hold.duplicates;
  const best = Math.max(...levels.map((c) => tput.start?.[c]?.perSecond ?? 0));
  const targets = [
    [
      'p99 notification latency ≤ 20 ms (`npm start`)',
      `${f(s.longpoll.fromConfirmAnswered.p99)} ms`,
      s.longpoll.fromConfirmAnswered.p99 <= 20,
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
    ['0 lost or duplicated logins, every step', String(lost), lost === 0],
    [
      `10,000 waiting PCs under 1 GiB runtime RSS`,
      `${int(maxStep.openByClient)} held, ${mib(maxStep.bytes)}`,
      maxStep.openByClient >= 10_000 && maxStep.bytes < 2 ** 30,
    ],
    [
      'QR image ≤ 8 KB and ≤ 1 ms CPU',
      `${int(qr.local.served.bytes)} B, ${f(qr.local.served.cpuMs, 2)} ms`,
      qr.local.served.bytes <= 8192 && qr.local.served.cpuMs <= 1,
    ],
  ];
  p('| target | measured | met |', '|---|---|---|');
  for (const [what, value, ok] of targets) p(`| ${what} | ${value} | ${ok ? 'yes' : '**no**'} |`);
  p('');

  p('## 1. Notification latency', '');
  p(
    "From the moment the phone's `confirm` is answered to the moment the waiting PC holds its token (the same clock, in the load generator). " +
      `Long-poll logins run ${s.longpoll.concurrency} at a time; the PC's \`status?after=1&wait=30\` is sent 10 ms before the confirm. ` +
      `The polling client asks \`status\` once a second from the moment the QR exists, as the seed's tutorial page does; ${s.poll.concurrency} such logins run at once and the phone confirms at a random moment. ` +
      'After its token, every PC asks once more and must get 410 (a second token would be a duplicate).',
    '',
  );
  p(
    '| server | client | logins | p50 | p99 | max | mean | from confirm *sent*: p50 / p99 | errors | duplicates |',
    '|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const [name, byMode] of Object.entries(r.latency)) {
    for (const mode of ['longpoll', 'poll']) {
      const x = byMode[mode];
      const a = x.fromConfirmAnswered;
      p(
        `| ${name} | ${mode === 'longpoll' ? 'long-poll' : '1-s polling'} | ${x.logins} | ${f(a.p50, 2)} ms | ${f(a.p99, 2)} ms | ${f(a.max, 2)} ms | ${f(a.mean, 2)} ms | ${f(x.fromConfirmSent.p50, 2)} / ${f(x.fromConfirmSent.p99, 2)} ms | ${x.errors} | ${x.duplicates} |`,
      );
    }
  }
  p('');

  p('## 2. Requests while waiting', '');
  p(
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

  p('## 3. Whole logins per second', '');
  p(
    'Each client repeats a whole login: `POST /api/qrcodes`; the PC long-polls while the phone scans; the PC long-polls again while the phone confirms; the PC holds its token (5 requests). ' +
      `${r.plan.levelSeconds} s per level after ${r.plan.warmup} s of warm-up. Runtime CPU is the CPU time of the server's workerd process over the level; the load generator's own CPU is beside it (both share the 2 cores).`,
    '',
    '| server | clients | logins/s | errors | lost | login p50 / p99 | runtime CPU per login | load generator CPU |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const [name, byLevel] of Object.entries(tput)) {
    for (const c of levels) {
      const t = byLevel[c];
      if (!t) continue;
      const perLogin = t.logins ? (t.runtimeCpuSeconds * 1000) / t.logins : null;
      p(
        `| ${name} | ${c} | ${f(t.perSecond)} | ${t.errors} | ${t.lost} | ${f(t.loginMs.p50)} / ${f(t.loginMs.p99)} ms | ${f(perLogin, 2)} ms | ${f(t.loadGeneratorCpuSeconds, 1)} s |`,
      );
    }
  }
  p('');

  p('## 4. Waiting PCs held at once', '');
  p(
    `A second \`npm start\` with \`--var QR_TTL_SECONDS:${hold.ttlSeconds}\`. Each PC creates a code and long-polls it (\`wait=30\`, again after each timeout). ` +
      'RSS is the sum of VmRSS of the workerd processes under that server (Miniflare runs one); the Node process that hosts Miniflare is listed apart. ' +
      `Then one code in ${r.plan.holdConfirmEvery} is scanned and confirmed (8 at a time), the rest expire; each PC must end with its token (and then 410) or \`expired\`.`,
    '',
    '| waiting PCs | seconds since the first was created | workerd RSS | per waiting PC | workerd open files | Miniflare Node process RSS |',
    '|---|---|---|---|---|---|',
  );
  const base = hold.steps[0];
  for (const st of hold.steps) {
    const n = st.openByClient ?? st.open;
    const per = n ? `${Math.round((st.bytes - base.bytes) / n / 1024)} KiB` : '–';
    p(`| ${int(n)} | ${st.createSeconds ?? '–'} | ${mib(st.bytes)} | ${per} | ${int(st.fds)} | ${mib(st.node)} |`);
  }
  if (hold.stoppedBy) p('', `Stopped adding codes at ${int(hold.total)}: ${hold.stoppedBy}.`);
  p(
    '',
    `Outcomes: ${Object.entries(hold.outcomes)
      .map(([k, v]) => `${k} ${int(v)}`)
      .join(
        ', ',
      )}; confirmed ${int(hold.confirmed)} (in ${f(hold.confirmSeconds)} s); lost ${hold.lost}; duplicated ${hold.duplicates}; ${int(hold.polls)} long-polls in all. ` +
      `RSS after they all ended: ${mib(hold.rssAfter.bytes)}.`,
    '',
  );

  p('## 5. The QR image', '');
  p(
    `CPU time per image in a Node ${r.machine.node} process (V8, as in workerd), ${r.qr.iterations} draws after a warm-up; bytes as sent in the JSON.`,
    '',
    '| scan URL | modules | served (`qrDataUrl`): bytes, CPU | qrcode-svg `svg()`: bytes, CPU | `svg()` as a base64 data URL |',
    '|---|---|---|---|---|',
  );
  for (const x of Object.values(qr)) {
    p(
      `| \`${x.url.replace(/[0-9a-f]{64}/, '<64 hex>')}\` | ${x.modules} × ${x.modules} | ${int(x.served.bytes)} B, ${f(x.served.cpuMs, 2)} ms | ${int(x.qrcodeSvg.bytes)} B, ${f(x.qrcodeSvg.cpuMs, 2)} ms | ${int(x.qrcodeSvgDataUrl.bytes)} B, ${f(x.qrcodeSvgDataUrl.cpuMs, 2)} ms |`,
    );
  }
  p('');

  if (r.tokenCheck) {
    const t = r.tokenCheck;
    p(
      '## 6. What the token check costs',
      '',
      `Every request that checks a token verifies its HS256 signature and reads its linked-device session in D1 (so a revoked device is refused at once). ${int(t.requests)} sequential requests each on \`npm start\`:`,
      '',
      '| request | p50 | p99 |',
      '|---|---|---|',
      `| \`GET /api/me\` (token verified, session read in D1) | ${f(t.me.p50, 2)} ms | ${f(t.me.p99, 2)} ms |`,
      `| \`GET /api/config\` (no token) | ${f(t.config.p50, 2)} ms | ${f(t.config.p99, 2)} ms |`,
      `| the check, at p50 | ${f(t.costP50Ms, 2)} ms | |`,
      '',
    );
  }

  const notes = path.join(HERE, 'notes.md');
  if (existsSync(notes)) p(readFileSync(notes, 'utf8').trimEnd(), '');
  return `${lines.join('\n')}\n`;
}
