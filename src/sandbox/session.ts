// One research session's interpreter. Blocks run one after another in the same Python namespace;
// when the process had to be killed or died, the next block gets a fresh interpreter from the pool
// and the result says that earlier variables are gone.
import type { Interpreter } from './interpreter.ts';
import type { Pool } from './pool.ts';
import type { HostTools, RunOptions, RunResult, SandboxSession } from './types.ts';

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
    if (this.closed) {
      await this.interp.close();
      throw new Error('sandbox session is closed');
    }
    const o = await this.interp.run(code, { timeoutMs: options.timeoutMs, signal: options.signal, tools: this.tools });
    if (this.closed) {
      // Closed while the block ran: the process was killed by close(), not by the code.
      const stopped = o.processLost ? 'cancelled' : o.stopped;
      return { output: o.output, error: o.error, stopped, stateLost: false, durationMs: Math.round(performance.now() - started) };
    }
    if (o.processLost) {
      stateLost = true;
      this.interp = null;
      // Start fetching the replacement now, so the next block does not wait for it.
      this.replacement = this.pool.acquire();
      this.replacement.catch(() => undefined);
    }
    // A stopped block has no traceback (error stays null): the caller words `stopped` and `stateLost`.
    return {
      output: o.output,
      error: o.error,
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
