#!/usr/bin/env node
/**
 * `npm run bench [-- --quick] [--out DIR] [--no-dev | --dev] [--hold N]`: starts the app with
 * `npm start`'s script (RATE_LIMIT=off, storage on disk in a temporary directory), the floors
 * (bench/floor/, a bare Worker doing the same login with the least the design needs, served the
 * same way: the Worker holding the PC's wait on a hibernatable socket as the app does, the same
 * with the contract, and the wait held in the object as before issue 18) and, for reference,
 * `wrangler dev`; drives them over loopback from `bench/load.mjs` (separate processes); writes
 * `docs/benchmarks.md` and `docs/benchmarks.json`. Beside the QR logins per second, the app's
 * code-flow sign-ins per second (a site's sign-in by scan through the OpenID Provider, with its
 * code exchange: `bench/oidc.mjs`) at the same levels. Measurements, not tests: nothing fails on a
 * figure, only on an error of the suite itself.
 *
 * The full run takes about seven minutes on a 2-core machine, and step 7 up to fifteen more; it
 * must run on a quiet one (the report states the load before and after, and the CPU other
 * processes used meanwhile). `--quick` (CI) shrinks every step but runs each one, floors
 * included, in about three minutes (most
 * of it step 4, which must wait as long as the PCs do), and writes to a temporary directory
 * unless `--out` is given. `--hold N` holds twice N waiting PCs on each side in step 4, in two
 * rounds of N (default 1,000; 50 quick). Step 7 (bench/machine.mjs) holds `--machine N` waiting
 * PCs on one `npm start` (default 10,000; 100 quick) under the systemd unit's open-files limit
 * where it can be raised; `--only-machine` runs step 7 alone and puts its figures into the
 * report already in `--out` (docs/), as its own dated section. Step 8 holds pages watching their sessions end
 * (`GET /api/sessions/watch`: 200 pages, 5 per session; 20 quick) while nothing happens, reads
 * what they keep, then signs each session out and times how soon its pages hear it;
 * `--watch-only` runs step 8 alone on the app (about a minute) into `watch.md` and `watch.json`;
 * `--token-only` step 6 alone (bearer and DPoP-bound token checks) into `tokens.md` and `tokens.json`.
 */
import { execFileSync, fork } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { holdWaitingPcs, runtimeSnapshot } from './hold.mjs';
import { measureMachine } from './machine.mjs';
import { OIDC_CLIENT_SECRETS, OIDC_CLIENTS } from './oidc.mjs';
import { cpuSeconds, machineBusySeconds, ownTreeSeconds } from './procfs.mjs';
import {
  adopt,
  BENCH_PASSWORD,
  BENCH_USERS,
  bundles,
  installSeed,
  startServer,
  stopAll,
  stopServer,
} from './servers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const outArg = argv.indexOf('--out');
const OUT =
  outArg >= 0
    ? path.resolve(argv[outArg + 1])
    : QUICK || argv.includes('--watch-only') || argv.includes('--token-only')
      ? path.join(os.tmpdir(), 'qrcode-login-bench-quick')
      : path.join(ROOT, 'docs');
process.env.WRANGLER_SEND_METRICS = 'false';
// The benchmark's OpenID Connect client's secret, for the app's servers (`npm start` reads secrets from the environment).
process.env.OIDC_CLIENT_SECRETS = OIDC_CLIENT_SECRETS;

/** Every size of the run, full and quick. */
const PLAN = QUICK
  ? {
      latencyLogins: 20,
      latencyConcurrency: 2,
      pollLogins: 20,
      pollConcurrency: 20,
      waitPcs: 5,
      waitSeconds: 3,
      levels: [1, 16, 64],
      levelSeconds: 1,
      warmup: 0.3,
      tmpfsLevels: [],
      directLevels: [],
      hold: 50,
      holdChunk: 50,
      holdTtl: 90,
      holdFdShare: 0.8,
      holdSettleSeconds: 11,
      holdConfirmEvery: 2,
      holdRest: 'cancel',
      machinePcs: 100,
      machineLevels: [],
      machineSpreadSeconds: 5,
      machineReadSeconds: 5,
      machineLoginSeconds: 1,
      watchSessions: 4,
      watchPages: 5,
      watchIdleSeconds: 32,
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
      hold: 1000,
      holdChunk: 250,
      // Long enough for both rounds and every scan on a slow machine; the codes left expire after.
      holdTtl: 180,
      holdFdShare: 0.8,
      holdSettleSeconds: 20,
      holdConfirmEvery: 4,
      holdRest: 'expire',
      machinePcs: 10_000,
      machineLevels: [1000, 2000, 3000, 4000, 5000, 7500],
      machineSpreadSeconds: 30,
      machineReadSeconds: 30,
      machineLoginSeconds: 5,
      watchSessions: 40,
      watchPages: 5,
      // Past the eviction of the user's object (10 s) and one keep-alive comment of each stream (30 s).
      watchIdleSeconds: 40,
    };
