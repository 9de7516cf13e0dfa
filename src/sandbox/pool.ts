// Keeps `size` interpreters started ahead of demand, plus one for each session opened that has not
// taken one yet (it is started while the model writes the session's first block), within the
// memory budget. An interpreter leaves the pool for good: sessions never hand one back (no state
// may leak from one session to another).
import type { Logger } from '../util/log.ts';
import type { Interpreter } from './interpreter.ts';

export interface PoolOptions {
  size: number;
  start: (signal: AbortSignal) => Promise<Interpreter>;
  logger: Logger;
  /** Starts running at once (each costs about a CPU-second from a snapshot). */
  maxParallelStarts: number;
  /** Interpreter processes allowed in all (the memory budget), with `held()` of them held by sessions. */
  maxLive: number;
  held: () => number;
}

interface Waiter {
  resolve: (i: Interpreter) => void;
  reject: (e: Error) => void;
}

/** After this many failed starts in a row, waiting sessions get the error instead of waiting on. */
const FAILURES_BEFORE_GIVING_UP = 3;

export class Pool {
  private readonly opts: PoolOptions;
  private readonly ready: Interpreter[] = [];
  private readonly waiters: Waiter[] = [];
  private starting = 0;
  private expected = 0;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly closing = new AbortController();

  constructor(opts: PoolOptions) {
    this.opts = opts;
  }

  counts(): { ready: number; starting: number } {
    return { ready: this.ready.length, starting: this.starting };
  }

  /** A ready interpreter, now owned by the caller. */
  acquire(): Promise<Interpreter> {
    if (this.closed) return Promise.reject(new Error('sandbox is closed'));
    const it = this.ready.shift();
    if (it) {
      setImmediate(() => this.fill()); // spawning a replacement must not delay this caller
      return Promise.resolve(it);
    }
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.fill();
    });
  }

  /** Sessions opened that will want an interpreter soon (+1 at open, -1 once taken or closed). */
  expect(delta: number): void {
    this.expected = Math.max(0, this.expected + delta);
    if (delta > 0) this.fill();
  }

  /** Starts interpreters until ready + starting covers the pool size, everyone waiting and the
   *  sessions expected - the expected ones only as far as the budget has room. */
  fill(): void {
    if (this.closed || this.retryTimer) return;
    const { size, maxParallelStarts, maxLive } = this.opts;
    for (;;) {
      if (this.starting >= maxParallelStarts) return;
      const have = this.ready.length + this.starting;
      // Waiters already count among the held (residency admitted them); they have no process yet.
      const processes = this.opts.held() - this.waiters.length + have;
      const forWaiters = have < this.waiters.length + size;
      const forExpected = have < this.waiters.length + size + this.expected && processes < maxLive;
      if (!forWaiters && !forExpected) return;
      this.startOne();
    }
  }

  private startOne(): void {
    this.starting++;
    const p = this.opts.start(this.closing.signal).then(
      (it) => {
        this.starting--;
        this.failures = 0;
        if (this.closed) return it.close();
        const waiter = this.waiters.shift();
        if (waiter) waiter.resolve(it);
        else {
          this.ready.push(it);
          // A pooled interpreter that dies (killed from outside, crashed) is dropped and replaced.
          it.onceExited(() => {
            const i = this.ready.indexOf(it);
            if (i >= 0) {
              this.ready.splice(i, 1);
              this.opts.logger.warn({ pid: it.pid }, 'pooled sandbox interpreter exited; replacing it');
              this.fill();
            }
          });
        }
        this.fill();
      },
      (err: Error) => {
        this.starting--;
        if (this.closed) return;
        this.failures++;
        this.opts.logger.error({ err, failures: this.failures }, 'sandbox interpreter failed to start');
        if (this.failures >= FAILURES_BEFORE_GIVING_UP) {
          for (const w of this.waiters.splice(0)) w.reject(err);
        }
        // Back off before trying again, so that a broken set-up does not spin.
        const delay = Math.min(30_000, 500 * 2 ** Math.min(this.failures, 6));
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.fill();
        }, delay);
        this.retryTimer.unref();
      },
    );
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
    clearTimeout(this.retryTimer);
    for (const w of this.waiters.splice(0)) w.reject(new Error('sandbox is closed'));
    await Promise.all(this.ready.splice(0).map((it) => it.close()));
    await Promise.allSettled([...this.inFlight]); // late starts close themselves (see startOne)
  }
}
