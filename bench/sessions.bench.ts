// N research sessions at once through the product path: the chat service (admission, scheduling,
// SQLite store, view and render pacing), the engine and the sandbox as `serve` builds them from the
// configuration, against a fake model over HTTP that takes BENCH_TURN_MS per turn. Each session
// runs 3 blocks that build on each other's variables, then answers. Platform adapters are not in
// the path (their renders go to a surface that drops them).
//
//   npm run bench -- sessions                       (BENCH_SESSIONS=100, BENCH_TURN_MS=6000)
//   BENCH_SESSIONS=10 BENCH_TURN_MS=1500 npm run bench -- sessions     (smoke run)
//   CIR_SANDBOX_POOL_SIZE=8 ... npm run bench -- sessions              (every CIR_SANDBOX_* passes through)
//
// Memory is the peak PSS and RSS of the whole process tree: this process (the bot) and every
// sandbox process under it. The fakes and the sampler live in a helper process left out of it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type Env } from '../src/config.ts';
import { chatLimitsFromEnv } from '../src/chat/limits.ts';
import { createChatService } from '../src/chat/service.ts';
import { openSessionStore } from '../src/chat/store.ts';
import type { ThreadSurface } from '../src/chat/types.ts';
import { createLogger } from '../src/util/log.ts';
import type { TreePeak } from '../src/util/proc-tree.ts';
import { buildLimiters } from '../src/wiring/chat.ts';
import { buildEngine } from '../src/wiring/engine.ts';
import { WARM_UP, expected, question } from './sessions-script.ts';
import { peakBreakdown, percentile } from './sessions-report.ts';

const GiB = 2 ** 30;
const MB = 2 ** 20;

function intEnv(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

interface Helper {
  child: ChildProcess;
  urls: { llm: string; searxng: string; allowHost: string };
  ask<T>(cmd: string, extra?: object): Promise<T>;
}

async function startHelper(turnMs: number, sampleMs: number): Promise<Helper> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'sessions-helper.ts'), String(turnMs), String(sampleMs)], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const urls = await new Promise<Helper['urls']>((resolve, reject) => {
    let buf = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      buf += d;
      if (buf.includes('\n')) resolve(JSON.parse(buf.split('\n')[0]!) as Helper['urls']);
    });
    child.once('exit', (code) => reject(new Error(`bench helper exited (${code})`)));
  });
  const ask = <T>(cmd: string, extra: object = {}) =>
    new Promise<T>((resolve) => {
      child.once('message', (m) => resolve(m as T));
      child.send({ cmd, ...extra });
    });
  return { child, urls, ask };
}

/** The bot's configuration: the fakes' addresses, capacity for N at once, and whatever CIR_SANDBOX_*
 *  (and the chat limits, if set) the caller exported. */
function benchEnv(n: number, urls: Helper['urls'], dataDir: string): Env {
  const passed = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('CIR_SANDBOX_')));
  return parseConfig({
    ...passed,
    CIR_LLM_BASE_URL: urls.llm,
    CIR_SEARCH_PROVIDER: 'searxng',
    CIR_SEARXNG_URL: urls.searxng,
    CIR_FETCH_ALLOW_HOSTS: urls.allowHost,
    CIR_DATA_DIR: dataDir,
    CIR_MAX_STEPS: '8',
    CIR_MAX_CONCURRENT: process.env.CIR_MAX_CONCURRENT ?? String(n),
    CIR_QUEUE_MAX: process.env.CIR_QUEUE_MAX ?? String(n),
    CIR_USER_QUOTA: String(n),
    CIR_WORKSPACE_QUOTA: String(n),
    CIR_LOG_LEVEL: process.env.CIR_LOG_LEVEL ?? 'error',
  });
}

interface Track {
  admittedAt: number;
  firstResultAt: number | null;
  outputs: Map<number, { output: string; error: string | null; stateLost: boolean }>;
  status: string | null;
}

const surface: ThreadSurface = { render: async () => {}, notify: async () => {}, attachTrace: async () => {} };

