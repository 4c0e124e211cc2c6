#!/usr/bin/env node
/**
 * `npm run bench [-- --quick] [--out DIR] [--no-dev | --dev]`: starts the app with `npm start`'s
 * script (RATE_LIMIT=off, storage in a temporary directory) and, for reference, `wrangler dev`;
 * drives them over loopback from `bench/load.mjs` (separate processes); writes
 * `docs/benchmarks.md` and `docs/benchmarks.json`. Measurements, not tests: nothing fails on
 * a figure, only on an error of the suite itself.
 *
 * The full run takes about four minutes on a 2-core machine; `--quick` (CI) shrinks every
 * step, takes under 30 s and writes to a temporary directory unless `--out` is given.
 */
import { execFileSync, fork, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from '../scripts/start.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const outArg = argv.indexOf('--out');
const OUT =
  outArg >= 0
    ? path.resolve(argv[outArg + 1])
    : QUICK
      ? path.join(os.tmpdir(), 'qrcode-login-bench-quick')
      : path.join(ROOT, 'docs');
process.env.WRANGLER_SEND_METRICS = 'false';

/** Every size of the run, full and quick. */
const PLAN = QUICK
  ? {
      latencyLogins: 20,
      latencyConcurrency: 2,
      pollLogins: 20,
      pollConcurrency: 20,
      waitPcs: 5,
      waitSeconds: 3,
      levels: [1, 16],
      levelSeconds: 1,
      warmup: 0.3,
      tmpfsLevels: [],
      directLevels: [],
      hold: [50, 100, 150],
      holdChunk: 50,
      holdTtl: 5,
      holdFdShare: 0.7,
      holdConfirmEvery: 2,
    }
  : {
      latencyLogins: 500,
      latencyConcurrency: 8,
      pollLogins: 500,
      pollConcurrency: 25,
      waitPcs: 10,
      waitSeconds: 62,
      levels: [1, 16, 64],
      levelSeconds: 4,
      warmup: 0.5,
      tmpfsLevels: [64],
      directLevels: [64],
      hold: [1000, 5000, 10000],
      holdChunk: 250,
      holdTtl: 60,
      holdFdShare: 0.7,
      holdConfirmEvery: 4,
    };
// `wrangler dev` is the reference of the full run; the quick run skips it unless `--dev`.
const WITH_DEV = !argv.includes('--no-dev') && (!QUICK || argv.includes('--dev'));

const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0)} s`;
const log = (msg) => console.log(`[bench ${elapsed()}] ${msg}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

// ---------------------------------------------------------------- processes and /proc

const children = [];
function startProcess(name, args, env = {}) {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env, FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: we stop it and its workerd together
  });
  child.output = '';
  child.stdout.on('data', (d) => (child.output += d));
  child.stderr.on('data', (d) => (child.output += d));
  child.label = name;
  children.push(child);
  return child;
}

function stopAll() {
  for (const child of children) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {}
  }
}
process.on('exit', stopAll);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

async function waitReady(base, child, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`${child.label} exited:\n${child.output}`);
    try {
      const res = await fetch(`${base}/api/config`);
      if (res.ok) return;
    } catch {}
    await sleep(200);
  }
  throw new Error(`${child.label} did not answer within ${timeoutMs / 1000} s:\n${child.output}`);
}

