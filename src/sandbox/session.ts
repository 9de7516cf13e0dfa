// One research session's interpreter. Blocks run one after another in the same Python namespace;
// when the process had to be killed or died, the next block gets a fresh interpreter from the pool
// and the result says that earlier variables are gone.
import type { Interpreter } from './interpreter.ts';
import type { Pool } from './pool.ts';
import type { HostTools, RunOptions, RunResult, SandboxSession } from './types.ts';

const LOST_NOTE = 'Note: the Python interpreter was restarted; variables, imports and functions from earlier code blocks are gone.';

function stopMessage(stopped: RunResult['stopped'], timeoutMs: number): string | null {
  switch (stopped) {
    case 'timeout':
      return `TimeoutError: the code block ran longer than ${+(timeoutMs / 1000).toFixed(1)} s and was stopped`;
    case 'cancelled':
      return 'Cancelled: the code block was stopped';
    case 'crashed':
      return 'RuntimeError: the Python interpreter crashed while running this code block';
    default:
      return null;
  }
}

export class Session implements SandboxSession {
  private readonly pool: Pool;
  private readonly tools: HostTools;
  private readonly onClose: (s: Session) => void;
  private interp: Interpreter | null;
  private replacement: Promise<Interpreter> | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(pool: Pool, interp: Interpreter, tools: HostTools, onClose: (s: Session) => void) {
    this.pool = pool;
    this.interp = interp;
    this.tools = tools;
    this.onClose = onClose;
  }

  /** True while this session holds a live interpreter process. */
  get holdsInterpreter(): boolean {
    return this.interp !== null && this.interp.alive;
  }

  run(code: string, options: RunOptions): Promise<RunResult> {
    // Blocks of one session never overlap; a second call waits for the first.
    const next = this.queue.then(() => this.runNow(code, options));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(code: string, options: RunOptions): Promise<RunResult> {
    if (this.closed) throw new Error('sandbox session is closed');
    const started = performance.now();
    let stateLost = false;
    if (!this.interp || !this.interp.alive) {
      // The process died between blocks (or in the last one): carry on with a fresh interpreter.
      stateLost = this.interp !== null;
      this.interp = await (this.replacement ?? this.pool.acquire());
      this.replacement = null;
    }
    if (this.closed) throw new Error('sandbox session is closed');
    const o = await this.interp.run(code, { timeoutMs: options.timeoutMs, signal: options.signal, tools: this.tools });
    if (o.processLost) {
      stateLost = true;
      this.interp = null;
      // Start fetching the replacement now, so the next block does not wait for it.
      this.replacement = this.pool.acquire();
      this.replacement.catch(() => undefined);
    }
    const parts = [o.error ?? stopMessage(o.stopped, options.timeoutMs), stateLost ? LOST_NOTE : null].filter(Boolean);
    return {
      output: o.output,
      error: parts.length ? parts.join('\n') : null,
      stopped: o.stopped,
      stateLost,
      durationMs: Math.round(performance.now() - started),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
    const replacement = this.replacement;
    this.replacement = null;
    await Promise.all([
      this.interp?.close(),
      replacement?.then(
        (it) => it.close(),
        () => undefined,
      ),
    ]);
    this.interp = null;
  }
}
