/**
 * Step 4 of `npm run bench`: waiting PCs held at once, on several servers side by side (the app,
 * the floor and the floor whose wait is held in the object), in two rounds of `pcs` PCs each.
 *
 * Both rounds' codes are made first, one round's after the other, each left until the runtime
 * has evicted the objects that making it loaded. Then the first round's PCs long-poll, all at
 * once, and `settleMs` later (20 s: the objects they loaded are evicted again, on a design that
 * lets them) the workerd resident memory and open files are read from /proc; then the second
 * round's PCs long-poll, and the runtime is read again at least `settleMs` later, once no PC has
 * polled for the eviction delay (the first round's PCs poll again 30 s into their wait, which
 * loads their objects again). The
 * load generator counts, at each reading, the PCs whose poll is younger than the runtime's
 * eviction delay (their object may be loaded).
 *
 * Why two rounds: memory the runtime frees when it evicts an object stays in its heap (allocators
 * seldom give it back), so the first round's memory over the idle runtime counts every object
 * that making and polling loaded, evicted or not. The second round's objects load into memory
 * that the first round's freed, where those were evicted: what the second round adds per PC is
 * what a waiting PC keeps.
 *
 * Before making codes, the open files are projected: workerd dies (and Miniflare restarts it,
 * dropping every waiting poll) when accept() hits the open-files limit, so a server that would
 * pass the limit is left out.
 */
import { openFiles, rssBytes } from './procfs.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** Open files a waiting PC may take while its object is loaded: 2 for its connection, 3 for the database. */
const FILES_PER_LOADED_PC = 5;
/** The PCs' `wait`: they poll again this long after their poll began. */
const WAIT_MS = 30_000;

/** What one server's runtime holds now. */
function snapshot(server) {
  const pids = server.pids();
  return {
    pids: pids.length,
    bytes: pids.reduce((s, pid) => s + rssBytes(pid), 0),
    node: rssBytes(server.child.pid),
    files: openFiles(pids),
  };
}

/**
 * @param {{ server: object, load: object }[]} sides one server and its own load generator each
 * @param {{ pcs: number, chunk: number, fdLimit: number, fdShare: number, settleMs: number, evictedAfterMs: number }} plan
 * @returns per server: `{ idle, made, rounds: [{ round, at, ...snapshot, openByClient, younger }], stoppedBy }`
 */
export async function holdWaitingPcs(sides, plan, log) {
  const state = sides.map(({ server }) => ({ server, rounds: [], stoppedBy: null, idle: snapshot(server) }));
  const t0 = Date.now();
  const seconds = () => (Date.now() - t0) / 1000;
  const active = () => sides.map((side, i) => ({ ...side, s: state[i] })).filter(({ s }) => !s.stoppedBy);
  for (const round of [1, 2]) {
    await Promise.all(
      active().map(async ({ load, s }) => {
        const projected = s.idle.files.all + 2 * plan.pcs * FILES_PER_LOADED_PC;
        if (projected > plan.fdShare * plan.fdLimit) {
          s.stoppedBy = `${2 * plan.pcs} waiting PCs could take ${projected} open files, past ${Math.round(plan.fdShare * 100)} % of the limit of ${plan.fdLimit}`;
          return;
        }
        for (let made = 0; made < plan.pcs; made += plan.chunk) {
          const r = await load.run('make', {
            base: s.server.base,
            count: Math.min(plan.chunk, plan.pcs - made),
            round,
          });
          if (r.errors) s.stoppedBy = `${r.errors} errors making codes`;
        }
      }),
    );
    log(`step 4: round ${round}'s codes made by ${seconds().toFixed(0)} s; waiting for their objects to be evicted`);
    await sleep(plan.evictedAfterMs);
  }
  for (const { s } of active()) s.made = { ...snapshot(s.server), at: seconds() };

  const read = async (round) =>
    Promise.all(
      active().map(async ({ load, s }) => {
        const r = await load.run('count', { youngerThanMs: plan.evictedAfterMs });
        s.rounds.push({ round, at: seconds(), ...snapshot(s.server), openByClient: r.open, younger: r.younger });
        const per = perWaitingPc(s, round - 1);
        log(
          `step 4: round ${round}: ${s.server.name}: ${per?.n ?? 0} waiting PCs (${r.younger} polled in the last ${plan.evictedAfterMs / 1000} s), ${per ? `${per.files.toFixed(2)} open files and ${f0(per.kib)} KiB kept each` : '–'}`,
        );
      }),
    );
  const first = Date.now();
  log('step 4: round 1: every PC long-polls now');
  await Promise.all(active().map(({ load }) => load.run('wait', { round: 1 })));
  await sleep(Math.max(0, first + plan.settleMs - Date.now()));
  await read(1);
  const second = Date.now();
  log('step 4: round 2: every PC long-polls now');
  await Promise.all(active().map(({ load }) => load.run('wait', { round: 2 })));
  // Read when round 2 has waited `settleMs`, and once no PC has polled for the eviction delay
  // (round 1's PCs poll again 30 s into their wait, which loads their objects again), but before
  // round 1 polls a third time.
  await sleep(Math.max(0, second + plan.settleMs - Date.now()));
  const deadline = first + 2 * WAIT_MS - 1000;
  for (;;) {
    const counts = await Promise.all(active().map(({ load }) => load.run('count', { youngerThanMs: 0 })));
    const latest = Math.min(...counts.map((c) => c.latestPollMs ?? Number.POSITIVE_INFINITY));
    const left = plan.evictedAfterMs - latest;
    if (left <= 0 || Date.now() + left > deadline) break;
    await sleep(left + 200);
  }
  await read(2);
  for (const s of state) if (s.stoppedBy) log(`step 4: ${s.server.name}: ${s.stoppedBy}`);
  return state.map(({ server, ...rest }) => rest);
}

const f0 = (x) => (x === null || x === undefined ? '–' : x.toFixed(0));

/**
 * Per waiting PC at round `i` (0 or 1): open files above the idle runtime over every PC waiting
 * (split into sockets and SQLite files); KiB of RSS above the idle runtime over every PC waiting
 * (`kibOverIdle`: every object that making the codes and polling loaded, evicted or not, and what
 * the waits keep); in the second round, what it added over the PCs it added (`kib`: what a waiting
 * PC keeps, its object loaded or not, once memory freed by evicted objects is reused).
 */
export function perWaitingPc(hold, i) {
  const round = hold.rounds?.[i];
  const n = round?.openByClient ?? 0;
  if (!n) return null;
  const { idle } = hold;
  const previous = hold.rounds[i - 1];
  const added = previous ? n - previous.openByClient : 0;
  return {
    n,
    younger: round.younger,
    kibOverIdle: (round.bytes - idle.bytes) / n / 1024,
    kib: previous && added > 0 ? (round.bytes - previous.bytes) / added / 1024 : null,
    files: (round.files.all - idle.files.all) / n,
    sockets: (round.files.sockets - idle.files.sockets) / n,
    sqlite: (round.files.sqlite - idle.files.sqlite) / n,
  };
}

export { snapshot as runtimeSnapshot };
