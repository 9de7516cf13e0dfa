// Paces render() calls under the platforms' rate limits. Per thread only the latest view matters
// (updates coalesce); calls sharing a pacing key (a Slack thread, a Discord channel) go through one
// bottleneck limiter with a minimum interval. A render that throws is retried later with the
// latest view; the final view is retried until delivered (or `finalAttempts` failures), then an
// optional epilogue (the trace upload) runs once.
import Bottleneck from 'bottleneck';
import type { ThreadSurface, ThreadView } from './types.ts';

export interface PaceOptions {
  minIntervalMs: number;
  pacingKey: string;
  finalAttempts: number;
}

/** Milliseconds a rate-limit error asks us to wait, if it says (Slack's retryAfter is in seconds). */
function retryAfterMs(err: unknown): number | null {
  if (!err || typeof err !== 'object') return null;
  const e = err as Record<string, unknown>;
  if (typeof e.retryAfterMs === 'number') return e.retryAfterMs;
  if (typeof e.retryAfter === 'number') return e.retryAfter * 1000;
  const data = e.data as Record<string, unknown> | undefined;
  if (data && typeof data.retry_after === 'number') return data.retry_after * 1000;
  return null;
}

export class RenderPacer {
  /** One group per interval value; each group keys limiters by pacing key (idle ones are dropped). */
  readonly #groups = new Map<number, Bottleneck.Group>();
  readonly #open = new Set<ThreadRenderer>();
  readonly #onError: (sessionId: string, err: unknown) => void;

  constructor(onError: (sessionId: string, err: unknown) => void = () => {}) {
    this.#onError = onError;
  }

  limiter(minIntervalMs: number, key: string): Bottleneck {
    let group = this.#groups.get(minIntervalMs);
    if (!group) {
      group = new Bottleneck.Group({ maxConcurrent: 1, minTime: minIntervalMs });
      this.#groups.set(minIntervalMs, group);
    }
    return group.key(key);
  }

  open(sessionId: string, surface: ThreadSurface, opts: PaceOptions): ThreadRenderer {
    const r = new ThreadRenderer(this, sessionId, surface, opts, this.#onError);
    this.#open.add(r);
    void r.done.then(() => this.#open.delete(r));
    return r;
  }

  /** Renderers whose final view is not delivered yet. */
  pending(): number {
    return this.#open.size;
  }

  /** Resolves when every opened renderer has delivered its final view (or given up). */
  async drained(): Promise<void> {
    while (this.#open.size) await Promise.all([...this.#open].map((r) => r.done));
  }
}

export class ThreadRenderer {
  readonly sessionId: string;
  /** Resolves once the final view is delivered (or given up on). */
  readonly done: Promise<void>;
  #resolveDone!: () => void;
  readonly #pacer: RenderPacer;
  readonly #surface: ThreadSurface;
  readonly #opts: PaceOptions;
  readonly #onError: (sessionId: string, err: unknown) => void;
  #latest: ThreadView | null = null;
  #delivered: ThreadView | null = null;
  #final = false;
  #scheduled = false;
  #inflight = false;
  #failures = 0;
  #finished = false;
  #epilogue: (() => Promise<void>) | null = null;

  constructor(
    pacer: RenderPacer,
    sessionId: string,
    surface: ThreadSurface,
    opts: PaceOptions,
    onError: (sessionId: string, err: unknown) => void,
  ) {
    this.#pacer = pacer;
    this.sessionId = sessionId;
    this.#surface = surface;
    this.#opts = opts;
    this.#onError = onError;
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  /** Replaces the view to show; it is rendered at the next paced slot unless a newer one comes first. */
  update(view: ThreadView): void {
    if (this.#final) return;
    this.#latest = view;
    this.#schedule();
  }

  /**
   * The last view; always delivered (retried after errors). `epilogue` runs once after it was
   * delivered (not when delivery was given up). Resolves with `done`.
   */
  finish(view: ThreadView, epilogue?: () => Promise<void>): Promise<void> {
    if (!this.#final) {
      this.#latest = view;
      this.#final = true;
      this.#epilogue = epilogue ?? null;
      this.#schedule();
    }
    return this.done;
  }

  /** Nothing more is shown (a session withdrawn elsewhere, or never recorded): `done` at once. */
  abandon(): void {
    this.#final = true;
    this.#latest = this.#delivered;
    if (!this.#finished) this.#giveUp();
  }

  #schedule(): void {
    if (this.#scheduled || this.#inflight || this.#finished) return;
    this.#scheduled = true;
    // Under a shared key (a Slack workspace), answers go before progress, progress before queue positions.
    const priority = this.#final ? 1 : this.#latest?.status.state === 'queued' ? 7 : 4;
    void this.#pacer
      .limiter(this.#opts.minIntervalMs, this.#opts.pacingKey)
      .schedule({ priority }, () => this.#flush())
      .catch((err: unknown) => {
        // Only a limiter failure lands here (#flush never throws): retry on a timer.
        this.#scheduled = false;
        this.#onError(this.sessionId, err);
        this.#retryLater(null);
      });
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    const view = this.#latest;
    if (!view || view === this.#delivered) return this.#settle();
    this.#inflight = true;
    try {
      await this.#surface.render(view);
      this.#delivered = view;
      this.#failures = 0;
    } catch (err) {
      this.#failures += 1;
      this.#onError(this.sessionId, err);
      this.#inflight = false;
      if (this.#final && this.#failures >= this.#opts.finalAttempts) return this.#giveUp();
      this.#retryLater(retryAfterMs(err));
      return;
    }
    this.#inflight = false;
    if (this.#latest !== this.#delivered) this.#schedule();
    else this.#settle();
  }

  #retryLater(hint: number | null): void {
    const backoff = Math.min(this.#opts.minIntervalMs * 2 ** Math.min(this.#failures, 6), 30_000);
    setTimeout(() => this.#schedule(), Math.max(hint ?? 0, backoff, 1));
  }

  #settle(): void {
    if (this.#final && this.#delivered === this.#latest && !this.#finished) {
      this.#finished = true;
      const epilogue = this.#epilogue;
      if (!epilogue) return this.#resolveDone();
      void epilogue()
        .catch((err: unknown) => this.#onError(this.sessionId, err))
        .finally(() => this.#resolveDone());
    }
  }

  #giveUp(): void {
    this.#finished = true;
    this.#resolveDone();
  }
}
