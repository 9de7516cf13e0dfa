// Sandbox costs: interpreter start (cold, from a snapshot, from the pool), a trivial block, a
// bridge call carrying 100 KB, memory per interpreter. Baseline, measured in the same run: the
// reference executor's way, a new `python3 -c` process with a prelude per block.
import { execFileSync } from 'node:child_process';
import { silentLogger } from '../src/ops/log.ts';
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

  const cold = await time(2, async () => (await Interpreter.start({ ...opts, snapshotPath: null })).close());
  console.log(`interpreter start, cold                              ${ms(cold)}  ${ratio(cold, baseline)}`);
  if (snap) {
    const warm = await time(4, async () => (await Interpreter.start({ ...opts, snapshotPath: snap })).close());
    console.log(`interpreter start, from snapshot                     ${ms(warm)}  ${ratio(warm, baseline)}`);
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
    await interp.close();
    console.log(`RSS per interpreter process (idle, after a block)    ${((rss ?? NaN) / 2 ** 20).toFixed(0).padStart(7)} MB`);
    await session.close();
  } finally {
    await sandbox.close();
  }
}
