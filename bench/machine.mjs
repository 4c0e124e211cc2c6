/**
 * Step 7 of `npm run bench`: what one machine holds. `npm start` alone (the app as
 * deploy/systemd's unit runs it, under that unit's open-files limit when this process may raise
 * it) holds more and more waiting PCs, level by level (1,000, 2,000 … up to the 10,000 asked
 * for, `--machine N`, or as many as its limit allows), each long-polling as the page does
 * (`wait=30`, again after each answer), their connections from several loopback addresses
 * (127.0.0.2 …). At each level the new PCs' first polls are spread over 30 s, the length of one
 * wait, as PCs that arrive one after another are, so that the server is in its steady state:
 * each PC's object wakes for each poll and is evicted 10 s later. Then the server is read every
 * 5 s for one whole wait (30 s): workerd's and the Node front's resident memory, open files and
 * CPU, and the polls answered 429 or 5xx; then whole logins per second beside them (16 clients).
 * A level is held when every PC is still waiting, no poll was answered 429 or 5xx, no login
 * beside them failed and workerd did not restart; the step stops at the first level that is not,
 * or where codes could not be made (and says why), so the largest level held is what this
 * machine holds. How many logins per second it still does beside them is reported, not judged.
 *
 * Open files bound how many: workerd holds each connection under 2 descriptors and each loaded
 * object's SQLite files under 3 (3 to 3.5 per waiting PC in steady state), the front 2 per PC
 * (the client's connection and its own to workerd), and at the limit `accept()` fails and
 * workerd dies. So with a lower limit than asked the step holds what fits under 85 % of it and
 * says so, with the limit it would need.
 */
import { cpuSeconds, openFiles, rssBytes } from './procfs.mjs';
import { openFilesLimit, startServer, stopServer } from './servers.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * Descriptors of workerd per waiting PC in steady state, as measured (3.0 on average, 3.5 at the
 * highest reading, with 2,000): 2 for its connection, and 3 for its object's SQLite files while
 * the object is loaded (10 s after each wake, a wake or two per 30-s poll).
 */
export const WORKERD_FILES_PER_PC = 3.5;
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

/** The levels of waiting PCs, up to `most`. */
export function levelsUpTo(most, steps) {
  const levels = steps.filter((n) => n < most);
  return [...levels, most];
}

/**
 * @param {{ bundleFile: string, persistRoot: string, startLoad: (name: string) => object,
 *   plan: { machinePcs: number, machineLevels: number[], machineSpreadSeconds: number, machineReadSeconds: number, machineLoginSeconds: number } }} opts
 */
