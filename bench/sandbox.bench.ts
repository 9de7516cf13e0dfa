// Sandbox costs: interpreter start (cold, from a snapshot, from the pool), a trivial block, a
// bridge call carrying 100 KB, memory per interpreter. Baseline, measured in the same run: the
// reference executor's way, a new `python3 -c` process with a prelude per block.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { silentLogger } from '../src/util/log.ts';
import { createSandbox, type HostTools } from '../src/sandbox/index.ts';
import { Interpreter } from '../src/sandbox/interpreter.ts';
import { detectLaunch, pyodideDir } from '../src/sandbox/launch.ts';
import { defaultCacheDir, ensureSnapshot } from '../src/sandbox/snapshot.ts';

const PRELUDE = 'import re, json, math, datetime, collections, itertools, functools, random, string, statistics';
const KB100 = 'x'.repeat(100 * 1024);
const tools: HostTools = { webSearch: async () => KB100, webVisit: async () => KB100 };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time(n: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    xs.push(performance.now() - t);
  }
  return median(xs);
}

const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(0)).padStart(7) + ' ms';
const ratio = (x: number, base: number) => `${(x / base).toFixed(x / base < 0.1 ? 4 : 2)}x baseline`;

export default async function bench(): Promise<void> {
  let python3 = true;
  try {
    execFileSync('python3', ['-c', 'pass']);
  } catch {
    python3 = false;
  }
  const baseline = python3 ? await time(10, () => execFileSync('python3', ['-c', `${PRELUDE}\nprint(1)`])) : NaN;
  console.log(`baseline: python3 -c with prelude, per block (spawn)   ${ms(baseline)}${python3 ? '' : '  (python3 not found)'}`);

  const launch = await detectLaunch('auto');
  console.log(`isolation: network=${launch.isolation.network}${launch.isolation.reason ? ` (${launch.isolation.reason})` : ''}`);
  const snap = await ensureSnapshot({ cacheDir: defaultCacheDir(), launch, indexURL: pyodideDir, memoryMb: 512, logger: silentLogger });
  const opts = { launch, memoryMb: 512, indexURL: pyodideDir, logger: silentLogger };

  // Wall time suffers on a busy machine; the CPU time the process spent starting does not.
  const startCost = async (snapshotPath: string | null) => {
    const cpu: number[] = [];
    const wall = await time(snapshotPath ? 4 : 2, async () => {
      const it = await Interpreter.start({ ...opts, snapshotPath });
      cpu.push(cpuMs(it.pid));
      await it.close();
    });
    return { wall, cpu: median(cpu) };
  };
  const cold = await startCost(null);
  console.log(`interpreter start, cold                              ${ms(cold.wall)}  ${ratio(cold.wall, baseline)}  (CPU ${ms(cold.cpu).trim()})`);
  if (snap) {
    const warm = await startCost(snap);
    console.log(`interpreter start, from snapshot                     ${ms(warm.wall)}  ${ratio(warm.wall, baseline)}  (CPU ${ms(warm.cpu).trim()})`);
  }

  const sandbox = await createSandbox({ poolSize: 2, memoryMb: 512, network: 'auto' });
  try {
    const waitReady = async () => {
      while (sandbox.status().ready < 2) await new Promise((r) => setTimeout(r, 20));
    };
    const opens: number[] = [];
    for (let i = 0; i < 3; i++) {
      await waitReady();
      const t = performance.now();
      const s = await sandbox.open(tools);
      opens.push(performance.now() - t);
      await s.close();
    }
    const pooled = median(opens);
    console.log(`session open, from a ready pool                      ${ms(pooled)}  ${ratio(pooled, baseline)}`);

    const session = await sandbox.open(tools);
    await session.run('print(1)', { timeoutMs: 10_000 });
    const trivial = await time(300, () => session.run('print(1)', { timeoutMs: 10_000 }));
    console.log(`block print(1), warm session                         ${ms(trivial)}  ${ratio(trivial, baseline)}`);

    const calls = 50;
    const bridgeBlock = await time(10, () => session.run(`for _ in range(${calls}):\n    t = web_visit("u")`, { timeoutMs: 30_000 }));
    const perCall = (bridgeBlock - trivial) / calls;
    console.log(`bridge call returning 100 KB (per call)              ${ms(perCall)}  ${ratio(perCall, baseline)}`);

    const check = await session.run('print(len(web_visit("u")))', { timeoutMs: 10_000 });
    if (check.output.trim() !== String(KB100.length)) throw new Error(`bridge returned ${check.output}`);

    const interp = await Interpreter.start({ ...opts, snapshotPath: snap });
    await interp.run('print(1)', { timeoutMs: 10_000, tools });
    const rss = await interp.stats();
    const priv = privateMb(interp.pid);
    await interp.close();
    console.log(`RSS per interpreter process (idle, after a block)    ${((rss ?? NaN) / 2 ** 20).toFixed(0).padStart(7)} MB`);
    console.log(`  of which private (not shared with other processes)  ${priv.toFixed(0).padStart(7)} MB`);
    await session.close();
  } finally {
    await sandbox.close();
  }
}

const statFields = (p: string) => {
  const st = readFileSync(`/proc/${p}/stat`, 'utf8');
  return st.slice(st.lastIndexOf(')') + 2).split(' '); // [0] = state, [1] = ppid, [11] utime, [12] stime
};

/** The node process under `pid` (the namespace wrapper's child), or `pid` itself. */
function nodePid(pid: number): string {
  for (const p of readdirSync('/proc')) {
    try {
      if (/^\d+$/.test(p) && Number(statFields(p)[1]) === pid) return p;
    } catch {
      // gone
    }
  }
  return String(pid);
}

/** CPU time (user + system) the interpreter process has used so far. */
function cpuMs(pid: number | undefined): number {
  if (!pid) return NaN;
  const f = statFields(nodePid(pid));
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // clock ticks of 10 ms
}

/** Private memory of the interpreter's node process. */
function privateMb(pid: number | undefined): number {
  if (!pid) return NaN;
  const target = nodePid(pid);
  try {
    const m = /Private_Dirty:\s+(\d+) kB/.exec(readFileSync(`/proc/${target}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}
