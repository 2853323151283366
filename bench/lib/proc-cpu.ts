import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/**
 * CPU accounting of server-side processes from /proc/<pid>/stat (Linux only): utime +
 * stime of each process, in seconds. A probe snapshots a set of pids before and after a
 * phase; the difference is the CPU those processes spent in between. A process that
 * exits mid-phase loses its share (its parent's cutime would hold it); one started
 * mid-phase counts in full.
 */

let clockTicks: number | null = null;

/** Clock ticks per second (USER_HZ), usually 100. */
export function ticksPerSecond(): number {
  if (clockTicks !== null) return clockTicks;
  try {
    clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    clockTicks = 100;
  }
  return clockTicks;
}

export interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** utime + stime, seconds. */
  cpuSec: number;
  /** Start time in ticks since boot: tells a reused pid from the original. */
  startTicks: number;
}

export function readProcStat(pid: number): ProcStat | null {
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm is in parentheses and may itself contain spaces or parentheses.
  const open = raw.indexOf('(');
  const close = raw.lastIndexOf(')');
  const comm = raw.slice(open + 1, close);
  const fields = raw.slice(close + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime 15, starttime 22.
  const hz = ticksPerSecond();
  return {
    pid,
    comm,
    ppid: Number(fields[1]),
    cpuSec: (Number(fields[11]) + Number(fields[12])) / hz,
    startTicks: Number(fields[19]),
  };
}

function allPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .map(Number);
  } catch {
    return [];
  }
}

/** Every process whose command name (/proc/<pid>/comm) equals `name`. */
export function pidsByName(name: string): number[] {
  return allPids().filter((pid) => readProcStat(pid)?.comm === name);
}

/** `root` and all its descendants. */
export function processTree(root: number): number[] {
  const stats = allPids()
    .map(readProcStat)
    .filter((s): s is ProcStat => s !== null);
  const children = new Map<number, number[]>();
  for (const s of stats) {
    const list = children.get(s.ppid) ?? [];
    list.push(s.pid);
    children.set(s.ppid, list);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    if (!stats.some((s) => s.pid === pid)) continue;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

export interface CpuGroup {
  /** What these processes are, e.g. "server", "postgres (this run's database)". */
  label: string;
  pids: number[];
}

export interface CpuSnapshot {
  /** Ticks since boot when the snapshot was taken. */
  atTicks: number;
  groups: Map<string, Map<number, ProcStat>>;
}

function uptimeTicks(): number {
  try {
    return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * ticksPerSecond();
  } catch {
    return 0;
  }
}

export function snapshotCpu(groups: CpuGroup[]): CpuSnapshot {
  const snap: CpuSnapshot = { atTicks: uptimeTicks(), groups: new Map() };
  for (const g of groups) {
    const m = new Map<number, ProcStat>();
    for (const pid of g.pids) {
      const s = readProcStat(pid);
      if (s) m.set(pid, s);
    }
    snap.groups.set(g.label, m);
  }
  return snap;
}

/**
 * CPU seconds per group label between two snapshots. A pid seen only at the end counts
 * in full when it started inside the window, and not at all when it is older (its share
 * before the window is unknown).
 */
export function cpuDelta(before: CpuSnapshot, after: CpuSnapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [label, end] of after.groups) {
    const start = before.groups.get(label) ?? new Map<number, ProcStat>();
    let sum = 0;
    for (const [pid, s] of end) {
      const b = start.get(pid);
      if (b && b.startTicks === s.startTicks) sum += s.cpuSec - b.cpuSec;
      else if (s.startTicks >= before.atTicks - 1) sum += s.cpuSec;
    }
    out[label] = Math.max(0, sum);
  }
  return out;
}
