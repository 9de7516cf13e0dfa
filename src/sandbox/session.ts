// One research session's Python. Blocks run one after another in the same namespace. Between
// blocks the session may give its interpreter up (after `idleReleaseMs`, or at once when another
// session needs the room): its state is saved first (state.py) and loaded into a fresh interpreter
// before its next block. A state that does not save keeps the interpreter. When the process had
// to be killed or died, the next block starts fresh and the result says earlier variables are gone.
// A session whose block took a whole shared process down runs alone from then on.
import type { Logger } from '../util/log.ts';
import type { BlockOutcome, Interpreter } from './interpreter.ts';
import type { Pool } from './pool.ts';
import type { Resident, Residency } from './residency.ts';
import type { HostTools, RunOptions, RunResult, SandboxSession } from './types.ts';

/** Saving or loading a state runs the session's own objects (their pickling code): bounded. */
const STATE_OP_TIMEOUT_MS = 10_000;

export interface SessionDeps {
  pool: Pool;
  /** An interpreter in a process of its own (host.ts, Hosts.startAlone). */
  startAlone: (signal?: AbortSignal) => Promise<Interpreter>;
  residency: Residency;
  logger: Logger;
  /** Idle this long after a block, the interpreter is given up (state saved). <0: only when room is needed. */
  idleReleaseMs: number;
  onClose: (s: Session) => void;
}

export class Session implements SandboxSession, Resident {
  private readonly deps: SessionDeps;
  private readonly tools: HostTools;
  private interp: Interpreter | null = null;
  /** The saved state while no interpreter is held. */
  private saved: string | null = null;
  private replacement: Promise<Interpreter> | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private running = false;
  private releasing = false;
  /** The last save failed: keep the interpreter until the next block changes the state. */
  private unsaveable = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The interpreter died while the session was idle: the next block reports the state lost. */
  private lostWhileIdle = false;
  /** Counted in the pool's demand from open until the first interpreter is taken. */
  private reserved = true;
  /** One of its blocks ended a whole interpreter process: its interpreters no longer share one. */
  private alone = false;
  lastUsed = performance.now();

  constructor(deps: SessionDeps, tools: HostTools) {
    this.deps = deps;
    this.tools = tools;
    deps.residency.add(this);
    deps.pool.expect(1); // start one now, while the model writes the first block
  }

  get holds(): boolean {
    return this.interp !== null && this.interp.alive;
  }

  get evictable(): boolean {
    return this.forcible && !this.unsaveable;
  }

  get forcible(): boolean {
    return this.holds && !this.running && !this.releasing && !this.closed;
  }

  /** True while a block runs. */
  get busy(): boolean {
    return this.running;
  }

  /** No interpreter, state saved. */
  get isSaved(): boolean {
    return this.interp === null && this.saved !== null;
  }

  /** Bytes of saved state this session keeps in the host. */
  get savedChars(): number {
    return this.saved?.length ?? 0;
  }

  run(code: string, options: RunOptions): Promise<RunResult> {
    return this.serial(() => this.runNow(code, options));
  }

