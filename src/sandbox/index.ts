// The Python sandbox: Pyodide interpreters in separate, locked-down Node processes (see launch.ts),
// one per research session, started ahead of demand by a pool, from a memory snapshot when one
// can be made. Nothing the sandboxed code does can take this process down.
import { silentLogger, type Logger } from '../util/log.ts';
import { Interpreter } from './interpreter.ts';
import { detectLaunch, pyodideDir, type NetworkMode } from './launch.ts';
import { Pool } from './pool.ts';
import { Session } from './session.ts';
import { defaultCacheDir, discardSnapshot, ensureSnapshot } from './snapshot.ts';
import type { HostTools, Sandbox, SandboxSession, SandboxStatus } from './types.ts';

export type { HostTools, RunOptions, RunResult, Sandbox, SandboxSession, SandboxStatus } from './types.ts';

export interface SandboxOptions {
  /** Interpreters kept started ahead of demand (0: start one when a session opens). */
  poolSize: number;
  /** Cap on each interpreter's WebAssembly memory; beyond it Python raises MemoryError. */
  memoryMb: number;
  /** 'netns': require the network-namespace cut-off; 'auto': use it when available; 'off': never. */
  network: NetworkMode;
  logger?: Logger;
  /** Where memory snapshots are kept (a private directory). Default: <tmpdir>/cir-bot-sandbox-<uid>. */
  cacheDir?: string;
  /** false: always start interpreters cold (benchmarks). Default true. */
  snapshot?: boolean;
}

export async function createSandbox(options: SandboxOptions): Promise<Sandbox> {
  const logger = options.logger ?? silentLogger;
  const launch = await detectLaunch(options.network);
  if (launch.isolation.network === 'netns') {
    logger.info({ isolation: launch.isolation }, 'sandbox isolation: permission model + network namespace');
  } else {
    logger.warn(
      { isolation: launch.isolation },
      'sandbox has NO network cut-off: sandboxed code is confined by the permission model only',
    );
  }

  const closing = new AbortController();
  let snapshotPath: Promise<string | null> =
    options.snapshot === false
      ? Promise.resolve(null)
      : ensureSnapshot({
          cacheDir: options.cacheDir ?? defaultCacheDir(),
          launch,
          indexURL: pyodideDir,
          memoryMb: options.memoryMb,
          logger,
          signal: closing.signal,
        });

  const start = async (signal: AbortSignal): Promise<Interpreter> => {
    const snap = await snapshotPath;
    signal.throwIfAborted();
    const opts = { launch, memoryMb: options.memoryMb, indexURL: pyodideDir, logger, signal };
    try {
      return await Interpreter.start({ ...opts, snapshotPath: snap });
    } catch (err) {
      if (!snap || signal.aborted) throw err;
      // A snapshot that cannot be loaded (corrupt, or from another build) is dropped for good.
      logger.error({ err, snap }, 'sandbox snapshot failed to load; discarding it and starting cold');
      discardSnapshot(snap);
      snapshotPath = Promise.resolve(null);
      return Interpreter.start({ ...opts, snapshotPath: null });
    }
  };

  const pool = new Pool({ size: options.poolSize, start, logger });
  const sessions = new Set<Session>();
  let closed = false;
  pool.fill();

  return {
    async open(tools: HostTools): Promise<SandboxSession> {
      if (closed) throw new Error('sandbox is closed');
      const interp = await pool.acquire();
      if (closed) {
        await interp.close();
        throw new Error('sandbox is closed');
      }
      const session = new Session(pool, interp, tools, (s) => sessions.delete(s));
      sessions.add(session);
      return session;
    },

    status(): SandboxStatus {
      const { ready, starting } = pool.counts();
      let busy = 0;
      for (const s of sessions) if (s.holdsInterpreter) busy++;
      return { ready, busy, starting, isolation: { ...launch.isolation } };
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      closing.abort();
      await Promise.all([pool.close(), ...[...sessions].map((s) => s.close())]);
    },
  };
}
