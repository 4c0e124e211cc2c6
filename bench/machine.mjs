/**
 * Step 7 of `npm run bench`: what one machine holds. `npm start` (the app as deploy/systemd's
 * unit runs it, under that unit's open-files limit when this process may raise it) holds as
 * many waiting PCs as were asked for (10,000; `--machine N`), or as many as its limit allows,
 * long-polling as the page does (`wait=30`, again after each answer), their connections from
 * several loopback addresses (127.0.0.2 …). Their first polls are spread over 30 s, the length
 * of one wait, as PCs that arrive one after another are: so from the start the server is in its
 * steady state, where each PC's object wakes for each poll and is evicted 10 s later (about a
 * third of them loaded at any moment). Once all wait, the server is read every 5 s for one
 * whole wait (30 s): workerd's and the Node front's resident memory and open files, over the
 * idle server, per waiting PC; then whole logins per second are measured beside them (16
 * clients), and every PC must still be waiting.
 *
 * Open files bound how many: workerd holds each connection under 2 descriptors and each loaded
 * object's SQLite files under 3 (about 3 per waiting PC in steady state), the front 2 per PC
 * (the client's connection and its own to workerd), and at the limit `accept()` fails and
 * workerd dies. So with a lower limit than asked the step holds what fits under 85 % of it and
 * says so, with the limit it would need.
 */
import { cpuSeconds, openFiles, rssBytes } from './procfs.mjs';
import { openFilesLimit, startServer } from './servers.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** Descriptors of workerd per waiting PC in steady state: 2 for its connection, 3 × ⅓ for its object's SQLite files. */
export const WORKERD_FILES_PER_PC = 3;
/** Descriptors of the Node front per waiting PC: the client's connection and its own to workerd. */
export const FRONT_FILES_PER_PC = 2;
/** Open files kept free for the logins measured beside the waiting PCs (each loads objects for 10 s). */
const LOGINS_RESERVE = 1500;
/** What deploy/systemd/qrcode-login.service sets. */
export const UNIT_NOFILE = 65_536;
const PCS_PER_ADDRESS = 2_000;

function snapshot(server) {
  const workerd = server.pids();
  const node = server.child.pid;
  return {
    at: Date.now(),
    workerdBytes: workerd.reduce((s, pid) => s + rssBytes(pid), 0),
    nodeBytes: rssBytes(node),
    workerdFiles: openFiles(workerd).all,
    nodeFiles: openFiles([node]).all,
    workerdPids: workerd,
  };
}

/** How many PCs fit under 85 % of `limit`, given what the idle server already holds. */
export function pcsThatFit(limit, idle) {
  const workerd = (0.85 * limit - idle.workerdFiles - LOGINS_RESERVE) / WORKERD_FILES_PER_PC;
  const front = (0.85 * limit - idle.nodeFiles) / FRONT_FILES_PER_PC;
  return Math.max(0, Math.floor(Math.min(workerd, front) / 100) * 100);
}

/**
 * @param {{ bundleFile: string, persistRoot: string, startLoad: (name: string) => object,
 *   plan: { machinePcs: number, machineSpreadSeconds: number, machineReadSeconds: number, machineLoginSeconds: number } }} opts
 */
