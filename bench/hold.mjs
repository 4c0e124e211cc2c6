/**
 * Step 4 of `npm run bench`: waiting PCs held at once, on several servers side by side (the app
 * and the floor). Codes are added in chunks, every server in turn; at each step of the plan the
 * workerd resident memory and open files of each server are read from /proc. Before each
 * chunk the open files are projected: workerd dies (and Miniflare restarts it, dropping every
 * waiting poll) when accept() hits the open-files limit, so a server stops growing before that
 * and the report says so.
 */
import { openFiles, rssBytes } from './procfs.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

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
 * @param {{ targets: number[], chunk: number, fdLimit: number, fdShare: number, settleMs: number }} plan
 * @returns per server: `{ steps, stoppedBy, total }`
 */
export async function holdWaitingPcs(sides, plan, log) {
  const state = sides.map(({ server }) => ({
    server,
    total: 0,
    stoppedBy: null,
    steps: [{ open: 0, ...snapshot(server) }],
  }));
  const t0 = Date.now();
  for (const target of plan.targets) {
    while (state.some((s) => !s.stoppedBy && s.total < target)) {
      await Promise.all(
        sides.map(async ({ load }, i) => {
          const s = state[i];
          if (s.stoppedBy || s.total >= target) return;
          const count = Math.min(plan.chunk, target - s.total);
          // Files per waiting PC so far (at least 8 before there is any), times the next chunk.
          const now = openFiles(s.server.pids()).all;
          const perPc = s.total ? Math.max((now - s.steps[0].files.all) / s.total, 1) : 8;
          if (now + count * perPc > plan.fdShare * plan.fdLimit) {
            s.stoppedBy = `the runtime's open files (${now}, about ${perPc.toFixed(1)} per waiting PC) would pass ${Math.round(plan.fdShare * 100)} % of the limit of ${plan.fdLimit}`;
            return;
          }
          const r = await load.run('open', { base: s.server.base, count });
          s.total += r.created;
          if (r.errors) s.stoppedBy = `${r.errors} errors creating codes`;
        }),
      );
    }
    await sleep(plan.settleMs); // the last polls reach their objects
    await Promise.all(
      sides.map(async ({ load }, i) => {
        const s = state[i];
        const r = await load.run('open', { base: s.server.base, count: 0 });
        const m = snapshot(s.server);
        s.steps.push({ target, open: s.total, openByClient: r.open, seconds: (Date.now() - t0) / 1000, ...m });
        log(
          `step 4: ${s.server.name}: ${r.open} waiting PCs, workerd RSS ${(m.bytes / 2 ** 20).toFixed(0)} MiB, ${m.files.all} open files`,
        );
      }),
    );
    for (const s of state)
      if (s.stoppedBy && !s.logged) log(`step 4: ${s.server.name} stopped at ${s.total}: ${s.stoppedBy}`);
    for (const s of state) s.logged ||= Boolean(s.stoppedBy);
  }
  return state.map(({ steps, stoppedBy, total }) => ({ steps, stoppedBy, total }));
}

/** Per waiting PC at one step: KiB of RSS and open files above the step before any was open. */
export function perWaitingPc(steps, step) {
  const base = steps[0];
  const n = step.openByClient ?? step.open;
  if (!n) return null;
  return {
    n,
    kib: (step.bytes - base.bytes) / n / 1024,
    files: (step.files.all - base.files.all) / n,
    sockets: (step.files.sockets - base.files.sockets) / n,
    sqlite: (step.files.sqlite - base.files.sqlite) / n,
  };
}

export { snapshot as runtimeSnapshot };
