// Messages between the host and an interpreter process (IPC, structured clone), and between the
// process's controller thread and its Python worker thread. The child is hostile: the host checks
// every message it receives from it (see interpreter.ts) and never trusts a field's type.

// Bounds shared by host and child (in child/ because an interpreter process may read only there).
export { MAX_ARG_CHARS, MAX_STATE_CHARS, MAX_TEXT_CHARS } from './child/limits.ts';

/** What a run message asks: a block of code, or to save / load the session's Python state
 *  (`code` then carries the saved text). All three share the deadline, interrupt and kill. */
export type RunOp = 'block' | 'save' | 'load';

/** Passed to the child as one JSON argument. Nothing secret: the sandboxed code can read it. */
export interface ChildInit {
  mode: 'serve' | 'build-snapshot';
  /** Absolute path of pyodide's package directory, with a trailing slash. */
  indexURL: string;
  snapshotPath: string | null;
  memoryMb: number;
}

export type HostToChild =
  | { t: 'run'; runId: number; code: string; op: RunOp }
  | { t: 'reply'; id: number; ok: boolean; value: string }
  | { t: 'interrupt'; runId: number }
  | { t: 'stats' };

/** kind: why the block ended early, as seen inside the interpreter. */
export type BlockKind = null | 'interrupt' | 'memory';

export type ChildToHost =
  | { t: 'ready'; fromSnapshot: boolean; loadMs: number }
  | { t: 'snapshot'; bytes: Uint8Array }
  | { t: 'call'; id: number; kind: 'search' | 'visit'; a: string; b: number }
  | { t: 'result'; runId: number; output: string; error: string | null; kind: BlockKind; state?: string }
  | { t: 'stats'; rss: number; cpuMs: number }
  | { t: 'fatal'; message: string };

/** Worker thread -> controller thread. */
export type WorkerToController =
  | { t: 'ready'; fromSnapshot: boolean; loadMs: number }
  | { t: 'snapshot'; bytes: Uint8Array }
  | { t: 'result'; runId: number; output: string; error: string | null; kind: BlockKind; state?: string }
  | { t: 'fatal'; message: string };

/** Controller thread -> worker thread. */
export type ControllerToWorker = { t: 'run'; runId: number; code: string; op: RunOp };
