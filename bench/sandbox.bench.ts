// Sandbox costs: interpreter start (cold, from a snapshot), a session open from a ready pool (and
// the replacement start the pool then pays), a trivial block, a bridge call carrying 100 KB, memory
// per interpreter. Baseline, measured in the same run: the reference executor's way, a new
// `python3 -c` process with a prelude per block, run as the real binary (sys.executable): a pyenv
// shim in front of it adds its own start-up. Every figure gives wall time and the CPU time it cost
// (CPU of this process and its sandbox processes, from /proc: a busy machine stretches the wall
// time, not the CPU).
import { execFileSync } from 'node:child_process';
import { silentLogger } from '../src/util/log.ts';
import { readTree, sampleTree } from '../src/util/proc-tree.ts';
import { createSandbox, type HostTools } from '../src/sandbox/index.ts';
import { buildChild } from '../src/sandbox/child-build.ts';
import { Hosts, startInterpreter } from '../src/sandbox/host.ts';
import { detectLaunch, pyodideDir } from '../src/sandbox/launch.ts';
import { defaultCacheDir, ensureSnapshot } from '../src/sandbox/snapshot.ts';

const PRELUDE = 'import re, json, math, datetime, collections, itertools, functools, random, string, statistics';
const KB100 = 'x'.repeat(100 * 1024);
const tools: HostTools = { webSearch: async () => KB100, webVisit: async () => KB100 };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Cost {
  /** Median wall time of one run, ms. */
  wall: number;
  /** Mean CPU of one run, ms (clock ticks are 10 ms: summed over all runs, then divided). */
  cpu: number;
}

/** Runs `fn` n times; CPU is that of this process and its children (reaped ones included). */
async function measure(n: number, fn: () => Promise<unknown> | unknown): Promise<Cost> {
  const xs: number[] = [];
  const cpu0 = readTree(process.pid).cpuSeconds;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    xs.push(performance.now() - t);
  }
  return { wall: median(xs), cpu: ((readTree(process.pid).cpuSeconds - cpu0) * 1000) / n };
}

const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(0)).padStart(7) + ' ms';
const ratio = (x: number, base: number) => `${(x / base).toFixed(x / base < 0.1 ? 4 : 2)}x`;
const show = (label: string, c: Cost, base: Cost, note = '') =>
  console.log(`${label.padEnd(50)} ${ms(c.wall)} wall (${ratio(c.wall, base.wall)})  CPU ${ms(c.cpu).trim()} (${ratio(c.cpu, base.cpu)})${note}`);

