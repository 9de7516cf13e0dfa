// Messages between the host and an interpreter process (IPC, structured clone), and between the
// process's controller thread and its Python worker thread. The child is hostile: the host checks
// every message it receives from it (see interpreter.ts) and never trusts a field's type.

// Bounds shared by host and child (in child/ because an interpreter process may read only there).
export { MAX_ARG_CHARS, MAX_STATE_CHARS, MAX_TEXT_CHARS } from './child/limits.ts';

/** What a run message asks: a block of code, or to save / load the session's Python state
 *  (`code` then carries the saved text). All three share the deadline, interrupt and kill. */
export type RunOp = 'block' | 'save' | 'load';

/** Passed to the child as one JSON argument. Nothing secret: the sandboxed code can read it. */
/** What an interpreter started from that its process shares: the compiled wasm module, the snapshot copy. */
export interface SharedLoad {
  module: boolean;
  snapshot: boolean;
}

export interface ChildInit {
  mode: 'serve' | 'build-snapshot';
  /** Absolute path of pyodide's package directory, with a trailing slash. */
  indexURL: string;
  snapshotPath: string | null;
  memoryMb: number;
  /** Keep one copy of the snapshot for all the process's interpreters (a process that hosts
   *  several); else each reads its own and frees it once loaded. */
  shareSnapshot?: boolean;
}

/** Host -> interpreter process. `slot` names one of the process's interpreters. */
export type HostToChild =
  | { t: 'open'; slot: number }
  | { t: 'run'; slot: number; runId: number; code: string; op: RunOp }
  | { t: 'reply'; slot: number; id: number; ok: boolean; value: string }
  | { t: 'interrupt'; slot: number; runId: number }
  | { t: 'stats'; slot: number }
  | { t: 'close'; slot: number };

/** kind: why the block ended early, as seen inside the interpreter. */
export type BlockKind = null | 'interrupt' | 'memory';

/** Interpreter process -> host. `closed`: the slot's interpreter is gone (its thread ended). */
export type ChildToHost =
  | { t: 'ready'; slot: number; fromSnapshot: boolean; loadMs: number; shared: SharedLoad; hosted?: number }
  | { t: 'snapshot'; slot: number; bytes: Uint8Array }
  | { t: 'call'; slot: number; id: number; kind: 'search' | 'visit'; a: string; b: number }
  | { t: 'result'; slot: number; runId: number; output: string; error: string | null; kind: BlockKind; state?: string }
  | { t: 'stats'; slot: number; cpuMs: number }
  | { t: 'fatal'; slot: number; message: string }
  | { t: 'closed'; slot: number }
  | { t: 'note'; message: string };

/** Worker thread -> controller thread. */
export type WorkerToController =
  | { t: 'ready'; fromSnapshot: boolean; loadMs: number; shared: SharedLoad }
  | { t: 'snapshot'; bytes: Uint8Array }
  | { t: 'result'; runId: number; output: string; error: string | null; kind: BlockKind; state?: string }
  | { t: 'fatal'; message: string };

/** Controller thread -> worker thread. */
export type ControllerToWorker = { t: 'run'; runId: number; code: string; op: RunOp };