/** pid → { ppid, comm, utime+stime ticks } for every process. */
function processTable() {
  const table = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      table.set(Number(entry), { ppid: Number(fields[1]), comm, ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {}
  }
  return table;
}

/** The workerd processes under `rootPid` (the runtime of one server). */
function runtimePids(rootPid) {
  const table = processTable();
  const under = (pid) => {
    for (let p = pid; p > 1; p = table.get(p)?.ppid ?? 0) if (p === rootPid) return true;
    return false;
  };
  return [...table].filter(([pid, p]) => p.comm === 'workerd' && under(pid)).map(([pid]) => pid);
}

function rssBytes(pid) {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds used so far by the runtime processes of a server. */
function runtimeCpuSeconds(server) {
  const table = processTable();
  return server.pids().reduce((s, pid) => s + (table.get(pid)?.ticks ?? 0), 0) / 100;
}

function loadAverage() {
  return os.loadavg().map((l) => Number(l.toFixed(2)));
}

// ---------------------------------------------------------------- servers

let bundleFile;
const cleanup = [];
async function startServer(name, kind, extraVars = {}, extraArgs = [], persistRoot = TMP) {
  const port = await freePort();
  const persist = path.join(persistRoot, name);
  const vars = { RATE_LIMIT: 'off', ...extraVars };
  const varArgs = Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]);
  let child;
  if (kind === 'start') {
    child = startProcess(name, [
      'scripts/start.mjs',
      '--port',
      String(port),
      '--ip',
      '127.0.0.1',
      '--persist-to',
      persist,
      '--bundle',
      bundleFile,
      // The benchmark's phones sign in as the demo user.
      '--demo',
      ...varArgs,
      ...extraArgs,
    ]);
  } else {
    // `npm run dev` with its own storage: the migrations and demo accounts, then `wrangler dev`.
    const wrangler = path.join(ROOT, 'node_modules/wrangler/bin/wrangler.js');
    for (const args of [
      ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist],
      ['d1', 'execute', 'DB', '--local', '--persist-to', persist, '--file', 'seed/demo-users.sql'],
    ]) {
      execFileSync(process.execPath, [wrangler, ...args], { cwd: ROOT, stdio: 'ignore', env: process.env });
    }
    child = startProcess(name, [
      wrangler,
      'dev',
      '--port',
      String(port),
      '--ip',
      '127.0.0.1',
      '--persist-to',
      persist,
      '--inspector-port',
      String(await freePort()),
      ...varArgs,
    ]);
  }
  const base = `http://127.0.0.1:${port}`;
  await waitReady(base, child);
  log(`${name} ready at ${base}`);
  return { name, kind, base, child, pids: () => runtimePids(child.pid) };
}

// ---------------------------------------------------------------- the load generators

function startLoad(name) {
  const child = fork(path.join(ROOT, 'bench/load.mjs'), [], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  let nextId = 0;
  const pending = new Map();
  child.on('message', (msg) => {
    const p = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.ok)
      p.resolve(typeof msg.result === 'object' ? { ...msg.result, loadCpuSeconds: msg.cpuSeconds } : msg.result);
    else p.reject(new Error(`${name}: ${msg.error}`));
  });
  child.on('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`${name} exited with ${code}`));
  });
  return {
    run(task, args) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ id, task, ...args });
      });
    },
  };
}

// ---------------------------------------------------------------- statistics

function quantile(sorted, q) {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}
function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const r = (x) => (x === null ? null : Math.round(x * 100) / 100);
  return {
    n: sorted.length,
    p50: r(quantile(sorted, 0.5)),
    p99: r(quantile(sorted, 0.99)),
    max: r(sorted.at(-1) ?? null),
    mean: r(sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1)),
  };
}

// ---------------------------------------------------------------- the run

const TMP = mkdtempSync(path.join(os.tmpdir(), 'qrcode-login-bench-'));
const result = {
  quick: QUICK,
  date: new Date().toISOString(),
  command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
  machine: {},
  plan: PLAN,
  servers: {},
  latency: {},
  waiting: {},
  throughput: {},
  hold: null,
  qr: null,
};

