// Contract between the sandbox and its callers. The sandbox never knows about the engine:
// it is handed host functions and runs code.

/** Host functions the sandboxed Python can call synchronously. Each returns the text Python sees;
 *  a thrown Error becomes a Python exception carrying the error's message. */
export interface HostTools {
  /** `signal` aborts when the block stops (its timeout, a cancel) or ends. */
  webSearch(query: string, numResults: number, signal?: AbortSignal): Promise<string>;
  webVisit(url: string, signal?: AbortSignal): Promise<string>;
}

export interface RunOptions {
  /** Wall-clock limit for this block. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface RunResult {
  /** stdout and stderr of the block, interleaved as written, bounded. */
  output: string;
  /** Short Python-style traceback ("Traceback ...\nNameError: ...") when the block raised, else null. */
  error: string | null;
  /** Why the block was stopped, if it was. */
  stopped: null | 'timeout' | 'memory' | 'cancelled' | 'crashed';
  /** True when the interpreter had to be replaced: variables from earlier blocks are gone. */
  stateLost: boolean;
  durationMs: number;
}

/** One interpreter, owned by one research session for its whole life. */
export interface SandboxSession {
  run(code: string, options: RunOptions): Promise<RunResult>;
  /** Gives the interpreter back (it is destroyed, never reused by another session). */
  close(): Promise<void>;
}

export interface SandboxStatus {
  /** Interpreters started ahead of demand, waiting for a session. */
  ready: number;
  /** Held by a session and running a block. */
  busy: number;
  /** Held by a session between its blocks (its state would not save, or not idle long enough yet). */
  idle: number;
  starting: number;
  /** Sessions holding no interpreter, their Python state saved in the host. */
  saved: number;
  /** Characters of saved state kept in the host, all sessions together. */
  savedChars: number;
  /** Interpreter processes alive (ready + busy + idle + starting), and the budget's limit on them. */
  live: number;
  maxLive: number;
  /** 'netns' (OS network cut-off), or 'none' with a reason. */
  isolation: { network: 'netns' | 'none'; reason?: string; fsPermission: boolean };
}

export interface Sandbox {
  open(tools: HostTools): Promise<SandboxSession>;
  status(): SandboxStatus;
  close(): Promise<void>;
}
