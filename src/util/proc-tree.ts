// Memory and CPU of a whole process tree, read from Linux's /proc (proc(5)): the bot and every
// sandbox process it started. RSS counts shared pages once per process; PSS splits each shared page
// between the processes mapping it, so the PSS of a tree is what the tree really costs the machine.
// Benchmarks use it; nothing here is Linux-only in its failure mode: unreadable entries count 0.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** The kernel's short name of the process (proc(5) `comm`), e.g. "node", "unshare". */
  comm: string;
  /** Command line, arguments joined by spaces, cut at 300 characters. */
  cmdline: string;
  rssBytes: number;
  /** null when /proc/PID/smaps_rollup could not be read (permissions, the process just exited). */
  pssBytes: number | null;
  /** utime + stime of the process (all its threads). */
  cpuSeconds: number;
  /** cutime + cstime: its children that exited and were reaped. */
  childCpuSeconds: number;
}

export interface TreeSnapshot {
  root: number;
  processes: ProcInfo[];
  rssBytes: number;
  /** Sum of the readable PSS values (unreadable ones count 0). */
  pssBytes: number;
  /** CPU of every live process of the tree plus the CPU of the children each one has reaped. */
  cpuSeconds: number;
}

export interface TreeOptions {
  /** These pids and everything below them are left out (e.g. a benchmark's own helper process). */
  exclude?: Iterable<number>;
}

let ticks: number | undefined;

/** Clock ticks per second (`getconf CLK_TCK`, asked once), 100 when it cannot be asked. */
export function clockTicks(): number {
  if (ticks === undefined) {
    try {
      const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      ticks = Number.isFinite(n) && n > 0 ? n : 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

interface Stat {
  ppid: number;
  comm: string;
  cpuTicks: number;
  childTicks: number;
  rssPages: number;
}

/** Fields of /proc/PID/stat after the `(comm)` field, which may itself hold spaces and parentheses. */
function readStat(pid: number): Stat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // gone
  }
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const f = text.slice(close + 2).split(' ');
  // proc(5) numbering: 3 state, 4 ppid, 14 utime, 15 stime, 16 cutime, 17 cstime, 24 rss; f[0] is field 3.
  return {
    comm: text.slice(open + 1, close),
    ppid: Number(f[1]),
    cpuTicks: Number(f[11]) + Number(f[12]),
    childTicks: Number(f[13]) + Number(f[14]),
    rssPages: Number(f[21]),
  };
}

function readPss(pid: number): { pss: number | null; rss: number | null } {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const pss = /^Pss:\s+(\d+) kB/m.exec(text);
    const rss = /^Rss:\s+(\d+) kB/m.exec(text);
    return { pss: pss ? Number(pss[1]) * 1024 : null, rss: rss ? Number(rss[1]) * 1024 : null };
  } catch {
    return { pss: null, rss: null };
  }
}

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 300);
  } catch {
    return '';
  }
}

const PAGE_BYTES = 4096;

/** Every process below (and including) `root`, with its memory and CPU, and their sums. */
export function readTree(root: number, options: TreeOptions = {}): TreeSnapshot {
  const excluded = new Set(options.exclude ?? []);
  const stats = new Map<number, Stat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (st) stats.set(Number(name), st);
  }
  const children = new Map<number, number[]>();
  for (const [pid, st] of stats) {
    const list = children.get(st.ppid) ?? [];
    list.push(pid);
    children.set(st.ppid, list);
  }
  const hz = clockTicks();
  const processes: ProcInfo[] = [];
  const todo = stats.has(root) && !excluded.has(root) ? [root] : [];
  while (todo.length > 0) {
    const pid = todo.pop()!;
    const st = stats.get(pid)!;
    const mem = readPss(pid);
    processes.push({
      pid,
      ppid: st.ppid,
      comm: st.comm,
      cmdline: readCmdline(pid),
      // smaps_rollup's Rss is exact; stat's rss (in pages) is the fallback when it is unreadable.
      rssBytes: mem.rss ?? st.rssPages * PAGE_BYTES,
      pssBytes: mem.pss,
      cpuSeconds: st.cpuTicks / hz,
      childCpuSeconds: st.childTicks / hz,
    });
    for (const c of children.get(pid) ?? []) if (!excluded.has(c)) todo.push(c);
  }
  let rssBytes = 0;
  let pssBytes = 0;
  let cpuSeconds = 0;
  for (const p of processes) {
    rssBytes += p.rssBytes;
    pssBytes += p.pssBytes ?? 0;
    cpuSeconds += p.cpuSeconds + p.childCpuSeconds;
  }
  return { root, processes, rssBytes, pssBytes, cpuSeconds };
}

export interface TreePeak {
  /** The sample with the highest PSS (its process list included). */
  atPeakPss: TreeSnapshot | null;
  peakPssBytes: number;
  peakRssBytes: number;
  samples: number;
}

export interface TreeSampler {
  /** Takes one sample now (also done every `intervalMs`). */
  sample(): TreeSnapshot;
  peak(): TreePeak;
  /**
   * CPU of the tree as of the last sample: live processes with their reaped children, plus the
   * processes that left the tree orphaned (see orphanCpuSeconds).
   */
  cpuSeconds(): number;
  /**
   * CPU of processes whose parent in the tree died with or before them: they were reparented and
   * reaped outside the tree, so no cutime here holds them (a namespace wrapper killed with
   * SIGKILL takes its child down through the parent-death signal). Counted as of their last sample,
   * so each misses at most one interval. Should such a parent have reaped its child within the same
   * interval instead, that child counts twice; killed wrappers are the common case here.
   */
  orphanCpuSeconds(): number;
  stop(): TreePeak;
}

/** Samples the tree every `intervalMs` and keeps the peaks (`onSample` sees every sample). The
 *  timer does not keep Node alive. */
export function sampleTree(root: number, intervalMs: number, options: TreeOptions & { onSample?: (s: TreeSnapshot) => void } = {}): TreeSampler {
  const peak: TreePeak = { atPeakPss: null, peakPssBytes: 0, peakRssBytes: 0, samples: 0 };
  let last = new Map<number, ProcInfo>();
  let liveCpu = 0;
  let orphanCpu = 0;
  const sample = (): TreeSnapshot => {
    const snap = readTree(root, options);
    const now = new Map(snap.processes.map((p) => [p.pid, p]));
    for (const [pid, p] of last) {
      // Gone, and so is the parent that would have reaped it: nobody in the tree accounts for it.
      if (!now.has(pid) && pid !== root && !now.has(p.ppid)) orphanCpu += p.cpuSeconds + p.childCpuSeconds;
    }
    last = now;
    liveCpu = snap.cpuSeconds;
    peak.samples++;
    if (snap.pssBytes >= peak.peakPssBytes) {
      peak.peakPssBytes = snap.pssBytes;
      peak.atPeakPss = snap;
    }
    peak.peakRssBytes = Math.max(peak.peakRssBytes, snap.rssBytes);
    options.onSample?.(snap);
    return snap;
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    sample,
    peak: () => ({ ...peak }),
    cpuSeconds: () => liveCpu + orphanCpu,
    orphanCpuSeconds: () => orphanCpu,
    stop() {
      clearInterval(timer);
      return { ...peak };
    },
  };
}
