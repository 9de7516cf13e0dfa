// The Python sandbox: Pyodide interpreters in locked-down Node processes (see launch.ts), a few to
// a process, one thread each (host.ts), started ahead of demand by a pool, from a memory snapshot
// when one can be made. A session holds an interpreter only while it needs one (residency.ts,
// session.ts); the number of live interpreters is bounded by a memory budget. Nothing the
// sandboxed code does can take this process down.
import { availableParallelism } from 'node:os';
import { silentLogger, type Logger } from '../util/log.ts';
import { buildChild, type BuiltChild } from './child-build.ts';
import { Hosts } from './host.ts';
import type { Interpreter } from './interpreter.ts';
import { detectLaunch, pyodideDir, type Launch, type NetworkMode } from './launch.ts';
import { Pool } from './pool.ts';
import { Residency } from './residency.ts';
import { Session } from './session.ts';
import { defaultCacheDir, discardSnapshot, ensureSnapshot, privateDir } from './snapshot.ts';
import type { HostTools, Sandbox, SandboxSession, SandboxStatus } from './types.ts';

export type { HostTools, RunOptions, RunResult, Sandbox, SandboxSession, SandboxStatus } from './types.ts';

/** Interpreters one process holds by default (see the README: what sharing a process costs in isolation). */
export const DEFAULT_PER_PROCESS = 8;

/** What the budget counts for one interpreter, PSS in MB: ~66 MB its own (wasm heap, its thread's
 *  V8 heap, its share of malloc) plus its share of a process's ~80 MB (node, the compiled module,
 *  the controller thread, the 30 MB snapshot copy its interpreters load from). A process of one
 *  keeps no snapshot copy. Measured idle after a block from a snapshot (/proc/PID/smaps_rollup),
 *  at 1, 2, 4 and 8 to a process: 115, 103, 86 and 75-76 MB each. */
export function interpreterPssMb(perProcess: number): number {
  return perProcess <= 1 ? 116 : Math.ceil(66 + 80 / perProcess);
}
export const INTERPRETER_PSS_MB = interpreterPssMb(DEFAULT_PER_PROCESS);

/** A process left without interpreters stays this long for the next one (its wasm is compiled). */
const HOST_IDLE_MS = 30_000;

export interface SandboxOptions {
  /** Interpreters kept started ahead of demand (0: start one when a session opens). */
  poolSize: number;
  /** Cap on each interpreter's WebAssembly memory; beyond it Python raises MemoryError. */
  memoryMb: number;
  /** 'netns': require the network-namespace cut-off; 'auto': use it when available; 'off': never. */
  network: NetworkMode;
  /** Memory for interpreters in all; their number is this over interpreterPssMb(). Default 2048. */
  memoryBudgetMb?: number;
  /** Idle this long after a block, a session saves its state and gives its interpreter up.
   *  Negative (the default): only when another session needs the room. */
  idleReleaseMs?: number;
  /** Interpreters one process holds at most (1: a process each). Default DEFAULT_PER_PROCESS. */
  interpretersPerProcess?: number;
  /** Interpreters started at once. Default: the machine's cores. */
  maxParallelStarts?: number;
  logger?: Logger;
  /** Where memory snapshots are kept (a private directory). Default: <tmpdir>/cir-bot-sandbox-<uid>. */
  cacheDir?: string;
  /** false: always start interpreters cold (benchmarks). Default true. */
  snapshot?: boolean;
}

export async function createSandbox(options: SandboxOptions): Promise<Sandbox> {
  const logger = options.logger ?? silentLogger;
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const launch: Launch = await detectLaunch(options.network);
  if (launch.isolation.network === 'netns') {
    logger.info({ isolation: launch.isolation }, 'sandbox isolation: permission model + network namespace');
  } else {
    logger.warn(
      { isolation: launch.isolation },
      'sandbox has NO network cut-off: sandboxed code is confined by the permission model only',
    );
  }
  let child: BuiltChild | undefined;
  try {
    privateDir(cacheDir);
    child = buildChild(cacheDir);
    launch.builtChildDir = child.ensure();
  } catch (err) {
    logger.warn({ err }, 'sandbox: could not prepare the interpreter code as JavaScript; running it as TypeScript (slower starts)');
  }

  const closing = new AbortController();
  let snapshotPath: Promise<string | null> =
    options.snapshot === false
      ? Promise.resolve(null)
      : ensureSnapshot({ cacheDir, launch, indexURL: pyodideDir, memoryMb: options.memoryMb, logger, signal: closing.signal });

  const perProcess = Math.max(1, options.interpretersPerProcess ?? DEFAULT_PER_PROCESS);
  const hosts = new Hosts({ launch, memoryMb: options.memoryMb, indexURL: pyodideDir, logger, capacity: perProcess, idleMs: HOST_IDLE_MS });
  const starter = (place: 'shared' | 'alone') => async (signal: AbortSignal): Promise<Interpreter> => {
    const snap = await snapshotPath;
    signal.throwIfAborted();
    if (child) launch.builtChildDir = child.ensure();
    const startIn = (path: string | null) => (place === 'alone' ? hosts.startAlone(path, signal) : hosts.start(path, signal));
    try {
      return await startIn(snap);
    } catch (err) {
      if (!snap || signal.aborted) throw err;
      // A snapshot that cannot be loaded (corrupt, or from another build) is dropped for good.
      logger.error({ err, snap }, 'sandbox snapshot failed to load; discarding it and starting cold');
      discardSnapshot(snap);
      snapshotPath = Promise.resolve(null);
      return startIn(null);
    }
  };
  const start = starter('shared');
  const startAlone = starter('alone');

  const maxLive = Math.max(1, Math.floor((options.memoryBudgetMb ?? 2048) / interpreterPssMb(perProcess)));
  const poolSize = Math.min(options.poolSize, maxLive - 1);
  const maxParallelStarts = options.maxParallelStarts ?? availableParallelism();
  const residency = new Residency(maxLive - poolSize, logger, maxParallelStarts);
  const pool = new Pool({ size: poolSize, start, logger, maxLive, held: () => residency.heldCount, maxParallelStarts });
  const sessions = new Set<Session>();
  let closed = false;
  pool.fill();
  logger.info({ maxLive, poolSize, maxHeld: residency.maxHeld }, 'sandbox budget');

  return {
    async open(tools: HostTools): Promise<SandboxSession> {
      if (closed) throw new Error('sandbox is closed');
      const session = new Session(
        { pool, startAlone: (signal) => startAlone(signal ? AbortSignal.any([signal, closing.signal]) : closing.signal), residency, logger, idleReleaseMs: options.idleReleaseMs ?? -1, onClose: (s) => sessions.delete(s) },
        tools,
      );
      sessions.add(session);
      return session;
    },

    status(): SandboxStatus {
      const { ready, starting } = pool.counts();
      let busy = 0;
      let idle = 0;
      let saved = 0;
      let savedChars = 0;
      for (const s of sessions) {
        if (s.holds && s.busy) busy++;
        else if (s.holds) idle++;
        if (s.isSaved) saved++;
        savedChars += s.savedChars;
      }
      return { ready, busy, idle, starting, saved, savedChars, live: ready + starting + busy + idle, maxLive, isolation: { ...launch.isolation } };
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      closing.abort();
      await Promise.all([pool.close(), ...[...sessions].map((s) => s.close())]);
      await hosts.close();
    },
  };
}