export async function measureMachine({ bundleFile, persistRoot, startLoad, plan }, log) {
  const nofile = openFilesLimit(UNIT_NOFILE);
  const server = await startServer({
    name: 'machine',
    kind: 'start',
    bundleFile,
    persistRoot,
    vars: { QR_TTL_SECONDS: '900' },
    nofile: Number.isFinite(nofile.limit) ? nofile.limit : undefined,
  });
  const load = startLoad('load-machine');
  const logins = startLoad('load-machine-logins');
  try {
    // The front's memory settles some seconds after Miniflare's start-up.
    await sleep(10_000);
    const idle = snapshot(server);
    const fit = pcsThatFit(nofile.limit, idle);
    const pcs = Math.min(plan.machinePcs, fit);
    log(
      `step 7: open-files limit ${nofile.limit}${nofile.raised ? ` (raised as the unit's LimitNOFILE=${UNIT_NOFILE})` : ` (the hard limit: ${UNIT_NOFILE} could not be set here)`}; ${pcs} of ${plan.machinePcs} waiting PCs`,
    );
    const addresses = Array.from({ length: Math.ceil(pcs / PCS_PER_ADDRESS) }, (_, i) => `127.0.0.${i + 2}`);
    const phone = await logins.run('login', { base: server.base, username: 'dong', password: '111' });
    const level = { base: server.base, phone, concurrency: 16, seconds: plan.machineLoginSeconds, warmupSeconds: 0.5 };
    // Whole logins per second with no PC waiting, the same server and minute, to set beside the figure with them.
    const alone = await logins.run('throughput', level);
    log(`step 7: ${alone.perSecond.toFixed(1)} whole logins/s with no PC waiting (16 clients, ${alone.errors} errors)`);
    await sleep(11_000);
    const t0 = Date.now();
    for (let made = 0; made < pcs; made += 500) {
      const r = await load.run('make', {
        base: server.base,
        count: Math.min(500, pcs - made),
        localAddresses: addresses,
      });
      if (r.errors) throw new Error(`step 7: ${r.errors} errors making codes`);
    }
    const makeSeconds = (Date.now() - t0) / 1000;
    log(`step 7: ${pcs} codes made in ${makeSeconds.toFixed(0)} s; waiting for their objects to be evicted`);
    await sleep(11_000);
    const made = snapshot(server);
    log(`step 7: the PCs start waiting, spread over ${plan.machineSpreadSeconds} s`);
    await load.run('wait', { round: 1, spreadMs: plan.machineSpreadSeconds * 1000 });
    await sleep(plan.machineSpreadSeconds * 1000);
    const first = await load.run('count', {});
    const cpu0 = { at: Date.now(), workerd: cpuSeconds(server.pids()), front: cpuSeconds([server.child.pid]) };
    const readings = [];
    const end = Date.now() + plan.machineReadSeconds * 1000;
    do {
      const c = await load.run('count', { youngerThanMs: 11_000 });
      readings.push({ ...snapshot(server), open: c.open, younger: c.younger, ended: c.ended });
      log(
        `step 7: ${c.open} waiting (${c.younger} polled in the last 11 s), workerd ${Math.round(readings.at(-1).workerdBytes / 2 ** 20)} MiB / ${readings.at(-1).workerdFiles} files, front ${Math.round(readings.at(-1).nodeBytes / 2 ** 20)} MiB / ${readings.at(-1).nodeFiles} files`,
      );
      if (Date.now() < end) await sleep(Math.min(5000, end - Date.now()));
    } while (Date.now() < end);
    const last = await load.run('count', {});
    const window = (Date.now() - cpu0.at) / 1000;
    // The steady state's cost: the runtime's CPU over the polls the PCs made meanwhile.
    const steady = {
      seconds: window,
      polls: last.polls - first.polls,
      retried: last.retried - first.retried,
      workerdCores: (cpuSeconds(server.pids()) - cpu0.workerd) / window,
      frontCores: (cpuSeconds([server.child.pid]) - cpu0.front) / window,
    };
    steady.pollsPerSecond = steady.polls / window;
    steady.workerdMsPerPoll = steady.polls ? (steady.workerdCores * window * 1000) / steady.polls : null;
    log(
      `step 7: steady state: ${steady.pollsPerSecond.toFixed(1)} polls/s (${steady.retried} answered 429/5xx), workerd ${steady.workerdCores.toFixed(2)} cores (${steady.workerdMsPerPoll?.toFixed(2)} ms per poll), front ${steady.frontCores.toFixed(2)} cores`,
    );
    const t = await logins.run('throughput', level);
    const during = snapshot(server);
    const after = await load.run('count', { youngerThanMs: 11_000 });
    log(
      `step 7: ${t.perSecond.toFixed(1)} whole logins/s beside them (16 clients, ${t.errors} errors); ${after.open} of ${pcs} still waiting, ${after.ended} ended`,
    );
    const restarted = server.pids().some((pid) => !idle.workerdPids.includes(pid));
    return {
      nofile,
      asked: plan.machinePcs,
      fit,
      pcs,
      addresses: addresses.length,
      makeSeconds,
      idle,
      made,
      readings,
      during,
      loginsAlone: { perSecond: alone.perSecond, errors: alone.errors },
      logins: {
        concurrency: 16,
        seconds: plan.machineLoginSeconds,
        perSecond: t.perSecond,
        errors: t.errors,
        errorSamples: t.errorSamples,
      },
      steady,
      retriedByStatus: after.retriedByStatus,
      stillWaiting: after.open,
      ended: after.ended,
      outcomes: after.outcomes,
      polls: after.polls,
      retried: after.retried,
      restarted,
    };
  } finally {
    load.stop();
    logins.stop();
    try {
      process.kill(-server.child.pid, 'SIGTERM');
    } catch {}
  }
}

// ---------------------------------------------------------------- the report's section 7

const mib = (bytes) => `${Math.round(bytes / 2 ** 20).toLocaleString('en-US')} MiB`;
const int = (x) => Math.round(x).toLocaleString('en-US');
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / (xs.length || 1);

/** Per waiting PC over the idle server, and the readings' means and maxima. */
export function machineFigures(m) {
  const rs = m.readings;
  const avg = (key) => mean(rs.map((x) => x[key]));
  const max = (key) => Math.max(...rs.map((x) => x[key]));
  const n = mean(rs.map((x) => x.open)) || 1;
  const per = (key) => (avg(key) - m.idle[key]) / n;
  return {
    n,
    workerdBytes: avg('workerdBytes'),
    nodeBytes: avg('nodeBytes'),
    workerdFiles: avg('workerdFiles'),
    nodeFiles: avg('nodeFiles'),
    maxWorkerdBytes: max('workerdBytes'),
    maxNodeBytes: max('nodeBytes'),
    maxWorkerdFiles: max('workerdFiles'),
    maxNodeFiles: max('nodeFiles'),
    younger: mean(rs.map((x) => x.younger)),
    kibWorkerd: per('workerdBytes') / 1024,
    kibNode: per('nodeBytes') / 1024,
    filesWorkerd: per('workerdFiles'),
    filesNode: per('nodeFiles'),
  };
}

export function machineSection(r, p) {
  const m = r.machineHold;
  if (!m) return;
  const x = machineFigures(m);
  const limit = m.nofile.raised
    ? `raised to ${int(m.nofile.limit)}, as the unit's \`LimitNOFILE=\` does`
    : `${int(m.nofile.limit)}: the hard limit here, which this machine does not let the benchmark raise to the unit's ${int(m.nofile.wanted)}`;
  p('## 7. What one machine holds', '');
  if (m.date)
    p(
      `Measured on its own ${m.date.slice(0, 16).replace('T', ' ')} UTC${m.commit ? ` at commit \`${m.commit}\`` : ''} with \`${m.command}\`; load average before ${m.loadBefore.join(' / ')}, after ${m.loadAfter.join(' / ')}; processes outside the benchmark used ${m.othersCores.toFixed(2)} of the cores on average meanwhile.`,
      '',
    );
  p(
    `\`npm start\` alone (the production bundle on workerd behind its Node front, storage on disk), its open-files limit ${limit}. Asked for ${int(m.asked)} waiting PCs; ${m.pcs < m.asked ? `${int(m.pcs)} fit under 85 % of that limit (about ${WORKERD_FILES_PER_PC} descriptors of workerd and ${FRONT_FILES_PER_PC} of the front per waiting PC, and room for the logins), so ${int(m.pcs)} were held` : `${int(m.pcs)} were held`}, from ${m.addresses} loopback address${m.addresses > 1 ? 'es' : ''}, each long-polling as the page does (\`wait=30\`, again after each answer), their first polls spread over ${r.plan.machineSpreadSeconds} s so that the server is in its steady state (each PC's object wakes for its poll and is evicted 10 s later: ${int(x.younger)} of them polled in the last 11 s, on average). Read every 5 s for ${r.plan.machineReadSeconds} s, then whole logins (16 clients, ${m.logins.seconds} s) beside them.`,
    '',
    '| | workerd | Node front | together |',
    '|---|---|---|---|',
    `| idle: resident memory; open files | ${mib(m.idle.workerdBytes)}; ${int(m.idle.workerdFiles)} | ${mib(m.idle.nodeBytes)}; ${int(m.idle.nodeFiles)} | ${mib(m.idle.workerdBytes + m.idle.nodeBytes)} |`,
    `| ${int(x.n)} PCs waiting, mean of the readings: resident memory; open files | ${mib(x.workerdBytes)}; ${int(x.workerdFiles)} | ${mib(x.nodeBytes)}; ${int(x.nodeFiles)} | ${mib(x.workerdBytes + x.nodeBytes)}; ${int(x.workerdFiles + x.nodeFiles)} |`,
    `| …the highest reading | ${mib(x.maxWorkerdBytes)}; ${int(x.maxWorkerdFiles)} | ${mib(x.maxNodeBytes)}; ${int(x.maxNodeFiles)} | |`,
    `| **per waiting PC**, over the idle server: memory; open files | ${int(x.kibWorkerd)} KiB; ${x.filesWorkerd.toFixed(2)} | ${int(x.kibNode)} KiB; ${x.filesNode.toFixed(2)} | ${int(x.kibWorkerd + x.kibNode)} KiB; ${(x.filesWorkerd + x.filesNode).toFixed(2)} |`,
    `| steady state over the readings: CPU in cores (and per poll); polls per second | ${m.steady ? `${m.steady.workerdCores.toFixed(2)}; ${m.steady.workerdMsPerPoll?.toFixed(2)} ms` : '–'} | ${m.steady ? m.steady.frontCores.toFixed(2) : '–'} | ${m.steady ? `${m.steady.pollsPerSecond.toFixed(1)} polls/s, ${int(m.steady.retried)} answered 429 or 5xx and tried again` : '–'} |`,
    `| whole logins per second, 16 clients (errors): with no PC waiting / beside them | | | ${m.loginsAlone ? `${m.loginsAlone.perSecond.toFixed(1)} (${m.loginsAlone.errors})` : '–'} / ${m.logins.perSecond.toFixed(1)} (${m.logins.errors}) |`,
    `| PCs still waiting at the end; waits that ended unasked; workerd restarted | | | ${int(m.stillWaiting)} of ${int(m.pcs)}; ${m.ended}; ${m.restarted ? '**yes**' : 'no'} |`,
    '',
  );
  if (m.steady?.workerdMsPerPoll) {
    const most = (30_000 / m.steady.workerdMsPerPoll) * 0.8;
    p(
      `Locally one workerd thread runs every object, and each waiting PC polls again every 30 s, waking its object: at ${m.steady.workerdMsPerPoll.toFixed(2)} ms of workerd CPU per poll, ${int(m.asked)} waiting PCs would need ${(((m.asked / 30) * m.steady.workerdMsPerPoll) / 1000).toFixed(2)} of that thread's core for their polls alone, and 80 % of one core holds about ${int(Math.floor(most / 100) * 100)}, whatever the open-files limit.`,
      '',
    );
  }
  if (m.pcs < m.asked) {
    const files = m.idle.workerdFiles + WORKERD_FILES_PER_PC * m.asked;
    p(
      `${int(m.asked)} waiting PCs, projected from these figures (not measured here): workerd about ${int(files)} open files and ${mib(m.idle.workerdBytes + x.kibWorkerd * 1024 * m.asked)}, the front about ${int(m.idle.nodeFiles + FRONT_FILES_PER_PC * m.asked)} open files and ${mib(m.idle.nodeBytes + x.kibNode * 1024 * m.asked)}: each process needs an open-files limit above ${int(Math.ceil(files / 0.85 / 1000) * 1000)}, which deploy/systemd/qrcode-login.service gives it (\`LimitNOFILE=${UNIT_NOFILE}\`).`,
      '',
    );
  }
}

/** The summary's row for step 7. */
export function machineSummaryRow(r) {
  const m = r.machineHold;
  if (!m) return [];
  const x = machineFigures(m);
  return [
    `| One machine, \`npm start\` alone (step 7): waiting PCs held at once; per waiting PC, memory and open files of workerd + the front; whole logins/s beside them | ${int(m.pcs)}${m.pcs < m.asked ? ` (the open-files limit of ${int(m.nofile.limit)} allows no more here)` : ''}; ${int(x.kibWorkerd)} + ${int(x.kibNode)} KiB, ${x.filesWorkerd.toFixed(2)} + ${x.filesNode.toFixed(2)}; ${m.logins.perSecond.toFixed(1)} | | ${int(m.asked)} |`,
  ];
}