  /** Saves the state and gives the interpreter up; false when it has to be kept. */
  release(reason: 'budget' | 'idle', force = false): Promise<boolean> {
    if (!(force ? this.forcible : this.evictable)) return Promise.resolve(false);
    this.releasing = true;
    return this.serial(() => this.releaseNow(reason, force)).finally(() => (this.releasing = false));
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    // Blocks and releases of one session never overlap; each waits for the one before.
    const next = this.queue.then(f);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(code: string, options: RunOptions): Promise<RunResult> {
    if (this.closed) throw new Error('sandbox session is closed');
    clearTimeout(this.idleTimer);
    const started = performance.now();
    this.running = true;
    try {
      let stateLost = false;
      let note = '';
      if (!this.holds) {
        try {
          ({ lost: stateLost, note } = await this.take(options.signal));
        } catch (e) {
          if (!options.signal?.aborted) throw e;
          return { output: '', error: null, stopped: 'cancelled', stateLost: false, durationMs: Math.round(performance.now() - started) };
        }
      }
      if (this.closed) {
        // Closed while it waited for an interpreter: the one it got goes at once.
        void this.drop();
        return { output: '', error: null, stopped: 'cancelled', stateLost: false, durationMs: Math.round(performance.now() - started) };
      }
      const interp = this.interp!;
      const o = await interp.run(code, { timeoutMs: options.timeoutMs, signal: options.signal, tools: this.tools });
      const durationMs = Math.round(performance.now() - started);
      if (this.closed) {
        // Closed while the block ran: the process was killed by close(), not by the code.
        const stopped = o.processLost ? 'cancelled' : o.stopped;
        return { output: o.output, error: o.error, stopped, stateLost: false, durationMs };
      }
      if (o.processLost) {
        stateLost = true;
        this.noteLoss(o);
        void this.drop();
        if (!this.alone) {
          // Start fetching the replacement now, so the next block does not wait for it.
          this.replacement = this.deps.pool.acquire();
          this.replacement.catch(() => undefined);
        }
      }
      // A stopped block has no traceback (error stays null): the caller words `stopped` and `stateLost`.
      return { output: note + o.output, error: o.error, stopped: o.stopped, stateLost, durationMs };
    } finally {
      this.running = false;
      this.unsaveable = false;
      this.lastUsed = performance.now();
      this.afterBlock();
    }
  }

  /** Takes an interpreter (within the residency budget) and loads the saved state. `lost`: the
   *  state is gone; `note`: names left out when it was saved, worded for the block's output. */
  private async take(signal?: AbortSignal): Promise<{ lost: boolean; note: string }> {
    const died = this.interp !== null || this.lostWhileIdle; // its interpreter died between blocks
    this.lostWhileIdle = false;
    if (this.interp) await this.drop();
    this.unreserve();
    await this.deps.residency.acquire(this, signal);
    let interp: Interpreter;
    try {
      interp = await (this.replacement ?? (this.alone ? this.deps.startAlone(signal) : this.deps.pool.acquire()));
    } catch (e) {
      this.deps.residency.failed();
      throw e;
    } finally {
      this.replacement = null;
    }
    this.deps.residency.arrived();
    this.interp = interp;
    const saved = this.saved;
    this.saved = null;
    if (saved === null) return { lost: died, note: '' };
    const o = await interp.run(saved, { timeoutMs: STATE_OP_TIMEOUT_MS, signal, tools: this.tools, op: 'load' });
    if (o.error === null && o.stopped === null && !o.processLost) return { lost: false, note: o.output };
    this.deps.logger.warn({ error: o.error, stopped: o.stopped }, 'sandbox session state did not load; the session goes on without it');
    if (o.processLost) {
      this.noteLoss(o);
      await this.drop();
      return this.take(signal).then(() => ({ lost: true, note: '' }));
    }
    return { lost: true, note: '' };
  }

  /** Its code ended the process it shared with other sessions: from now on it runs alone. */
  private noteLoss(o: BlockOutcome): void {
    if (!o.tookProcess || this.alone) return;
    this.alone = true;
    this.deps.logger.warn({ pid: this.interp?.pid }, 'a sandbox block ended its whole interpreter process; this session runs in a process of its own from now on');
  }

  private afterBlock(): void {
    if (this.closed || !this.holds) return;
    this.deps.residency.idle();
    const ms = this.deps.idleReleaseMs;
    if (ms < 0) return;
    this.idleTimer = setTimeout(() => void this.release('idle'), ms);
    this.idleTimer.unref();
  }

  private async releaseNow(reason: 'budget' | 'idle', force: boolean): Promise<boolean> {
    const interp = this.interp;
    if (this.closed || this.running || !interp || !interp.alive) return false;
    const o = await interp.run(force ? 'force' : '', { timeoutMs: STATE_OP_TIMEOUT_MS, tools: this.tools, op: 'save' });
    if (o.processLost) {
      // Saving killed it (or it ran out of time): the state is gone, the next block will say so.
      this.noteLoss(o);
      this.saved = null;
      this.lostWhileIdle = true;
      await this.drop();
      return true;
    }
    if (o.state === undefined) {
      this.unsaveable = true;
      this.deps.logger.debug({ reason, why: o.error?.slice(0, 200) }, 'sandbox session state does not save; keeping its interpreter');
      return false;
    }
    this.saved = o.state;
    await this.drop();
    return true;
  }

  /** Lets the held interpreter go and closes its process. Its budget slot is freed only once the
   *  process is gone: until then its memory is still in use (freed at the kill, a replacement
   *  started beside the dying process and the budget was exceeded by one on a loaded machine). */
  private drop(): Promise<void> {
    if (this.interp === null) return Promise.resolve();
    const interp = this.interp;
    this.interp = null;
    return interp.close().finally(() => this.deps.residency.dropped());
  }

  private unreserve(): void {
    if (!this.reserved) return;
    this.reserved = false;
    this.deps.pool.expect(-1);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unreserve();
    clearTimeout(this.idleTimer);
    this.deps.onClose(this);
    this.deps.residency.remove(this);
    const replacement = this.replacement;
    this.replacement = null;
    this.saved = null;
    await Promise.all([
      this.drop(),
      replacement?.then(
        (it) => it.close(),
        () => undefined,
      ),
    ]);
  }
}