export default async function bench(): Promise<void> {
  const n = intEnv('BENCH_SESSIONS', 100);
  const turnMs = intEnv('BENCH_TURN_MS', 6000);
  const sampleMs = intEnv('BENCH_SAMPLE_MS', 500);
  const helper = await startHelper(turnMs, sampleMs);
  // The sandbox's snapshot cache survives between runs (as data/ does in production); the store is new.
  const dataDir = join(tmpdir(), `cir-bot-bench-sessions-${process.getuid?.() ?? 0}`);
  const storeDir = mkdtempSync(join(tmpdir(), 'cir-bench-store-'));
  const env = benchEnv(n, helper.urls, dataDir);
  const logger = createLogger(env.CIR_LOG_LEVEL);
  const sandboxOptions = Object.entries(env).filter(([k]) => k.startsWith('CIR_SANDBOX_'));
  console.log(`sessions: ${n} at once, model ${turnMs} ms per turn (3 code blocks + answer), sampling every ${sampleMs} ms`);
  console.log(`sandbox options: ${sandboxOptions.map(([k, v]) => `${k}=${String(v)}`).join(' ')}`);
  console.log(`chat limits: CIR_MAX_CONCURRENT=${env.CIR_MAX_CONCURRENT} CIR_QUEUE_MAX=${env.CIR_QUEUE_MAX}`);

  try {
    // Warm-up, not measured: makes the sandbox's snapshot if the cache has none (a one-off per build).
    const warm = await buildEngine(env, logger);
    for await (const e of warm.engine.research({ question: WARM_UP })) if (e.type === 'error') throw new Error(`warm-up: ${e.message}`);
    await warm.close();

    // Measured from here: building the engine starts the sandbox pool, so its starts are billed.
    const { cpuSeconds: cpu0 } = await helper.ask<{ cpuSeconds: number }>('start', { root: process.pid });
    const t0 = performance.now();
    const built = await buildEngine(env, logger);
    const store = openSessionStore(storeDir);
    const limits = chatLimitsFromEnv(env);
    const limiters = await buildLimiters(env, limits, logger);
    const chat = createChatService({ engine: built.engine, store, limits, limiters, logger, maxSteps: env.CIR_MAX_STEPS });

    // How the open sessions stood, from the sandbox's own count (cheap, in-process): with idle
    // sessions saved, interpreters at the peak are not sessions open, so the bench says both.
    const most = { live: 0, maxLive: 0, saved: 0, starting: 0, savedChars: 0 };
    const watch = setInterval(() => {
      const s = built.sandbox?.status();
      if (!s) return;
      most.live = Math.max(most.live, s.live);
      most.maxLive = s.maxLive;
      most.saved = Math.max(most.saved, s.saved);
      most.starting = Math.max(most.starting, s.starting);
      most.savedChars = Math.max(most.savedChars, s.savedChars);
    }, 250);

    const tracks = new Map<string, Track>(); // by thread id
    const indexOf = (threadId: string) => Number(threadId.slice(1));
    chat.onEvent((e) => {
      const tr = tracks.get(e.ref.threadId);
      if (!tr) return;
      if (e.kind === 'session') tr.status = e.status;
      if (e.kind !== 'research' || e.event.type !== 'observation') return;
      const ev = e.event;
      if (ev.step === 1 && tr.firstResultAt === null) tr.firstResultAt = performance.now();
      tr.outputs.set(ev.step, { output: ev.output, error: ev.error, stateLost: ev.stateLost });
    });

    const outcomes = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const threadId = `t${i}`;
        const tr: Track = { admittedAt: 0, firstResultAt: null, outputs: new Map(), status: null };
        tracks.set(threadId, tr);
        const out = await chat.submit({ platform: 'slack', workspaceId: 'T1', channelId: 'C1', threadId, userId: `U${i}`, question: question(i) }, surface);
        tr.admittedAt = performance.now();
        return out;
      }),
    );
    const refused = outcomes.filter((o) => !o.accepted).length;
    await chat.idle();
    clearInterval(watch);
    const wallS = (performance.now() - t0) / 1000;
    await built.close(); // the interpreters exit and are reaped: their CPU lands in this process's children time
    const stopped = await helper.ask<{ peak: TreePeak; cpuSeconds: number; orphanCpuSeconds: number; helperCpuSeconds: number; mostInterpreters: number; turns: { session: number; turn: number; ms: number | null }[] }>('stop');
    store.close();
    await limiters.close();

    // Wait for the first step's result beyond the model's own time for that first turn.
    const firstTurnMs = new Map(stopped.turns.filter((t) => t.turn === 0).map((t) => [t.session, t.ms]));
    const waits: number[] = [];
    const failures: string[] = [];
    for (const [threadId, tr] of tracks) {
      const i = indexOf(threadId);
      const model = firstTurnMs.get(i);
      if (tr.firstResultAt !== null && model != null) waits.push(tr.firstResultAt - tr.admittedAt - model);
      for (let b = 1; b <= 3; b++) {
        const o = tr.outputs.get(b);
        const want = expected(i, b);
        if (!o) failures.push(`session ${i} block ${b}: no result (session ${tr.status ?? 'unfinished'})`);
        else if (o.error || o.stateLost || !o.output.includes(want))
          failures.push(`session ${i} block ${b}: wanted "${want}", got ${JSON.stringify(o.output.slice(0, 120))}${o.error ? ` error ${JSON.stringify(o.error.slice(-160))}` : ''}${o.stateLost ? ' (state lost)' : ''}`);
      }
      if (tr.status !== 'done') failures.push(`session ${i}: ended ${tr.status ?? 'unfinished'}`);
    }

    const peak = stopped.peak;
    const cpu = stopped.cpuSeconds - cpu0;
    const models = stopped.turns.map((t) => t.ms).filter((x): x is number => x !== null);
    console.log(`wall time: ${wallS.toFixed(1)} s (model alone: ${((4 * turnMs) / 1000).toFixed(1)} s per session)`);
    console.log(`peak PSS of the tree: ${(peak.peakPssBytes / GiB).toFixed(2)} GiB   peak RSS: ${(peak.peakRssBytes / GiB).toFixed(2)} GiB   (${peak.samples} samples)`);
    console.log(`sessions per GiB (N / peak PSS): ${(n / (peak.peakPssBytes / GiB)).toFixed(1)}`);
    for (const line of peakBreakdown(peak, process.pid)) console.log(`  at peak: ${line}`);
    console.log(`  most interpreter processes in any sample: ${stopped.mostInterpreters}`);
    console.log(`  sandbox status, most at any time: ${most.live} interpreters live (budget ${most.maxLive}), ${most.starting} starting, ${most.saved} sessions saved holding none (${(most.savedChars / MB).toFixed(2)} M characters of state kept)`);
    console.log(`CPU of the tree: ${cpu.toFixed(1)} s in all, ${(cpu / n).toFixed(2)} CPU-s per session (starts included), ${(cpu / wallS).toFixed(2)} cores on average over the wall time`);
    console.log(`  of which ${stopped.orphanCpuSeconds.toFixed(1)} s from sandbox processes reaped outside the tree (killed wrapper), as of their last sample`);
    console.log(`  not counted: the helper process (fakes + sampler) used ${stopped.helperCpuSeconds.toFixed(1)} CPU-s of the same machine`);
    console.log(`wait from admission to the first step's result, beyond the model's own time: p50 ${(percentile(waits, 0.5) / 1000).toFixed(2)} s, p95 ${(percentile(waits, 0.95) / 1000).toFixed(2)} s, max ${(Math.max(...waits) / 1000).toFixed(2)} s (${waits.length} sessions)`);
    console.log(`model turns as served: p50 ${percentile(models, 0.5).toFixed(0)} ms, p95 ${percentile(models, 0.95).toFixed(0)} ms (paced at ${turnMs})`);
    console.log(`refused at submit: ${refused}`);
    console.log(`blocks 2/3 seeing block 1's variables: ${failures.length === 0 ? `all ${n} sessions OK` : `${failures.length} failures`}`);
    for (const f of failures.slice(0, 20)) console.log(`  FAIL ${f}`);
    if (failures.length > 20) console.log(`  ... ${failures.length - 20} more`);
  } finally {
    if (helper.child.connected) helper.child.send({ cmd: 'exit' });
    rmSync(storeDir, { recursive: true, force: true });
  }
}