const holdArg = argv.indexOf('--hold');
if (holdArg >= 0) PLAN.hold = Number(argv[holdArg + 1]);
const machineArg = argv.indexOf('--machine');
if (machineArg >= 0) PLAN.machinePcs = Number(argv[machineArg + 1]);
const ONLY_MACHINE = argv.includes('--only-machine');
/** Local workerd evicts an object idle for 10 s: a poll older than this waits on an evicted object. */
const EVICTED_AFTER_MS = 11_000;
/** `--watch-only`: step 8 alone, on the app alone (a minute), written to `watch.md` and `watch.json`. */
const WATCH_ONLY = argv.includes('--watch-only');
/** `--token-only`: step 6 alone (bearer and DPoP-bound token checks), written to `tokens.md` and `tokens.json`. */
const TOKEN_ONLY = argv.includes('--token-only');
// `wrangler dev` is the reference of the full run; the quick run skips it unless `--dev`.
const WITH_DEV = !argv.includes('--no-dev') && (!QUICK || argv.includes('--dev'));

const t0 = Date.now();
const log = (msg) => console.log(`[bench ${((Date.now() - t0) / 1000).toFixed(0)} s] ${msg}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (x, digits = 2) => (x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits);
process.on('exit', stopAll);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

// ---------------------------------------------------------------- the load generators

function startLoad(name) {
  const child = adopt(
    fork(path.join(ROOT, 'bench/load.mjs'), [], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
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
    stop: () => child.kill(),
  };
}

// ---------------------------------------------------------------- statistics and the machine

function quantile(sorted, q) {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}
function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: round(quantile(sorted, 0.5)),
    p99: round(quantile(sorted, 0.99)),
    max: round(sorted.at(-1) ?? null),
    mean: round(sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1)),
  };
}

const loadAverage = () => os.loadavg().map((l) => round(l));

/** CPU that processes outside this benchmark used since `mark` was taken, in cores. */
function othersMark() {
  return { at: Date.now(), busy: machineBusySeconds(), own: ownTreeSeconds() };
}
function othersSince(mark) {
  const seconds = (Date.now() - mark.at) / 1000;
  const others = machineBusySeconds() - mark.busy - (ownTreeSeconds() - mark.own);
  return round(Math.max(0, others) / seconds);
}

function machineFacts() {
  const workerdBin = path.join(ROOT, 'node_modules/wrangler/node_modules/@cloudflare/workerd-linux-64/bin/workerd');
  let workerd = 'unknown';
  try {
    workerd = execFileSync(workerdBin, ['--version'], { encoding: 'utf8' }).trim();
  } catch {}
  return {
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    workerd,
    wrangler: JSON.parse(readFileSync(path.join(ROOT, 'node_modules/wrangler/package.json'), 'utf8')).version,
    openFilesLimit: Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()),
    loadBefore: loadAverage(),
  };
}

function gitCommit() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bench', 'scripts', 'wrangler.toml'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    return dirty ? `${commit} (with uncommitted changes)` : commit;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- the run

const TMP = mkdtempSync(path.join(os.tmpdir(), 'qrcode-login-bench-'));
const cleanup = [() => rmSync(TMP, { recursive: true, force: true })];
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
  codeflow: {},
  hold: null,
  qr: null,
  watch: null,
};

/** 3. Whole logins per second at one level (QR logins, or with `codeflow` a site's sign-ins by scan), with the runtime's CPU per login. */
async function throughputLevel(load, server, phones, concurrency, codeflow = false) {
  const cpu0 = cpuSeconds(server.pids());
  const r = await load.run('throughput', {
    base: server.base,
    seed: server.kind === 'seed',
    phones,
    concurrency,
    seconds: PLAN.levelSeconds,
    warmupSeconds: PLAN.warmup,
    codeflow,
  });
  // The CPU of the whole level (warm-up included) over every login that ended in it.
  const cpu = cpuSeconds(server.pids()) - cpu0;
  log(
    `step 3${codeflow ? ' (code flow)' : ''}: ${server.name}, ${concurrency} clients: ${r.perSecond.toFixed(1)} ${codeflow ? 'sign-ins' : 'logins'}/s, ${r.errors} errors${r.errors ? ` (${r.errorSamples[0]})` : ''}`,
  );
  return {
    perSecond: round(r.perSecond, 1),
    logins: r.logins,
    loginsInLevel: r.loginsInLevel,
    errors: r.errors,
    lost: r.lost,
    errorSamples: r.errorSamples,
    loginMs: summary(r.durations),
    runtimeCpuSeconds: round(cpu, 3),
    runtimeCpuMsPerLogin: r.loginsInLevel ? round((cpu * 1000) / r.loginsInLevel) : null,
    loadGeneratorCpuSeconds: round(r.loadCpuSeconds),
    loadAverage: loadAverage(),
  };
}

/**
 * 8. Pages watching their sessions end (`GET /api/sessions/watch`) on `server`: held open while
 * nothing happens (the user's object is evicted, as on Cloudflare it would hibernate), what they
 * keep read from the runtime, then each session signed out and the pages' notice timed.
 */
async function watchStep(load, start) {
  const pagesCount = PLAN.watchSessions * PLAN.watchPages;
  await load.run('watchSignIn', { base: start.base, username: 'guang', password: '222', sessions: PLAN.watchSessions });
  // The sign-ins loaded the user's object: read the runtime once it has been evicted again.
  await sleep(EVICTED_AFTER_MS);
  const before = runtimeSnapshot(start);
  const cpu0 = cpuSeconds(start.pids());
  const opened = await load.run('watchOpen', { base: start.base, pages: PLAN.watchPages });
  const openedAt = Date.now();
  const cpuOpen = cpuSeconds(start.pids()) - cpu0;
  log(`step 8: ${opened.pages} pages watch ${opened.sessions} sessions; idle for ${PLAN.watchIdleSeconds} s`);
  // Once the user's object has been evicted, the runtime's CPU over the rest of the idle time
  // (which takes in each stream's first keep-alive comment, 30 s after it opened).
  await sleep(EVICTED_AFTER_MS);
  const cpuIdle0 = cpuSeconds(start.pids());
  const heard0 = await load.run('watchCount', {});
  await sleep(Math.max(0, PLAN.watchIdleSeconds * 1000 - EVICTED_AFTER_MS));
  const cpuIdle = cpuSeconds(start.pids()) - cpuIdle0;
  const idleWindow = PLAN.watchIdleSeconds - EVICTED_AFTER_MS / 1000;
  const held = runtimeSnapshot(start);
  const still = await load.run('watchCount', {});
  const r = await load.run('watchRevoke', { base: start.base });
  const after = runtimeSnapshot(start);
  const watch = {
    sessions: opened.sessions,
    pages: opened.pages,
    idleSeconds: round((Date.now() - openedAt) / 1000),
    openWhileIdle: still.open,
    keepalivesHeard: still.comments - opened.pages,
    runtimeCpuMsOpeningEach: round((cpuOpen * 1000) / pagesCount),
    idleWindowSeconds: round(idleWindow),
    keepalivesInWindow: still.comments - heard0.comments,
    runtimeCpuMsIdle: round(cpuIdle * 1000),
    before,
    held,
    after,
    perPage: {
      files: round((held.files.all - before.files.all) / pagesCount),
      sockets: round((held.files.sockets - before.files.sockets) / pagesCount),
      kib: round((held.bytes - before.bytes) / pagesCount / 1024, 1),
    },
    sqliteFilesBeforeHeldAfter: [before.files.sqlite, held.files.sqlite, after.files.sqlite],
    fromRevokeSent: summary(r.fromSent),
    fromRevokeAnswered: summary(r.fromAnswer),
    missed: r.missed,
    errors: r.errors,
  };
  log(
    `step 8: notice p50 ${watch.fromRevokeSent.p50} / p99 ${watch.fromRevokeSent.p99} ms after the revoke was sent; ${r.missed} missed; ${watch.perPage.files} open files and ${watch.perPage.kib} KiB per open page; runtime CPU ${watch.runtimeCpuMsIdle} ms in ${watch.idleWindowSeconds} idle s (${watch.keepalivesInWindow} keep-alives)`,
  );
  return watch;
}

/**
 * Step 6: `/api/me` with a bearer token, with a DPoP-bound one (a fresh proof each time: one
 * signature verification and one call to the key's replay store more), and `/api/config`.
 */
async function tokenStep(load, start, phone) {
  const r = await load.run('tokencheck', { base: start.base, phone, requests: QUICK ? 100 : 1000 });
  const me = summary(r.me);
  const dpop = summary(r.meDpop);
  const config = summary(r.config);
  log(
    `step 6: /api/me p50 ${me.p50.toFixed(2)} ms (DPoP ${dpop.p50.toFixed(2)} ms) vs /api/config ${config.p50.toFixed(2)} ms`,
  );
  return {
    requests: r.me.length,
    me,
    dpop,
    config,
    costP50Ms: round(me.p50 - config.p50),
    dpopCostP50Ms: round(dpop.p50 - me.p50),
  };
}

/** `--token-only`: the app alone, step 6 alone (a minute), written to `tokens.md` and `tokens.json`. */
async function tokenOnly(app) {
  result.machine = machineFacts();
  result.commit = gitCommit();
  const start = await startServer({ name: 'start', ...app });
  log(`start ready at ${start.base}`);
  const load = startLoad('load');
  const phone = await load.run('login', { base: start.base, username: 'dong', password: '111' });
  result.tokenCheck = await tokenStep(load, start, phone);
  result.machine.loadAfter = loadAverage();
  result.seconds = Math.round((Date.now() - t0) / 1000);
  mkdirSync(OUT, { recursive: true });
  writeFileSync(path.join(OUT, 'tokens.json'), `${JSON.stringify(result, null, 1)}\n`);
  const { renderTokens } = await import('./report.mjs');
  writeFileSync(path.join(OUT, 'tokens.md'), renderTokens(result));
  log(`wrote ${path.join(OUT, 'tokens.md')} and tokens.json in ${result.seconds} s`);
}

/** `--watch-only`: the app alone, step 8 alone. */
async function watchOnly(app) {
  result.machine = machineFacts();
  result.commit = gitCommit();
  const start = await startServer({ name: 'start', ...app });
  log(`start ready at ${start.base}`);
  const load = startLoad('load');
  result.watch = await watchStep(load, start);
  result.machine.loadAfter = loadAverage();
  result.seconds = Math.round((Date.now() - t0) / 1000);
  mkdirSync(OUT, { recursive: true });
  writeFileSync(path.join(OUT, 'watch.json'), `${JSON.stringify(result, null, 1)}\n`);
  const { renderWatch } = await import('./report.mjs');
  writeFileSync(path.join(OUT, 'watch.md'), renderWatch(result));
  log(`wrote ${path.join(OUT, 'watch.md')} and watch.json in ${result.seconds} s`);
}

async function main() {
  result.machine = machineFacts();
  result.commit = gitCommit();
  const others = othersMark();
  log(`${QUICK ? 'quick' : 'full'} run; load average ${result.machine.loadBefore.join(' ')}; storage in ${TMP}`);

  log('bundling the app and the floor once with wrangler deploy --dry-run');
  const bundled = bundles();
  cleanup.push(bundled.remove);
  const app = { kind: 'start', bundleFile: bundled.app, persistRoot: TMP };
  const floor = { kind: 'floor', bundleFile: bundled.floor, persistRoot: TMP };
  const floorContract = { kind: 'floor-contract', bundleFile: bundled.floorContract, persistRoot: TMP };
  const floorHeld = { kind: 'floor-held', bundleFile: bundled.floorHeld, persistRoot: TMP };
  const holdTtl = { QR_TTL_SECONDS: String(PLAN.holdTtl) };
  // Storage in memory (tmpfs) instead of on disk, to separate the runtime's own cost from the
  // cost of SQLite syncing each Durable Object and D1 write to this machine's disk.
  const SHM = existsSync('/dev/shm') && PLAN.tmpfsLevels.length ? mkdtempSync('/dev/shm/qrcode-login-bench-') : null;
  if (SHM) cleanup.push(() => rmSync(SHM, { recursive: true, force: true }));
  if (WATCH_ONLY) return watchOnly(app);
  if (TOKEN_ONLY) return tokenOnly(app);
  const specs = [
    // The app, with the benchmark's OpenID Connect client for the code-flow sign-ins.
    { name: 'start', ...app, vars: { OIDC_CLIENTS } },
    { name: 'floor', ...floor },
    // The floor plus what the app must have besides its own code (a revocation read per phone
    // request, `deleteAll()` at the hand-out, static assets in front): the app's gap to it is its own.
    { name: 'floor-contract', ...floorContract },
    // The floor as the design was before issue 18: the PC's wait held in the object.
    { name: 'floor-held', ...floorHeld },
    { name: 'start-hold', ...app, vars: holdTtl },
    { name: 'floor-hold', ...floor, vars: holdTtl },
    { name: 'floor-held-hold', ...floorHeld, vars: holdTtl },
    ...(SHM
      ? [
          { name: 'start-tmpfs', ...app, persistRoot: SHM },
          { name: 'floor-tmpfs', ...floor, persistRoot: SHM },
          { name: 'start-direct-tmpfs', ...app, persistRoot: SHM, args: ['--direct'] },
        ]
      : []),
    ...(WITH_DEV ? [{ name: 'wrangler-dev', kind: 'dev', persistRoot: TMP }] : []),
  ];
  // The seed (bench/seed/: the NestJS tutorial server, every login in memory), the figure issue 30
  // asks the app to reach, measured in the same run; its packages are installed on first use.
  const seedProblem = installSeed();
  if (seedProblem) {
    result.seedSkipped = seedProblem;
    log(`the seed is not measured: ${seedProblem}`);
  } else specs.push({ name: 'seed', kind: 'seed' });
  const servers = Object.fromEntries(
    (await Promise.all(specs.map((spec) => startServer(spec)))).map((s) => [s.name, s]),
  );
  for (const s of Object.values(servers)) {
    log(`${s.name} ready at ${s.base}`);
    result.servers[s.name] = { base: s.base, kind: s.kind, runtimePids: s.pids().length };
  }
  const { start, floor: bare } = servers;
  const held = servers['floor-held'];
  const dev = servers['wrangler-dev'];

  const load = startLoad('load');
  const side = startLoad('load-waiting');
  // Each server's demo phone (dong), and step 3's phones: BENCH_USERS, each its own user (and object).
  const phones = {};
  const crowds = {};
  for (const s of Object.values(servers)) {
    const seed = s.kind === 'seed';
    phones[s.name] = await load.run('login', { base: s.base, username: 'dong', password: '111', seed });
    crowds[s.name] = [];
    for (const username of BENCH_USERS) {
      crowds[s.name].push(await load.run('login', { base: s.base, username, password: BENCH_PASSWORD, seed }));
    }
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
  // The long-poll on the app and, side by side, on the floor (the wait on a socket, one hop more)
  // and the floor whose wait is held in the object; 1-second polling on the app alone.
  for (const s of [start, bare, held, dev].filter(Boolean)) {
    result.latency[s.name] = {};
    const polling = s === start || s === dev;
    for (const [mode, logins, concurrency] of [
      ['longpoll', PLAN.latencyLogins, PLAN.latencyConcurrency],
      ...(polling ? [['poll', PLAN.pollLogins, PLAN.pollConcurrency]] : []),
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
        rawMs: r.fromAnswer.map((x) => round(x)),
      };
    }
    const l = result.latency[s.name];
    if (!l.poll) continue;
    l.ratioP50 = l.poll.fromConfirmAnswered.p50 / Math.max(l.longpoll.fromConfirmAnswered.p50, 0.01);
    l.ratioP99 = l.poll.fromConfirmAnswered.p99 / Math.max(l.longpoll.fromConfirmAnswered.p99, 0.01);
  }
  log('step 2: waiting for the waiting PCs');
  for (const r of await waitingRuns) {
    result.waiting[r.mode] = {
      pcs: r.pcs,
      seconds: r.seconds,
      requests: r.requests,
      perMinutePerPc: r.perMinute && round(r.perMinute),
      meanGapMs: r.meanGapMs && Math.round(r.meanGapMs),
      errors: r.errors,
    };
  }

  // 3. Whole logins per second: at each level the app and then the floor, back to back, so
  // that both see the same machine; then the references.
  for (const concurrency of PLAN.levels) {
    for (const s of [start, bare, servers['floor-contract'], held, servers.seed].filter(Boolean)) {
      result.throughput[s.name] ??= {};
      result.throughput[s.name][concurrency] = await throughputLevel(load, s, crowds[s.name], concurrency);
    }
    // A site's sign-ins by scan (the code flow) on the app, right after its QR logins.
    const code = await throughputLevel(load, start, crowds.start, concurrency, true);
    const qrRate = result.throughput.start[concurrency].perSecond;
    result.codeflow[concurrency] = { ...code, ofQrLogins: qrRate ? round(code.perSecond / qrRate) : null };
    const a = result.throughput.start[concurrency].perSecond;
    const b = result.throughput.floor[concurrency].perSecond;
    const bc = result.throughput['floor-contract'][concurrency].perSecond;
    const bh = result.throughput['floor-held'][concurrency].perSecond;
    result.throughput.start[concurrency].ofFloor = b ? round(a / b) : null;
    result.throughput.start[concurrency].ofFloorContract = bc ? round(a / bc) : null;
    result.throughput.start[concurrency].ofFloorHeld = bh ? round(a / bh) : null;
    const bs = result.throughput.seed?.[concurrency]?.perSecond;
    result.throughput.start[concurrency].ofSeed = bs ? round(a / bs) : null;
  }
  for (const [name, levels] of [
    ['start-tmpfs', PLAN.tmpfsLevels],
    ['floor-tmpfs', PLAN.tmpfsLevels],
    ['start-direct-tmpfs', PLAN.directLevels],
    ['wrangler-dev', PLAN.levels],
  ]) {
    const s = servers[name];
    if (!s) continue;
    result.throughput[name] = {};
    for (const c of levels) result.throughput[name][c] = await throughputLevel(load, s, crowds[name], c);
  }
  // The same ratio with storage in memory: what is left when the disk's syncs are out of the way.
  for (const c of PLAN.tmpfsLevels) {
    const a = result.throughput['start-tmpfs']?.[c];
    const b = result.throughput['floor-tmpfs']?.[c];
    if (a && b?.perSecond) a.ofFloor = round(a.perSecond / b.perSecond);
  }

  // 6. The cost of the token check (signature + revocation read in D1), on `npm start`.
  result.tokenCheck = await tokenStep(load, start, phones.start);

  // 8. Pages watching their sessions end.
  result.watch = await watchStep(load, start);

  // 4. Waiting PCs held at once, on the app, the floor and the floor whose wait is held in the
  // object, side by side (each with a short QR lifetime), in two rounds (bench/hold.mjs); each
  // round's runtimes are read 20 s into its PCs' wait. Then the floors' PCs hang up, and on the app every code is scanned (each PC must hear of it within milliseconds, its
  // object evicted or not) and one in N confirmed, the rest left to expire (or cancelled, quick):
  // each PC must end with its token (and then 410), `expired` or `scan-cancel`.
  const holdApp = { server: servers['start-hold'], load: startLoad('load-hold') };
  const holdFloor = { server: servers['floor-hold'], load: startLoad('load-hold-floor') };
  const holdFloorHeld = { server: servers['floor-held-hold'], load: startLoad('load-hold-floor-held') };
  const fdLimit = result.machine.openFilesLimit;
  const [appHold, floorHold, floorHeldHold] = await holdWaitingPcs(
    [holdApp, holdFloor, holdFloorHeld],
    {
      pcs: PLAN.hold,
      chunk: PLAN.holdChunk,
      fdLimit,
      fdShare: PLAN.holdFdShare,
      settleMs: PLAN.holdSettleSeconds * 1000,
      evictedAfterMs: EVICTED_AFTER_MS,
    },
    log,
  );
  holdFloor.load.stop();
  holdFloorHeld.load.stop();
  log(
    `step 4: scanning every code on the app, confirming one in ${PLAN.holdConfirmEvery}; the rest ${PLAN.holdRest === 'expire' ? 'expire' : 'are cancelled'}`,
  );
  const pidsBefore = holdApp.server.pids(); // a new pid afterwards: the runtime died and restarted
  const fin = await holdApp.load.run('finish', {
    base: holdApp.server.base,
    phone: phones['start-hold'],
    every: PLAN.holdConfirmEvery,
    rest: PLAN.holdRest,
    timeoutSeconds: PLAN.holdTtl + 40,
    evictedAfterMs: EVICTED_AFTER_MS,
  });
  const restarted = holdApp.server.pids().some((pid) => !pidsBefore.includes(pid));
  result.hold = {
    ttlSeconds: PLAN.holdTtl,
    fdLimit,
    fdShare: PLAN.holdFdShare,
    start: { ...appHold, ...fin, restarted, after: runtimeSnapshot(holdApp.server) },
    floor: floorHold,
    floorHeld: floorHeldHold,
  };
  log(
    `step 4: outcomes ${JSON.stringify(fin.outcomes)}, lost ${fin.lost}, duplicates ${fin.duplicates}, polls tried again after a 429/5xx ${fin.retried}; scan heard p50 ${fin.scanHeardMs.p50?.toFixed(2)} / p99 ${fin.scanHeardMs.p99?.toFixed(2)} ms`,
  );

  // 7. What one machine holds: `npm start` alone with many thousand waiting PCs (bench/machine.mjs).
  const ended = Object.values(servers)
    .filter((s) => s.name !== 'start')
    .map(stopServer)
    .filter(Boolean);
  for (const e of ended) log(`${e.name} had ended by itself (code ${e.code}, signal ${e.signal}):\n${e.output}`);
  // The app ending by itself is a crash of the product: the run fails. A floor or the seed
  // that ended after its steps is said in the report (their figures were taken before).
  const crashed = ended.filter((e) => servers[e.name].kind === 'start');
  if (crashed.length) throw new Error(`the app ended by itself: ${crashed.map((e) => e.name).join(', ')}`);
  if (ended.length) result.serversEnded = ended.map(({ name, code, signal }) => ({ name, code, signal }));
  result.machineHold = await measureMachine({ bundleFile: bundled.app, persistRoot: TMP, startLoad, plan: PLAN }, log);

  // 5. The QR image, in a fresh process.
  const qrOut = execFileSync(process.execPath, [path.join(ROOT, 'bench/qr.mjs'), String(QUICK ? 100 : 500)], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  result.qr = JSON.parse(qrOut);
  result.machine.loadAfter = loadAverage();
  result.machine.othersCores = othersSince(others);
  result.seconds = Math.round((Date.now() - t0) / 1000);

  mkdirSync(OUT, { recursive: true });
  writeFileSync(path.join(OUT, 'benchmarks.json'), `${JSON.stringify(result, null, 1)}\n`);
  const { renderMarkdown } = await import('./report.mjs');
  writeFileSync(path.join(OUT, 'benchmarks.md'), renderMarkdown(result));
  log(`wrote ${path.join(OUT, 'benchmarks.md')} and benchmarks.json in ${result.seconds} s`);
}

/** Step 7 alone, its figures put into the report already in OUT. */
async function onlyMachine() {
  const file = path.join(OUT, 'benchmarks.json');
  if (!existsSync(file))
    throw new Error(
      `--only-machine puts its figures into ${file}, which does not exist: run the whole benchmark first`,
    );
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const others = othersMark();
  const loadBefore = loadAverage();
  log('step 7 alone: bundling the app with wrangler deploy --dry-run');
  const bundled = bundles();
  cleanup.push(bundled.remove);
  const figures = await measureMachine({ bundleFile: bundled.app, persistRoot: TMP, startLoad, plan: PLAN }, log);
  report.machineHold = {
    ...figures,
    date: new Date().toISOString(),
    commit: gitCommit(),
    command: result.command,
    loadBefore,
    loadAfter: loadAverage(),
    othersCores: othersSince(others),
  };
  for (const key of [
    'machinePcs',
    'machineLevels',
    'machineSpreadSeconds',
    'machineReadSeconds',
    'machineLoginSeconds',
  ])
    report.plan[key] = PLAN[key];
  writeFileSync(file, `${JSON.stringify(report, null, 1)}\n`);
  const { renderMarkdown } = await import('./report.mjs');
  writeFileSync(path.join(OUT, 'benchmarks.md'), renderMarkdown(report));
  log(`wrote step 7 into ${path.join(OUT, 'benchmarks.md')} and benchmarks.json`);
}

try {
  await (ONLY_MACHINE ? onlyMachine() : main());
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  stopAll();
  await sleep(500);
  for (const fn of cleanup) fn();
  process.exit();
}