export async function measureMachine({ bundleFile, persistRoot, startLoad, plan }, log) {
  const nofile = openFilesLimit(UNIT_NOFILE);
  const server = await startServer({
    name: 'machine',
    kind: 'start',
    bundleFile,
    persistRoot,
    vars: { QR_TTL_SECONDS: '7200' },
    nofile: Number.isFinite(nofile.limit) ? nofile.limit : undefined,
  });
  const load = startLoad('load-machine');
  const logins = startLoad('load-machine-logins');
  try {
    // The front's memory settles some seconds after Miniflare's start-up.
    await sleep(10_000);
    const idle = snapshot(server);
    const fit = pcsThatFit(nofile.limit, idle);
    const most = Math.min(plan.machinePcs, fit);
    const levels = levelsUpTo(most, plan.machineLevels);
    log(
      `step 7: open-files limit ${nofile.limit}${nofile.raised ? ` (raised as the unit's LimitNOFILE=${UNIT_NOFILE})` : ` (the hard limit: ${UNIT_NOFILE} could not be set here)`}; levels of ${levels.join(', ')} of the ${plan.machinePcs} waiting PCs asked for`,
    );
    const addresses = Array.from({ length: Math.ceil(most / PCS_PER_ADDRESS) }, (_, i) => `127.0.0.${i + 2}`);
    const phone = await logins.run('login', { base: server.base, username: 'dong', password: '111' });
    const level = { base: server.base, phone, concurrency: 16, seconds: plan.machineLoginSeconds, warmupSeconds: 0.5 };
    // Whole logins per second with no PC waiting, the same server and minute, to set beside the figures with them.
    const alone = await logins.run('throughput', level);
    log(`step 7: ${alone.perSecond.toFixed(1)} whole logins/s with no PC waiting (16 clients, ${alone.errors} errors)`);
    await sleep(11_000);
    const results = [];
    let stoppedBy = null;
    for (const [i, pcs] of levels.entries()) {
      const before = results.at(-1)?.pcs ?? 0;
      const t0 = Date.now();
      for (let made = before; made < pcs; made += 500) {
        const r = await load.run('make', {
          base: server.base,
          count: Math.min(500, pcs - made),
          round: i + 1,
          localAddresses: addresses,
        });
        if (r.errors) {
          stoppedBy = `${r.errors} errors making the codes of the level of ${int(pcs)}`;
          break;
        }
      }
      if (stoppedBy) break;
      const makeSeconds = (Date.now() - t0) / 1000;
      await sleep(11_000); // their objects evicted
      await load.run('wait', { round: i + 1, spreadMs: plan.machineSpreadSeconds * 1000 });
      await sleep(plan.machineSpreadSeconds * 1000);
      const first = await load.run('count', {});
      const cpu0 = { at: Date.now(), workerd: cpuSeconds(server.pids()), front: cpuSeconds([server.child.pid]) };
      const readings = [];
      const end = Date.now() + plan.machineReadSeconds * 1000;
      do {
        const c = await load.run('count', { youngerThanMs: 11_000 });
        readings.push({ ...snapshot(server), open: c.open, younger: c.younger });
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
      const t = await logins.run('throughput', level);
      const after = await load.run('count', {});
      const restarted = server.pids().some((pid) => !idle.workerdPids.includes(pid));
      const result = {
        pcs,
        makeSeconds,
        readings,
        steady,
        logins: { perSecond: t.perSecond, errors: t.errors, errorSamples: t.errorSamples },
        stillWaiting: after.open,
        ended: after.ended,
        retriedByStatus: { ...after.retriedByStatus },
        restarted,
      };
      results.push(result);
      const x = levelFigures(result, idle);
      log(
        `step 7: ${pcs} waiting: workerd ${mib(x.workerdBytes)} / ${int(x.workerdFiles)} files, front ${mib(x.nodeBytes)} / ${int(x.nodeFiles)} files; ${steady.pollsPerSecond.toFixed(1)} polls/s, ${steady.retried} answered 429/5xx; workerd ${steady.workerdCores.toFixed(2)} cores; ${t.perSecond.toFixed(1)} logins/s beside them (${t.errors} errors)`,
      );
      const failed = [
        steady.retried && `${steady.retried} polls answered 429 or 5xx`,
        t.errors && `${t.errors} logins failed`,
        after.ended && `${after.ended} waits ended unasked`,
        restarted && 'workerd restarted',
      ].filter(Boolean);
      result.failed = failed.length > 0;
      if (failed.length) {
        stoppedBy = `at ${int(pcs)} waiting PCs: ${failed.join(', ')}`;
        break;
      }
    }
    if (stoppedBy) log(`step 7: stopped ${stoppedBy}`);
    const held = results.filter((r) => !r.failed).at(-1) ?? null;
    return {
      nofile,
      asked: plan.machinePcs,
      fit,
      most,
      levels,
      addresses: addresses.length,
      idle,
      loginsAlone: { perSecond: alone.perSecond, errors: alone.errors },
      results,
      held: held?.pcs ?? 0,
      stoppedBy,
    };
  } finally {
    load.stop();
    logins.stop();
    stopServer(server);
  }
}

// ---------------------------------------------------------------- the report's section 7

const mib = (bytes) => `${Math.round(bytes / 2 ** 20).toLocaleString('en-US')} MiB`;
const int = (x) => Math.round(x).toLocaleString('en-US');
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / (xs.length || 1);

/** One level's readings: their means and maxima, and per waiting PC over the idle server. */
export function levelFigures(level, idle) {
  const rs = level.readings;
  const avg = (key) => mean(rs.map((x) => x[key]));
  const n = mean(rs.map((x) => x.open)) || 1;
  const per = (key) => (avg(key) - idle[key]) / n;
  return {
    n,
    workerdBytes: avg('workerdBytes'),
    nodeBytes: avg('nodeBytes'),
    workerdFiles: avg('workerdFiles'),
    nodeFiles: avg('nodeFiles'),
    maxWorkerdFiles: Math.max(...rs.map((x) => x.workerdFiles)),
    younger: mean(rs.map((x) => x.younger)),
    kibWorkerd: per('workerdBytes') / 1024,
    kibNode: per('nodeBytes') / 1024,
    filesWorkerd: per('workerdFiles'),
    filesNode: per('nodeFiles'),
  };
}

/** The largest level held, or null. */
const heldLevel = (m) => m.results?.find((r) => r.pcs === m.held) ?? null;

export function machineSection(r, p) {
  const m = r.machineHold;
  if (!m?.results) return;
  p('## 7. What one machine holds', '');
  if (m.date)
    p(
      `Measured on its own ${m.date.slice(0, 16).replace('T', ' ')} UTC${m.commit ? ` at commit \`${m.commit}\`` : ''} with \`${m.command}\`; load average before ${m.loadBefore.join(' / ')}, after ${m.loadAfter.join(' / ')}; processes outside the benchmark used ${m.othersCores.toFixed(2)} of the cores on average meanwhile${m.othersCores > 0.1 ? ' (**the machine was not quiet: treat the figures as rough**)' : ''}.`,
      '',
    );
  const limit = m.nofile.raised
    ? `raised to ${int(m.nofile.limit)}, as the unit's \`LimitNOFILE=\` does`
    : `${int(m.nofile.limit)}: the hard limit here, which this machine does not let the benchmark raise to the unit's ${int(m.nofile.wanted)}`;
  p(
    `\`npm start\` alone (the production bundle on workerd behind its Node front, storage on disk), its open-files limit ${limit}. ${int(m.asked)} waiting PCs asked for${m.most < m.asked ? `; ${int(m.most)} fit under 85 % of that limit (about ${WORKERD_FILES_PER_PC} descriptors of workerd and ${FRONT_FILES_PER_PC} of the front per waiting PC, and room for the logins)` : ''}. Level by level, the new PCs wait (from ${m.addresses} loopback address${m.addresses > 1 ? 'es' : ''}, long-polling as the page does, \`wait=30\`), their first polls spread over ${r.plan.machineSpreadSeconds} s so that the server is in its steady state (each PC's object wakes for its poll and is evicted 10 s later); the server is read every 5 s for ${r.plan.machineReadSeconds} s, then whole logins are measured beside them (16 clients, ${r.plan.machineLoginSeconds} s; ${m.loginsAlone.perSecond.toFixed(1)} /s with no PC waiting, the same minute). A level is held when every PC still waits, no poll was answered 429 or 5xx, no login failed and workerd did not restart; the logins per second beside them are reported, not judged. Per waiting PC = (mean reading − idle) ÷ PCs waiting.`,
    '',
    '| waiting PCs | workerd: RSS; open files (highest) | front: RSS; open files | per waiting PC: memory, workerd + front; open files, workerd + front | polls/s; answered 429/5xx | workerd CPU: cores; per poll | logins/s beside them (errors) | held |',
    '|---|---|---|---|---|---|---|---|',
    `| idle | ${mib(m.idle.workerdBytes)}; ${int(m.idle.workerdFiles)} | ${mib(m.idle.nodeBytes)}; ${int(m.idle.nodeFiles)} | | | | ${m.loginsAlone.perSecond.toFixed(1)} (${m.loginsAlone.errors}) | |`,
  );
  for (const level of m.results) {
    const x = levelFigures(level, m.idle);
    const s = level.steady;
    const held = level.pcs <= m.held ? 'yes' : '**no**';
    // The front's memory moves by tens of MiB on its own: a share below its idle reading is noise.
    const kibNode = x.kibNode < 0 ? '~0' : int(x.kibNode);
    p(
      `| ${int(level.pcs)} | ${mib(x.workerdBytes)}; ${int(x.workerdFiles)} (${int(x.maxWorkerdFiles)}) | ${mib(x.nodeBytes)}; ${int(x.nodeFiles)} | ${int(x.kibWorkerd)} + ${kibNode} KiB; ${x.filesWorkerd.toFixed(2)} + ${x.filesNode.toFixed(2)} | ${s.pollsPerSecond.toFixed(1)}; ${int(s.retried)} | ${s.workerdCores.toFixed(2)}; ${s.workerdMsPerPoll?.toFixed(2) ?? '–'} ms | ${level.logins.perSecond.toFixed(1)} (${level.logins.errors}) | ${held} |`,
    );
  }
  p('');
  if (m.stoppedBy) p(`Stopped: ${m.stoppedBy}.`, '');
  const top = heldLevel(m) ?? m.results.at(-1);
  const x = levelFigures(top, m.idle);
  const ms = top.steady.workerdMsPerPoll;
  if (ms) {
    const most = (30_000 / ms) * 0.8;
    p(
      `Locally one workerd thread runs every object, and each waiting PC polls again every 30 s, waking its object: at ${ms.toFixed(2)} ms of workerd CPU per poll (${int(top.pcs)} waiting), ${int(m.asked)} waiting PCs would need ${(((m.asked / 30) * ms) / 1000).toFixed(2)} of that thread's core for their polls alone, and 80 % of one core serves the polls of about ${int(Math.floor(most / 100) * 100)}, whatever the open-files limit.`,
      '',
    );
  }
  if (m.held < m.asked) {
    const files = m.idle.workerdFiles + WORKERD_FILES_PER_PC * m.asked;
    p(
      `${int(m.asked)} waiting PCs, projected from the level of ${int(top.pcs)} (not measured here): workerd about ${int(files)} open files and ${mib(m.idle.workerdBytes + x.kibWorkerd * 1024 * m.asked)}, the front about ${int(m.idle.nodeFiles + FRONT_FILES_PER_PC * m.asked)} open files and ${mib(m.idle.nodeBytes + x.kibNode * 1024 * m.asked)}: each process needs an open-files limit above ${int(Math.ceil(files / 0.85 / 1000) * 1000)}, which deploy/systemd/qrcode-login.service gives it (\`LimitNOFILE=${UNIT_NOFILE}\`).`,
      '',
    );
  }
}

/** The summary's row for step 7. */
export function machineSummaryRow(r) {
  const m = r.machineHold;
  if (!m?.results) return [];
  const top = heldLevel(m);
  const x = top && levelFigures(top, m.idle);
  return [
    `| One machine, \`npm start\` alone (step 7): waiting PCs held at once (of ${int(m.asked)} asked); per waiting PC, memory and open files of workerd + the front; whole logins/s beside them | ${int(m.held)}${m.stoppedBy ? ` (then: ${m.stoppedBy})` : ''}${x ? `; ${int(x.kibWorkerd)} + ${int(x.kibNode)} KiB, ${x.filesWorkerd.toFixed(2)} + ${x.filesNode.toFixed(2)}; ${top.logins.perSecond.toFixed(1)}` : ''} | | ${int(m.asked)} |`,
  ];
}
