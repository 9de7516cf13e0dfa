// Which sessions hold a live interpreter. Memory must grow with the blocks running, not with the
// sessions open: a session holds an interpreter only while it needs one, and at most `maxHeld`
// are held at once. A session that wants one beyond that takes it from the idle session used
// longest ago (which saves its Python state first), or waits for one to become idle.
// Evictions are paced by the starts they make room for: while `maxPending` admitted sessions still
// wait for their interpreter to start, a newcomer waits instead of evicting. Evicting then would
// free memory no start can use yet, and the evicted session, back from its model turn in a few
// seconds, would need a start of its own (measured, 100 sessions on 2 cores: 249 evictions with
// the live count at 29 of a budget of 53).
import type { Logger } from '../util/log.ts';

/** What residency needs of a session (session.ts implements it). */
export interface Resident {
  /** Holds a live interpreter now. */
  readonly holds: boolean;
  /** Holds one and may give it up now (not running a block, state known to save). */
  readonly evictable: boolean;
  /** Holds one, not running a block: may give it up, leaving out what does not save. */
  readonly forcible: boolean;
  readonly lastUsed: number;
  /** Saves its state and gives its interpreter up; false when it had to keep it. `force`: names
   *  that do not save are left out (the session's next block is told which). */
  release(reason: 'budget' | 'idle', force?: boolean): Promise<boolean>;
}

export class Residency {
  readonly maxHeld: number;
  private readonly maxPending: number;
  private readonly logger: Logger;
  private readonly residents = new Set<Resident>();
  private waiters: (() => void)[] = [];
  private held = 0;
  /** Admitted (counted in `held`) but still waiting for their interpreter to start. */
  private pending = 0;

  constructor(maxHeld: number, logger: Logger, maxPending = 2) {
    this.maxHeld = Math.max(1, maxHeld);
    this.maxPending = Math.max(1, maxPending);
    this.logger = logger;
  }

  add(r: Resident): void {
    this.residents.add(r);
  }

  remove(r: Resident): void {
    this.residents.delete(r);
    this.wake();
  }

  /** Interpreters held by sessions now. */
  get heldCount(): number {
    return this.held;
  }

  /** Resolves once `r` may take an interpreter (counted as held from then until `dropped`). */
  async acquire(r: Resident, signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      if (this.held < this.maxHeld) {
        this.held++;
        this.pending++;
        return;
      }
      // Sessions whose whole state saves go first; only when none is left does one lose what does not.
      const victim =
        this.pending >= this.maxPending ? null : (this.oldestIdle(r, (x) => x.evictable) ?? this.oldestIdle(r, (x) => x.forcible));
      if (victim) {
        // The victim's release calls dropped() when it lets go; if it kept its interpreter, try the next.
        await victim.release('budget', !victim.evictable);
        continue;
      }
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiters.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
  }

  /** An admitted session has its interpreter now. */
  arrived(): void {
    this.pending = Math.max(0, this.pending - 1);
    this.wake();
  }

  /** An admitted session got no interpreter (its start failed): it holds nothing. */
  failed(): void {
    this.pending = Math.max(0, this.pending - 1);
    this.dropped();
  }

  /** A session let its interpreter go (released, lost, or closed). */
  dropped(): void {
    this.held = Math.max(0, this.held - 1);
    this.wake();
  }

  /** A session became idle: someone waiting may now take its interpreter. */
  idle(): void {
    if (this.held >= this.maxHeld) this.wake();
  }

  private oldestIdle(except: Resident, eligible: (r: Resident) => boolean): Resident | null {
    let best: Resident | null = null;
    for (const r of this.residents) {
      if (r === except || !eligible(r)) continue;
      if (!best || r.lastUsed < best.lastUsed) best = r;
    }
    return best;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
    if (w.length) this.logger.debug({ woken: w.length, held: this.held }, 'sandbox residency: waiters woken');
  }
}
