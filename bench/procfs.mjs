/**
 * What `npm run bench` reads about processes from Linux's /proc: which workerd processes serve
 * a server, their CPU time, resident memory and open files, and how busy the rest of the
 * machine was meanwhile (the machine is shared; a figure taken while others ran is not honest).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

const read = (file) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
};

/** pid → { ppid, comm, ticks: utime + stime of all its threads } for every process. */
export function processTable() {
  const table = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = read(`/proc/${entry}/stat`);
    if (!stat) continue;
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    table.set(Number(entry), { ppid: Number(fields[1]), comm, ticks: Number(fields[11]) + Number(fields[12]) });
  }
  return table;
}

/** The pids under `rootPid` (itself included). */
export function descendants(rootPid, table = processTable()) {
  const under = (pid) => {
    for (let p = pid; p > 1; p = table.get(p)?.ppid ?? 0) if (p === rootPid) return true;
    return false;
  };
  return [...table.keys()].filter(under);
}

/** The workerd processes under `rootPid`: the runtime of one server. */
export function runtimePids(rootPid) {
  const table = processTable();
  return descendants(rootPid, table).filter((pid) => table.get(pid).comm === 'workerd');
}

/**
 * CPU seconds used so far by `pids`, all their threads: from each thread's schedstat
 * (nanoseconds), or from the 10-ms ticks of /proc/<pid>/stat where the kernel has no schedstat.
 */
export function cpuSeconds(pids) {
  let total = 0;
  for (const pid of pids) {
    const threads = list(`/proc/${pid}/task`).map((tid) => read(`/proc/${pid}/task/${tid}/schedstat`));
    if (threads.length && threads.every(Boolean)) {
      total += threads.reduce((ns, line) => ns + Number(line.split(' ')[0]), 0) / 1e9;
    } else {
      total += (processTable().get(pid)?.ticks ?? 0) / TICKS_PER_SECOND;
    }
  }
  return total;
}

function list(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** CPU seconds of `pids` so far in user space and in the kernel (10-ms ticks, all threads). */
export function cpuSplit(pids) {
  const out = { user: 0, kernel: 0 };
  for (const pid of pids) {
    const stat = read(`/proc/${pid}/stat`) ?? '';
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.user += Number(fields[11] ?? 0) / TICKS_PER_SECOND;
    out.kernel += Number(fields[12] ?? 0) / TICKS_PER_SECOND;
  }
  return out;
}

/** Resident memory of `pid` in bytes (0 when it is gone). */
export function rssBytes(pid) {
  const kb = /VmRSS:\s+(\d+) kB/.exec(read(`/proc/${pid}/status`) ?? '')?.[1];
  return kb ? Number(kb) * 1024 : 0;
}

/**
 * Resident memory of `pids` split by backing (smaps_rollup), in bytes: `anon` (heaps: V8,
 * malloc, SQLite's page caches) and `file` (mapped files: the binary, and each SQLite
 * database's `-shm` index, which SQLite maps into memory).
 */
export function rssByBacking(pids) {
  const out = { rss: 0, anon: 0, file: 0 };
  for (const pid of pids) {
    const text = read(`/proc/${pid}/smaps_rollup`) ?? '';
    const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
    out.rss += kb('Rss');
    out.anon += kb('Anonymous');
  }
  out.file = out.rss - out.anon;
  return out;
}

/** Open file descriptors of `pids`, and of those how many are sockets and SQLite files. */
export function openFiles(pids) {
  const count = { all: 0, sockets: 0, sqlite: 0 };
  for (const pid of pids) {
    for (const fd of list(`/proc/${pid}/fd`)) {
      count.all++;
      let target = '';
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {}
      if (target.startsWith('socket:')) count.sockets++;
      else if (/\.sqlite(-wal|-shm)?$/.test(target)) count.sqlite++;
    }
  }
  return count;
}

/** Busy CPU seconds of the whole machine so far (all cores; /proc/stat, without idle and iowait). */
export function machineBusySeconds() {
  const cpu = (read('/proc/stat') ?? '').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = cpu;
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
}

/**
 * CPU seconds used so far by this process and every process under it (the whole benchmark):
 * the living ones, plus what the children that already ended used (cutime + cstime).
 */
export function ownTreeSeconds() {
  const table = processTable();
  const living = descendants(process.pid, table).reduce((s, pid) => s + table.get(pid).ticks, 0);
  const stat = read('/proc/self/stat') ?? '';
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (living + Number(fields[13] ?? 0) + Number(fields[14] ?? 0)) / TICKS_PER_SECOND;
}
