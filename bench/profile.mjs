#!/usr/bin/env node
/**
 * `npm run bench:profile [-- --logins N] [--wave N] [--waiting N] [--out DIR] [--only JOBS]
 * [--entry FILE] [--direct] [--verbose]`: where one login's cost goes, on the app and on the
 * floor (issue 13, items 2 and 3). Each job runs on a fresh server started the way `npm start`
 * starts the app (production bundle on workerd, storage on disk in a temporary directory),
 * driven step by step in waves of logins side by side (8 by default: each step is sent for
 * every login of the wave at once, then measured):
 *
 * - per request: workerd CPU time (all threads, /proc schedstat, idle subtracted; median over
 *   the waves; the kernel's share from /proc ticks) and the SQLite transactions committed on
 *   disk (read from the WAL files: the objects', D1's and the alarm tables');
 * - per request on a counting copy of the app (bench/profile/counting.js): Durable Object
 *   calls, storage calls and D1 queries;
 * - per request, V8's sampling profile of the isolate (an unminified build of the same code):
 *   its JavaScript time by source module or runtime call, and the hottest functions
 *   (bench/profile/js-profile.mjs);
 * - per waiting PC: workerd resident memory, open files, and the JavaScript heap (through
 *   workerd's inspector) with the kinds of objects it grew by, split into the loaded object
 *   and its waiting long-poll.
 *
 * Besides the QR login, two sign-ins of a site through the OpenID Provider (`bench/oidc.mjs`):
 * the code flow (the authorize page's `POST /api/authorize`, the same scan and confirm, the poll
 * that hands out the code, the site's code exchange) and "Continue as" (a browser that signed
 * in before: `POST /api/authorize` with its cookie, `/api/authorize/continue`, the exchange).
 *
 * Writes profile.md and profile.json to `--out` (default: a temporary directory) and prints
 * the tables; about two and a half minutes. `--only app-cpu,floor-memory` runs some of the jobs (app-cpu,
 * app-calls, app-js, app-memory, floor-cpu, floor-js, floor-memory); `--entry FILE` builds the app from another
 * entry (a patched copy of src/, for a what-if; the counting job then does not run); `--direct`
 * serves both on workerd's own socket instead of Miniflare's entry worker. CPU times are the
 * runtime's own, so a busy machine disturbs them less than it disturbs throughput, but it does.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleFloor, startFloor } from './floor/serve.mjs';
import { authorizeParams, codeOf, OIDC_CLIENT_SECRETS, OIDC_CLIENTS, pkce, tokenRequest } from './oidc.mjs';
import { cpuSeconds, cpuSplit, openFiles, processTable, rssByBacking } from './procfs.mjs';
import { heapGrowth, inspect } from './profile/inspector.mjs';
import { addProfile, bundlePlaces, perLogin } from './profile/js-profile.mjs';
import { renderProfile } from './profile/report.mjs';
import { walDiff, walSnapshot } from './profile/sqlite-wal.mjs';
import { bundleWorker, migrationFiles, serveWorker } from './serve.mjs';
import { benchUsersSql, freePort } from './servers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
/** Logins side by side in each wave, and in all (a multiple of the wave). */
const WAVE = Number(option('--wave', 8));
const LOGINS = Math.max(1, Math.round(Number(option('--logins', 64)) / WAVE)) * WAVE;
const WAITING = Number(option('--waiting', 500));
const OUT = path.resolve(option('--out', path.join(os.tmpdir(), 'qrcode-login-profile')));
const ONLY = option('--only', '')?.split(',').filter(Boolean) ?? [];
const ENTRY = option('--entry', undefined);
const DIRECT = argv.includes('--direct');
const VERBOSE = argv.includes('--verbose');
/** After each step, time for work that outlives the answer (`waitUntil`) to finish. */
const SETTLE_MS = 40;
/** V8's sampling interval for the JavaScript profile, in µs. */
const JS_SAMPLE_US = 100;
/** Time for a long-poll to reach its object and wait there. */
const PARK_MS = 30;
/** When the memory of the waiting PCs is read again: the runtime evicts an object idle for 10 s. */
const EVICTED_AT_MS = 20_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const t0 = Date.now();
const log = (msg) => console.error(`[profile ${((Date.now() - t0) / 1000).toFixed(0)} s] ${msg}`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? null;
const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const mean = (xs) => (xs.length ? sum(xs) / xs.length : null);

// ---------------------------------------------------------------- the servers

const TMP = mkdtempSync(path.join(os.tmpdir(), 'qrcode-login-profile-'));
const BUNDLES = path.join(ROOT, `.wrangler/tmp/profile-bundle-${process.pid}`);
const workerdPids = () => {
  const table = processTable();
  return [...table].filter(([, p]) => p.comm === 'workerd' && p.ppid === process.pid).map(([pid]) => pid);
};

/** Starts one server in this process and finds its workerd (the one that was not there before). */
async function serve(name, workerName, start) {
  const before = new Set(workerdPids());
  const inspectorPort = await freePort();
  const server = await start({
    port: await freePort(),
    ip: '127.0.0.1',
    persistTo: path.join(TMP, name),
    inspectorPort,
  });
  const pids = workerdPids().filter((pid) => !before.has(pid));
  const base = server.url.href.replace(/\/$/, '');
  // How much CPU the idle runtime spends on its own, to take off each step.
  const cpu0 = cpuSeconds(pids);
  await sleep(1000);
  log(`${name} ready at ${base} (workerd ${pids.join(', ')})`);
  return { name, workerName, base, pids, inspectorPort, idleCpuPerSecond: cpuSeconds(pids) - cpu0, ...server };
}

/**
 * The phone users: one per wave, so that no user's object holds more than one wave's sessions of
 * every sequence (a user keeps at most 50: beyond that the least recently used end, and with them
 * the browsers that "Continue as" needs). Each has the demo account dong's password, 111.
 */
const PHONE_USERS = Array.from({ length: LOGINS / WAVE }, (_, w) => `bench${w + 1}`);

/** The migrations, the demo accounts and the phone users, as SQL files for the app's D1. */
function appSqlFiles() {
  const file = benchUsersSql(mkdtempSync(path.join(os.tmpdir(), 'qrcode-login-profile-users-')), PHONE_USERS);
  return [...migrationFiles(), path.join(ROOT, 'seed/demo-users.sql'), file];
}

// ---------------------------------------------------------------- one login, step by step

async function call(base, method, url, headers = {}, body) {
  const raw = typeof body === 'string';
  const res = await fetch(base + url, {
    method,
    signal: AbortSignal.timeout(60_000), // a stalled request fails the profile instead of hanging it
    headers: body === undefined || raw ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined || raw ? body : JSON.stringify(body),
  });
  const text = await res.text();
  // The single sign-on cookie a code-flow sign-in sets, as the browser sends it back.
  const cookie = res.headers.get('set-cookie')?.split(';')[0] ?? null;
  return { status: res.status, json: text ? JSON.parse(text) : null, cookie };
}

function expect(res, status, what) {
  if (res.status !== status) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json;
}

/**
 * The requests of one login on `base`, each a step; `l` carries the login's state between steps,
 * and its phone user's token (`l.phone`).
 */
function loginSteps(base) {
  const create = async (l) => {
    l.qr = expect(await call(base, 'POST', '/api/qrcodes', { 'user-agent': 'qrcode-login-profile' }), 201, 'create');
  };
  const status = (l, query = '') =>
    call(base, 'GET', `/api/qrcodes/${l.qr.qrcode_id}/status${query}`, { 'x-poll-token': l.qr.poll_token });
  const phoneStep = async (l, step) =>
    expect(
      await call(base, 'POST', `/api/qrcodes/${l.qr.qrcode_id}/${step}`, { authorization: `Bearer ${l.phone}` }),
      200,
      step,
    );
  const park = async (l, query) => {
    l.parked = status(l, query);
    l.parked.catch(() => {}); // awaited in the next step; a failure before then must not go unhandled
    await sleep(PARK_MS);
  };
  const tokenFrom = (res) => {
    if (!expect(res, 200, 'status').token) throw new Error('no token');
  };
  const ua = { 'user-agent': 'qrcode-login-profile' };
  // The code flow: the authorize page's start, then where its poll sends the browser.
  const authorize = async (l, headers = {}) => {
    l.pkce = pkce();
    const body = expect(
      await call(base, 'POST', '/api/authorize', { ...ua, ...headers }, authorizeParams(l.pkce.challenge)),
      200,
      'authorize',
    );
    l.authorization = body.authorization;
    return body;
  };
  const exchange = async (l) => {
    const { headers, body } = tokenRequest(l.code, l.pkce.verifier);
    if (!expect(await call(base, 'POST', '/oauth/token', headers, body), 200, 'token').id_token) {
      throw new Error('no id_token');
    }
  };
  /** Cookies of the browsers that signed in by the code flow, for "Continue as" after them. */
  const cookies = [];
  return {
    // Each request alone: the object answers at once.
    isolated: [
      ['POST /api/qrcodes', create],
      ['GET status (noscan), at once', async (l) => expect(await status(l), 200, 'status')],
      ['POST scan', (l) => phoneStep(l, 'scan')],
      ['GET status (scan-wait-confirm), at once', async (l) => expect(await status(l), 200, 'status')],
      ['POST confirm', (l) => phoneStep(l, 'confirm')],
      ['GET status → token, at once', async (l) => tokenFrom(await status(l))],
    ],
    // As the PC and the phone do it: the PC's long-poll waits in the object while the phone acts.
    pc: [
      ['POST /api/qrcodes', create],
      ['GET status?after=0 parks', (l) => park(l, '?after=0&wait=30')],
      ['POST scan + the waiting poll answered', async (l) => Promise.all([phoneStep(l, 'scan'), l.parked])],
      ['GET status?after=1 parks', (l) => park(l, '?after=1&wait=30')],
      [
        'POST confirm + the token handed out',
        async (l) => {
          await phoneStep(l, 'confirm');
          tokenFrom(await l.parked);
        },
      ],
    ],
    // A site's sign-in by scan (OpenID Connect code flow), as the page, the phone and the site do it.
    codeflow: [
      [
        'POST /api/authorize (the page starts: its QR)',
        async (l) => {
          l.qr = (await authorize(l)).login;
        },
      ],
      ['GET status?after=0 parks', (l) => park(l, '?after=0&wait=30')],
      ['POST scan + the waiting poll answered', async (l) => Promise.all([phoneStep(l, 'scan'), l.parked])],
      ['GET status?after=1 parks', (l) => park(l, '?after=1&wait=30')],
      [
        'POST confirm + the code handed out (redirect_to, cookie)',
        async (l) => {
          await phoneStep(l, 'confirm');
          const res = await l.parked;
          const redirect = expect(res, 200, 'status').redirect_to;
          if (!redirect || !res.cookie) throw new Error('no code or cookie');
          l.code = codeOf(redirect);
          cookies.push(res.cookie);
        },
      ],
      ['POST /oauth/token (the site exchanges the code)', exchange],
    ],
    // "Continue as": the same browser again (its cookie from a code-flow sign-in above), no scan.
    continue: [
      [
        'POST /api/authorize with the cookie (continue_as, no QR)',
        async (l) => {
          l.cookie = cookies.shift();
          const body = await authorize(l, { cookie: l.cookie });
          if (!body.continue_as || body.login) throw new Error('no continue_as, or a QR made');
        },
      ],
      [
        'POST /api/authorize/continue (the code)',
        async (l) => {
          const res = await call(
            base,
            'POST',
            '/api/authorize/continue',
            { ...ua, cookie: l.cookie },
            {
              authorization: l.authorization,
            },
          );
          l.code = codeOf(expect(res, 200, 'continue').redirect_to);
        },
      ],
      ['POST /oauth/token (the site exchanges the code)', exchange],
    ],
  };
}

/** The sequences of a site's sign-in through the OpenID Provider (the app's only). */
const OIDC_SEQUENCES = ['codeflow', 'continue'];

/**
 * Runs the sequences of one login in waves of `WAVE` logins side by side: each step is sent
 * for every login of the wave at once, and measured over the whole wave (one request alone
 * would be measured mostly by the runtime waking up). `measure(step, run)` wraps each step. Each
 * wave's phone is its own user (`phones[w]`).
 */
async function inWaves(server, phones, measure) {
  const out = {};
  for (const [sequence, steps] of Object.entries(loginSteps(server.base))) {
    // The floor is a bare QR login: it has no OpenID Provider.
    if (server.name.startsWith('floor') && OIDC_SEQUENCES.includes(sequence)) continue;
    out[sequence] = steps.map(([step]) => ({ step, samples: [] }));
    for (let w = 0; w < LOGINS / WAVE; w++) {
      const logins = Array.from({ length: WAVE }, () => ({ phone: phones[w] }));
      for (const [k, [, run]] of steps.entries()) {
        if (VERBOSE) log(`${server.name} ${sequence} wave ${w} ${steps[k][0]}`);
        out[sequence][k].samples.push(await measure(() => Promise.all(logins.map(run))));
      }
    }
  }
  return out;
}

/** Per step: workerd CPU per login (median and mean over the waves) and SQLite commits per login. */
async function profileCpu(server, phones) {
  const waves = await inWaves(server, phones, async (run) => {
    const wal0 = walSnapshot(server.persistRoot);
    const split0 = cpuSplit(server.pids);
    const cpu0 = cpuSeconds(server.pids);
    const t = performance.now();
    await run();
    await sleep(SETTLE_MS);
    const idle = (server.idleCpuPerSecond * (performance.now() - t)) / 1000;
    const cpuMs = ((cpuSeconds(server.pids) - cpu0 - idle) * 1000) / WAVE;
    const kernelMs = ((cpuSplit(server.pids).kernel - split0.kernel) * 1000) / WAVE; // 10-ms ticks: only the sum over waves means much
    return { cpuMs, kernelMs, ...walDiff(server.persistRoot, wal0, walSnapshot(server.persistRoot)) };
  });
  const perLogin = (samples, pick) => sum(samples.map(pick)) / LOGINS;
  return Object.fromEntries(
    Object.entries(waves).map(([sequence, rows]) => [
      sequence,
      rows.map(({ step, samples }) => {
        const kinds = [...new Set(samples.flatMap((x) => Object.keys(x.commits)))];
        return {
          step,
          cpuMsMedian: median(samples.map((x) => x.cpuMs)),
          cpuMsMean: mean(samples.map((x) => x.cpuMs)),
          kernelMsMean: mean(samples.map((x) => x.kernelMs)),
          commitsPerLogin: Object.fromEntries(kinds.map((k) => [k, perLogin(samples, (x) => x.commits[k] ?? 0)])),
          walsClosedPerLogin: perLogin(samples, (x) => x.closed),
          walsRestartedPerLogin: perLogin(samples, (x) => x.restarted),
        };
      }),
    ]),
  );
}

/** The same waves on the counting copy: what each request calls, per login. */
async function profileCalls(server, phones) {
  const take = async () => expect(await call(server.base, 'GET', '/__profile'), 200, 'profile');
  const waves = await inWaves(server, phones, async (run) => {
    await take();
    await run();
    await sleep(SETTLE_MS);
    return take();
  });
  return Object.fromEntries(
    Object.entries(waves).map(([sequence, rows]) => [
      sequence,
      rows.map(({ step, samples }) => {
        const keys = [...new Set(samples.flatMap((x) => Object.keys(x)))];
        const calls = keys.map((key) => {
          const n = sum(samples.map((x) => x[key]?.n ?? 0));
          const ms = sum(samples.map((x) => x[key]?.ms ?? 0));
          return [key, { n: n / LOGINS, ms: n ? ms / n : 0 }];
        });
        return { step, calls: Object.fromEntries(calls) };
      }),
    ]),
  );
}

/**
 * The same waves with V8's sampling profiler on the isolate around each step: its JavaScript
 * time per login, by place and by function (`profile/js-profile.mjs`). `bundle` is the
 * server's bundle, unminified, whose module markers name the places.
 */
async function profileJs(server, phones, bundle) {
  const places = bundlePlaces(readFileSync(bundle, 'utf8'));
  const inspector = await inspect(server.inspectorPort, server.workerName);
  try {
    const waves = await inWaves(server, phones, async (run) => {
      await inspector.startCpuProfile(JS_SAMPLE_US);
      await run();
      await sleep(SETTLE_MS);
      return inspector.stopCpuProfile();
    });
    return Object.fromEntries(
      Object.entries(waves).map(([sequence, rows]) => [
        sequence,
        rows.map(({ step, samples }) => {
          const sum = { places: {}, functions: {} };
          for (const profile of samples) addProfile(profile, places, sum);
          return { step, ...perLogin(sum, LOGINS, places) };
        }),
      ]),
    );
  } finally {
    inspector.close();
  }
}

// ---------------------------------------------------------------- memory of a waiting PC

async function pool(n, concurrency, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

/**
 * On a fresh server: `WAITING` objects loaded with nobody waiting (each created and asked its
 * status once), then a long-poll waiting on each of them, then the same 20 s into the wait (the
 * runtime evicts an object idle for 10 s: where the design lets it, the objects are gone and
 * only the waits are left). Resident memory, open files and the JavaScript heap at each phase:
 * what a loaded object costs, what its waiting poll adds, and what a waiting PC keeps.
 */
async function profileMemory(server) {
  const heap = await inspect(server.inspectorPort, server.workerName);
  const phase = async (name) => {
    // The snapshot's sum (what is reachable) is steadier than V8's used size, which counts garbage.
    const kinds = await heap.heapByKind();
    const usage = await heap.heapUsage();
    const memory = rssByBacking(server.pids);
    return {
      name,
      rss: memory.rss,
      fileBacked: memory.file,
      files: openFiles(server.pids),
      jsHeap: sum([...kinds.values()].map((k) => k.bytes)),
      // What V8 holds from the system for the heap (used or not) and for ArrayBuffers: the rest of the RSS is native.
      v8Committed: usage.totalSize + usage.backingStorageSize,
      kinds,
    };
  };
  const create = async () => expect(await call(server.base, 'POST', '/api/qrcodes'), 201, 'create');
  const status = (qr, query = '') =>
    call(server.base, 'GET', `/api/qrcodes/${qr.qrcode_id}/status${query}`, { 'x-poll-token': qr.poll_token });

  const before = await phase('before');
  const qrs = [];
  await pool(WAITING, 16, async () => qrs.push(await create()));
  await pool(WAITING, 16, async (i) => expect(await status(qrs[i]), 200, 'status'));
  const loaded = await phase('loaded, nobody waiting');
  const waitStarted = Date.now();
  for (const qr of qrs) status(qr, '?after=0&wait=30').catch(() => {});
  await sleep(1000);
  const waiting = await phase('each with a waiting long-poll');
  await sleep(Math.max(0, waitStarted + EVICTED_AT_MS - Date.now()));
  const evicted = await phase('20 s into the wait');
  heap.close();
  const per = (a, b) => ({
    rssKiB: (a.rss - b.rss) / WAITING / 1024,
    fileBackedKiB: (a.fileBacked - b.fileBacked) / WAITING / 1024,
    jsHeapKiB: (a.jsHeap - b.jsHeap) / WAITING / 1024,
    v8CommittedKiB: (a.v8Committed - b.v8Committed) / WAITING / 1024,
    files: (a.files.all - b.files.all) / WAITING,
    sockets: (a.files.sockets - b.files.sockets) / WAITING,
    sqlite: (a.files.sqlite - b.files.sqlite) / WAITING,
  });
  const strip = ({ kinds, ...rest }) => rest;
  return {
    n: WAITING,
    phases: [before, loaded, waiting, evicted].map(strip),
    perWaitingPc: per(waiting, before),
    perLoadedObject: per(loaded, before),
    perWaitingPoll: per(waiting, loaded),
    perWaitingPcLater: per(evicted, before),
    heapPerLoadedObject: heapGrowth(before.kinds, loaded.kinds, WAITING).slice(0, 12),
    heapPerWaitingPoll: heapGrowth(loaded.kinds, waiting.kinds, WAITING).slice(0, 16),
    heapPerWaitingPcLater: heapGrowth(before.kinds, evicted.kinds, WAITING).slice(0, 16),
  };
}

// ---------------------------------------------------------------- the run

async function main() {
  log('bundling the app, its counting copy and the floor');
  const config = path.join(ROOT, 'wrangler.toml');
  const appBundle = bundleWorker(config, path.join(BUNDLES, 'app'), ENTRY);
  const countingBundle = bundleWorker(config, path.join(BUNDLES, 'counting'), 'bench/profile/counting.js');
  // The same code unminified, so that the JavaScript profile can name its source modules (the floor's is).
  const appJsBundle = bundleWorker(config, path.join(BUNDLES, 'app-js'), ENTRY, ['--minify=false']);
  const floorBundle = bundleFloor(path.join(BUNDLES, 'floor'));
  const app = (bundle) => (o) =>
    serveWorker({
      ...o,
      config,
      bundle,
      sqlFiles: appSqlFiles(),
      vars: { RATE_LIMIT: 'off', OIDC_CLIENTS, OIDC_CLIENT_SECRETS },
      direct: DIRECT,
    });
  const floor = (o) => startFloor({ ...o, bundle: floorBundle, vars: {}, direct: DIRECT });
  const jobs = ONLY.length
    ? ONLY
    : ['app-cpu', ...(ENTRY ? [] : ['app-calls']), 'app-js', 'app-memory', 'floor-cpu', 'floor-js', 'floor-memory'];

  const result = {
    date: new Date().toISOString(),
    logins: LOGINS,
    wave: WAVE,
    waiting: WAITING,
    entry: ENTRY ?? null,
    direct: DIRECT,
    servers: {},
  };
  // Each job on a fresh server: memory freed by one job must not be reused by the next.
  for (const [name, workerName, start, job, bundle] of [
    ['app', 'qrcode-login', app(appBundle), 'cpu'],
    ['app', 'qrcode-login', app(countingBundle), 'calls'],
    ['app', 'qrcode-login', app(appJsBundle), 'js', appJsBundle],
    ['app', 'qrcode-login', app(appBundle), 'memory'],
    ['floor', 'qrcode-login-floor', floor, 'cpu'],
    ['floor', 'qrcode-login-floor', floor, 'js', floorBundle],
    ['floor', 'qrcode-login-floor', floor, 'memory'],
  ]) {
    if (!jobs.includes(`${name}-${job}`)) continue;
    const server = await serve(`${name}-${job}`, workerName, start);
    current = server;
    try {
      const phones = [];
      for (const username of PHONE_USERS) {
        phones.push(
          expect(await call(server.base, 'POST', '/api/login', {}, { username, password: '111' }), 200, 'login').token,
        );
      }
      result.servers[name] ??= {};
      const r = result.servers[name];
      if (job === 'cpu') {
        log(`${name}: ${LOGINS} logins, ${WAVE} at a time, step by step`);
        r.idleCpuPerSecond = server.idleCpuPerSecond;
        r.cpu = await profileCpu(server, phones);
      } else if (job === 'calls') {
        log(`${name}: ${LOGINS} logins on the counting copy`);
        r.calls = await profileCalls(server, phones);
      } else if (job === 'js') {
        log(`${name}: ${LOGINS} logins, the isolate's JavaScript profiled`);
        r.js = await profileJs(server, phones, bundle);
      } else {
        log(`${name}: memory of ${WAITING} loaded objects, then of a waiting poll on each`);
        r.memory = await profileMemory(server);
      }
    } finally {
      await server.dispose();
    }
  }
  result.seconds = Math.round((Date.now() - t0) / 1000);
  result.loadAverage = os.loadavg().map((l) => Math.round(l * 100) / 100);
  mkdirSync(OUT, { recursive: true });
  writeFileSync(path.join(OUT, 'profile.json'), `${JSON.stringify(result, null, 1)}\n`);
  const md = renderProfile(result);
  writeFileSync(path.join(OUT, 'profile.md'), md);
  process.stdout.write(md);
  log(`wrote ${path.join(OUT, 'profile.md')} and profile.json`);
}

// Interrupted or not, leave no storage or bundle behind (Miniflare stops its workerd on exit).
process.on('exit', () => {
  rmSync(TMP, { recursive: true, force: true });
  rmSync(BUNDLES, { recursive: true, force: true });
});
/** The server of the job under way, stopped first when the profile is interrupted. */
let current = null;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    await current?.dispose().catch(() => {});
    process.exit(130);
  });
}

try {
  await main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  process.exit();
}