async function main() {
  const workerdBin = path.join(ROOT, 'node_modules/wrangler/node_modules/@cloudflare/workerd-linux-64/bin/workerd');
  let workerdVersion = 'unknown';
  try {
    workerdVersion = execFileSync(workerdBin, ['--version'], { encoding: 'utf8' }).trim();
  } catch {}
  result.machine = {
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    workerd: workerdVersion,
    wrangler: JSON.parse(readFileSync(path.join(ROOT, 'node_modules/wrangler/package.json'), 'utf8')).version,
    openFilesLimit: Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()),
    loadBefore: loadAverage(),
  };
  try {
    result.commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {}
  log(`${QUICK ? 'quick' : 'full'} run; load average ${result.machine.loadBefore.join(' ')}; storage in ${TMP}`);

  // The servers, side by side: `npm start`, a second `npm start` with a short QR lifetime for
  // the waiting PCs (step 4), optionally `npm start -- --direct`, and `wrangler dev`.
  log('bundling once with wrangler deploy --dry-run');
  // Inside the project: workerd names modules by their path from the project root.
  const bundleDir = path.join(ROOT, `.wrangler/tmp/bench-bundle-${process.pid}`);
  cleanup.push(() => rmSync(bundleDir, { recursive: true, force: true }));
  bundleFile = bundle(bundleDir);
  const starting = [
    startServer('start', 'start'),
    startServer('start-hold', 'start', { QR_TTL_SECONDS: String(PLAN.holdTtl) }),
  ];
  // Storage in memory (tmpfs) instead of on disk, to separate the runtime's own cost from the
  // cost of SQLite syncing each Durable Object and D1 write to this machine's disk.
  const SHM = existsSync('/dev/shm') && PLAN.directLevels.length ? mkdtempSync('/dev/shm/qrcode-login-bench-') : null;
  if (SHM) {
    cleanup.push(() => rmSync(SHM, { recursive: true, force: true }));
    starting.push(startServer('start-tmpfs', 'start', {}, [], SHM));
    starting.push(startServer('start-direct-tmpfs', 'start', {}, ['--direct'], SHM));
  }
  if (WITH_DEV) starting.push(startServer('wrangler-dev', 'dev'));
  const [start, hold, ...others] = await Promise.all(starting);
  const tmpfs = others.find((s) => s.name === 'start-tmpfs');
  const direct = others.find((s) => s.name === 'start-direct-tmpfs');
  const dev = others.find((s) => s.name === 'wrangler-dev');
  const measured = [start, dev].filter(Boolean);
  for (const s of [start, hold, tmpfs, direct, dev].filter(Boolean)) {
    result.servers[s.name] = { base: s.base, runtimePids: s.pids().length };
  }

  const load = startLoad('load');
  const side = startLoad('load-waiting');
  const phones = {};
  for (const s of [start, hold, tmpfs, direct, dev].filter(Boolean)) {
    phones[s.name] = await load.run('login', { base: s.base, username: 'dong', password: '111' });
  }

  // 1 and 2. Notification latency on each server; meanwhile, on `npm start`, waiting PCs
  // that nobody scans count their requests (a little background load: 1 request/s per
  // polling PC).
  log(`step 2: ${PLAN.waitPcs} + ${PLAN.waitPcs} waiting PCs for ${PLAN.waitSeconds} s, in the background`);
  const waitingRuns = Promise.all(
    ['longpoll', 'poll'].map((mode) =>
      side.run('waiting', { base: start.base, pcs: PLAN.waitPcs, seconds: PLAN.waitSeconds, mode }),
    ),
  );
  for (const s of measured) {
    result.latency[s.name] = {};
    for (const [mode, logins, concurrency] of [
      ['longpoll', PLAN.latencyLogins, PLAN.latencyConcurrency],
      ['poll', PLAN.pollLogins, PLAN.pollConcurrency],
    ]) {
      log(`step 1: ${s.name}, ${logins} logins, ${mode}, ${concurrency} at a time`);
      const r = await load.run('latency', { base: s.base, phone: phones[s.name], logins, concurrency, mode });
      if (r.errors) log(`step 1: ${r.errors} errors, e.g. ${r.errorSamples[0]}`);
      result.latency[s.name][mode] = {
        logins,
        concurrency,
        fromConfirmAnswered: summary(r.fromAnswer),
        fromConfirmSent: summary(r.fromSent),
        errors: r.errors,
        errorSamples: r.errorSamples,
        duplicates: r.duplicates,
        rawMs: r.fromAnswer.map((x) => Math.round(x * 100) / 100),
      };
    }
    const l = result.latency[s.name];
    l.ratioP50 = l.poll.fromConfirmAnswered.p50 / Math.max(l.longpoll.fromConfirmAnswered.p50, 0.01);
    l.ratioP99 = l.poll.fromConfirmAnswered.p99 / Math.max(l.longpoll.fromConfirmAnswered.p99, 0.01);
  }
  log('step 2: waiting for the waiting PCs');
  for (const r of await waitingRuns) {
    result.waiting[r.mode] = {
      pcs: r.pcs,
      seconds: r.seconds,
      requests: r.requests,
      perMinutePerPc: r.perMinute && Math.round(r.perMinute * 100) / 100,
      meanGapMs: r.meanGapMs && Math.round(r.meanGapMs),
      errors: r.errors,
    };
  }

  // 3. Whole logins per second.
  for (const s of [start, tmpfs, direct, dev].filter(Boolean)) {
    result.throughput[s.name] = {};
    for (const concurrency of s === direct ? PLAN.directLevels : s === tmpfs ? PLAN.tmpfsLevels : PLAN.levels) {
      const cpu0 = runtimeCpuSeconds(s);
      const r = await load.run('throughput', {
        base: s.base,
        phone: phones[s.name],
        concurrency,
        seconds: PLAN.levelSeconds,
        warmupSeconds: PLAN.warmup,
      });
      const cpu = runtimeCpuSeconds(s) - cpu0;
      result.throughput[s.name][concurrency] = {
        perSecond: Math.round(r.perSecond * 10) / 10,
        logins: r.logins,
        errors: r.errors,
        lost: r.lost,
        errorSamples: r.errorSamples,
        loginMs: summary(r.durations),
        runtimeCpuSeconds: Math.round(cpu * 100) / 100,
        loadGeneratorCpuSeconds: Math.round(r.loadCpuSeconds * 100) / 100,
        loadAverage: loadAverage(),
      };
      log(
        `step 3: ${s.name}, ${concurrency} clients: ${r.perSecond.toFixed(1)} logins/s, ${r.errors} errors${r.errors ? ` (${r.errorSamples[0]})` : ''}`,
      );
    }
  }

  // 6. The cost of the token check (signature + revocation read in D1), on `npm start`.
  {
    const r = await load.run('tokencheck', { base: start.base, phone: phones.start, requests: QUICK ? 100 : 1000 });
    const me = summary(r.me);
    const config = summary(r.config);
    result.tokenCheck = { requests: r.me.length, me, config, costP50Ms: me.p50 - config.p50 };
    log(`step 6: /api/me p50 ${me.p50.toFixed(2)} ms vs /api/config ${config.p50.toFixed(2)} ms`);
  }

  // 4. Waiting PCs held at once, on the instance with a short QR lifetime. Codes are added in
  // chunks; the runtime's open descriptors are watched, because workerd dies (and Miniflare
  // restarts it, dropping every waiting poll) when accept() hits the open-files limit. Each
  // waiting PC holds a socket and its object's SQLite files (3), and its code-to-type object
  // (3 more) until that is evicted; the confirms below reopen some of those, hence the margin.
  const holdLoad = startLoad('load-hold');
  phones.hold = await holdLoad.run('login', { base: hold.base, username: 'dong', password: '111' });
  const fdLimit = result.machine.openFilesLimit;
  const fds = () => hold.pids().reduce((n, pid) => n + readdirSync(`/proc/${pid}/fd`).length, 0);
  const rss = () => {
    const pids = hold.pids();
    return {
      pids: pids.length,
      bytes: pids.reduce((s, pid) => s + rssBytes(pid), 0),
      node: rssBytes(hold.child.pid),
      fds: fds(),
    };
  };
  const steps = [{ open: 0, ...rss() }];
  let total = 0;
  let stoppedBy = null;
  const holdStart = Date.now();
  for (const target of PLAN.hold) {
    while (total < target && !stoppedBy) {
      const count = Math.min(PLAN.holdChunk, target - total);
      const r = await holdLoad.run('open', { base: hold.base, count });
      total += r.created;
      if (r.errors) stoppedBy = `${r.errors} errors creating codes`;
      else if (fds() > PLAN.holdFdShare * fdLimit)
        stoppedBy = `the runtime's open files (${fds()}) near the limit of ${fdLimit}`;
    }
    await sleep(QUICK ? 300 : 1500); // the last polls reach their objects
    const r = await holdLoad.run('open', { base: hold.base, count: 0 });
    const m = rss();
    steps.push({
      open: total,
      openByClient: r.open,
      createSeconds: Math.round((Date.now() - holdStart) / 100) / 10,
      ...m,
    });
    log(`step 4: ${r.open} waiting PCs, runtime RSS ${(m.bytes / 2 ** 20).toFixed(0)} MiB, ${m.fds} open files`);
    if (stoppedBy) {
      log(`step 4: stopped adding at ${total}: ${stoppedBy}`);
      break;
    }
  }
  log(`step 4: confirming one code in ${PLAN.holdConfirmEvery}; the rest expire`);
  const fin = await holdLoad.run('finish', {
    base: hold.base,
    phone: phones.hold,
    every: PLAN.holdConfirmEvery,
    timeoutSeconds: PLAN.holdTtl + 40,
  });
  result.hold = { ttlSeconds: PLAN.holdTtl, fdLimit, stoppedBy, steps, ...fin, rssAfter: rss() };
  log(`step 4: outcomes ${JSON.stringify(fin.outcomes)}, lost ${fin.lost}, duplicates ${fin.duplicates}`);

  // 5. The QR image, in a fresh process.
  const qrOut = execFileSync(process.execPath, [path.join(ROOT, 'bench/qr.mjs'), String(QUICK ? 100 : 500)], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  result.qr = JSON.parse(qrOut);
  result.machine.loadAfter = loadAverage();
  result.seconds = Math.round((Date.now() - t0) / 1000);

  mkdirSync(OUT, { recursive: true });
  writeFileSync(path.join(OUT, 'benchmarks.json'), `${JSON.stringify(result, null, 1)}\n`);
  const { renderMarkdown } = await import('./report.mjs');
  writeFileSync(path.join(OUT, 'benchmarks.md'), renderMarkdown(result));
  log(`wrote ${path.join(OUT, 'benchmarks.md')} and benchmarks.json in ${result.seconds} s`);
}

try {
  await main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  stopAll();
  await sleep(500);
  rmSync(TMP, { recursive: true, force: true });
  for (const fn of cleanup) fn();
  process.exit();
}