/** The python3 binary itself (not a shim in front of it), or null. */
function realPython(): string | null {
  try {
    return execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

export default async function bench(): Promise<void> {
  const python3 = realPython();
  const block = `${PRELUDE}\nprint(1)`;
  if (python3) execFileSync(python3, ['-c', block]); // warm the OS file cache
  const baseline = python3 ? await measure(20, () => execFileSync(python3, ['-c', block])) : { wall: NaN, cpu: NaN };
  console.log(`ratios are against the baseline: ${python3 ? python3 : 'python3 not found'} -c with prelude, a new process per block`);
  show('baseline: python3 -c with prelude, per block', baseline, baseline);

  const launch = await detectLaunch('auto');
  console.log(`isolation: network=${launch.isolation.network}${launch.isolation.reason ? ` (${launch.isolation.reason})` : ''}`);
  const snap = await ensureSnapshot({ cacheDir: defaultCacheDir(), launch, indexURL: pyodideDir, memoryMb: 512, logger: silentLogger });
  launch.builtChildDir = buildChild(defaultCacheDir()).ensure(); // the product's path: the child code as JavaScript
  const opts = { launch, memoryMb: 512, indexURL: pyodideDir, logger: silentLogger };

  // The interpreter's own CPU (its wrapper and node process), read just before it is killed: a
  // killed wrapper's child is reaped outside this tree, so its CPU would not come back to us.
  const startCost = async (snapshotPath: string | null, n: number): Promise<Cost> => {
    const wall: number[] = [];
    let cpu = 0;
    for (let i = 0; i < n; i++) {
      const own0 = process.cpuUsage();
      const t = performance.now();
      const it = await startInterpreter({ ...opts, snapshotPath });
      wall.push(performance.now() - t);
      const own = process.cpuUsage(own0);
      cpu += readTree(it.pid!).cpuSeconds * 1000 + (own.user + own.system) / 1000;
      await it.close();
    }
    return { wall: median(wall), cpu: cpu / n };
  };
  show('interpreter start, cold', await startCost(null, 2), baseline);
  if (snap) show('interpreter start, from snapshot, new process', await startCost(snap, 4), baseline);

  // The common case: an interpreter started in a process that already runs others (host.ts), with
  // pyodide's wasm compiled there once. CPU: the whole process's (all its threads) and this one's.
  let sharedMemory: { rss: number | null; pss: number | null; count: number } | null = null;
  if (snap) {
    const hosts = new Hosts({ ...opts, capacity: 8, idleMs: 0 });
    const first = await hosts.start(snap);
    const pid = first.pid!;
    const wall: number[] = [];
    let cpu = 0;
    const n = 6;
    const held = [first];
    for (let i = 0; i < n; i++) {
      const tree0 = readTree(pid).cpuSeconds;
      const own0 = process.cpuUsage();
      const t = performance.now();
      const it = await hosts.start(snap);
      wall.push(performance.now() - t);
      const own = process.cpuUsage(own0);
      if (it.pid !== pid) throw new Error('the interpreter went to another process');
      cpu += (readTree(pid).cpuSeconds - tree0) * 1000 + (own.user + own.system) / 1000;
      held.push(it);
    }
    show('interpreter start, from snapshot, running process', { wall: median(wall), cpu: cpu / n }, baseline);
    for (const it of held) {
      const r = await it.run('import json\nprint(sum(range(10)))', { timeoutMs: 10_000, tools });
      if (r.output !== '45\n') throw new Error(`an interpreter of the shared process answered ${JSON.stringify(r)}`);
    }
    const shared = readTree(pid);
    sharedMemory = { rss: shared.rssBytes, pss: shared.pssBytes, count: held.length };
    await hosts.close();
  }

  const sandbox = await createSandbox({ poolSize: 2, memoryMb: 512, network: 'auto' });
  const mb = (b: number | null) => (b === null ? '    n/a' : (b / 2 ** 20).toFixed(0).padStart(7)) + ' MB';
  try {
    const waitReady = async () => {
      const since = performance.now();
      while (sandbox.status().ready < 2) {
        // A pool that never refills is a bug to report, not a bench to wait on forever.
        if (performance.now() - since > 60_000) throw new Error(`pool did not refill in 60 s: ${JSON.stringify(sandbox.status())}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    // A pool open looks free because the start was paid before; the whole cycle (open, a first block,
    // close, the pool starting the replacement) is what a session costs.
    const opens: number[] = [];
    const openCpu: number[] = [];
    const sampler = sampleTree(process.pid, 60_000); // samples when asked; counts the killed interpreters
    let cycleCpu = 0;
    const cycles = 3;
    await waitReady();
    sampler.sample();
    const cycle0 = sampler.cpuSeconds();
    for (let i = 0; i < cycles; i++) {
      await waitReady();
      const own0 = process.cpuUsage();
      const t = performance.now();
      const s = await sandbox.open(tools);
      opens.push(performance.now() - t);
      const own = process.cpuUsage(own0);
      openCpu.push((own.user + own.system) / 1000);
      // A session takes its interpreter at its first block (sessions are lazy), so the cycle runs one.
      await s.run('print(1)', { timeoutMs: 10_000 });
      sampler.sample(); // the interpreter's CPU, before close() kills it
      await s.close();
    }
    await waitReady();
    sampler.sample();
    cycleCpu = ((sampler.cpuSeconds() - cycle0) * 1000) / cycles;
    sampler.stop();
    const pooled = { wall: median(opens), cpu: median(openCpu) };
    show('session open, from a ready pool', pooled, baseline, '  (CPU of this process only)');
    console.log(`${'  whole cycle: open, 1 block, close, refill'.padEnd(50)} ${' '.repeat(17)}CPU ${ms(cycleCpu).trim()} (${ratio(cycleCpu, baseline.cpu)}) per session`);

    const session = await sandbox.open(tools);
    await session.run('print(1)', { timeoutMs: 10_000 });
    await waitReady(); // the pool's replacement start must not run during the measurements
    const trivial = await measure(300, () => session.run('print(1)', { timeoutMs: 10_000 }));
    show('block print(1), warm session', trivial, baseline);

    const calls = 50;
    const bridgeBlock = await measure(10, () => session.run(`for _ in range(${calls}):\n    t = web_visit("u")`, { timeoutMs: 30_000 }));
    const perCall = { wall: (bridgeBlock.wall - trivial.wall) / calls, cpu: (bridgeBlock.cpu - trivial.cpu) / calls };
    show('bridge call returning 100 KB (per call)', perCall, baseline);

    const check = await session.run('print(len(web_visit("u")))', { timeoutMs: 10_000 });
    if (check.output.trim() !== String(KB100.length)) throw new Error(`bridge returned ${check.output}`);

    const interp = await startInterpreter({ ...opts, snapshotPath: snap });
    await interp.run('print(1)', { timeoutMs: 10_000, tools });
    const tree = readTree(interp.pid!);
    const node = tree.processes.find((p) => p.comm !== 'unshare') ?? tree.processes[0]!;
    await interp.close();
    console.log(`memory per interpreter (idle, after a block), a process of its own:`);
    console.log(`  the interpreter process                          RSS ${mb(node.rssBytes)}, PSS ${mb(node.pssBytes)}`);
    console.log(`  with its wrapper (${tree.processes.length} processes)                      RSS ${mb(tree.rssBytes)}, PSS ${mb(tree.pssBytes)}`);
    if (sharedMemory) {
      const per = (b: number | null) => (b === null ? null : b / sharedMemory!.count);
      console.log(`memory per interpreter, ${sharedMemory.count} in one process (whole tree / ${sharedMemory.count})  RSS ${mb(per(sharedMemory.rss))}, PSS ${mb(per(sharedMemory.pss))}`);
    }
    await session.close();
  } finally {
    await sandbox.close();
  }
}
