// What the session store remembers about threads, as the chat service exposes it: follow-up
// history, platform event dedupe, feedback, traces, views rebuilt after the fact, and the threads a
// dead process left interrupted. The scheduler (scheduler.ts) builds on this with live sessions.
import type { Turn } from '../engine/events.ts';
import { silentLogger, type Logger } from '../util/log.ts';
import { refOf } from './admission.ts';
import type { ChatServiceDeps } from './service.ts';
import { toAsyncStore, type AsyncSessionStore } from './session-store.ts';
import type { SessionRecord } from './store.ts';
import { renderTrace, replayView, turnOf } from './trace.ts';
import type { Platform, ThreadRef, ThreadView } from './types.ts';

export class ChatRecords {
  protected readonly deps: ChatServiceDeps;
  protected readonly store: AsyncSessionStore;
  protected readonly log: Logger;
  protected readonly now: () => number;
  protected readonly maxSteps: number;
  protected readonly obsChars: number;
  #seenCalls = 0;
  #orphans: Promise<SessionRecord[]>;
  #pruneTimer: NodeJS.Timeout | undefined;

  constructor(deps: ChatServiceDeps) {
    this.deps = deps;
    this.store = toAsyncStore(deps.store);
    this.log = deps.logger ?? silentLogger;
    this.now = deps.now ?? Date.now;
    this.maxSteps = deps.maxSteps ?? 32;
    this.obsChars = deps.observationChars ?? 600;
    // Marked now, before any request of this process exists (admission waits for `ready`), so a
    // live session is never taken for a dead one; the threads are told later, once the platforms
    // are connected. Not when other processes share the store: their sessions are alive (a dead
    // worker's are found through its stalled job instead).
    this.#orphans =
      deps.recoverOnStart === false
        ? Promise.resolve([])
        : this.store.markInterrupted(this.now()).catch((err: unknown) => {
            this.log.error({ err }, 'could not mark the sessions a previous process left');
            return [];
          });
    if (deps.limits.traceRetentionMs > 0) {
      this.#pruneTraces();
      this.#pruneTimer = setInterval(() => this.#pruneTraces(), 3600_000).unref();
    }
  }

  #pruneTraces(): void {
    void this.persist('prune traces', async () => {
      const n = await this.store.pruneTraces(this.now() - this.deps.limits.traceRetentionMs);
      if (n) this.log.info({ events: n }, 'old traces deleted');
    });
  }

  protected stopTimers(): void {
    clearInterval(this.#pruneTimer);
  }

  /** Resolves once the orphans of a dead process are marked (before the first admission). */
  protected ready(): Promise<unknown> {
    return this.#orphans;
  }

  /** Store writes must not take a session down (a full disk loses the record, not the answer). */
  protected async persist(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.log.error({ err, what }, 'session store write failed');
    }
  }

  async history(ref: ThreadRef): Promise<Turn[]> {
    const turns = (await this.store.threadSessions(refOf(ref))).map(turnOf).filter((t): t is Turn => t !== null);
    return turns.slice(-(this.deps.maxHistoryTurns ?? 6));
  }

  async markEventSeen(platform: Platform, eventId: string): Promise<boolean> {
    const now = this.now();
    if (++this.#seenCalls % 500 === 1)
      void this.persist('prune', () => this.store.pruneSeenEvents(now - (this.deps.seenEventTtlMs ?? 86_400_000)));
    try {
      return await this.store.markEventSeen(platform, eventId, now);
    } catch (err) {
      // Never drop the only delivery because the store failed.
      this.log.error({ err }, 'dedupe store failed; treating event as new');
      return true;
    }
  }

  async recordFeedback(sessionId: string, userId: string, value: 'up' | 'down'): Promise<boolean> {
    if (value !== 'up' && value !== 'down') return false;
    if (!(await this.store.getSession(sessionId))) return false;
    await this.store.recordFeedback(sessionId, userId, value, this.now());
    return true;
  }

  async trace(sessionId: string): Promise<string | null> {
    const rec = await this.store.getSession(sessionId);
    if (!rec) return null;
    return renderTrace(rec, await this.store.events(sessionId));
  }

  traceFilename(sessionId: string): string {
    return `cir-trace-${sessionId.replace(/[^A-Za-z0-9-]/g, '').slice(0, 64)}.md`;
  }

  /** A session's view rebuilt from the store. */
  async storedView(rec: SessionRecord): Promise<ThreadView> {
    return replayView(rec, await this.store.events(rec.id), this.maxSteps, { observationChars: this.obsChars });
  }

  async view(sessionId: string): Promise<ThreadView | null> {
    const rec = await this.store.getSession(sessionId);
    return rec ? this.storedView(rec) : null;
  }

  async recoverInterrupted(notify: (view: ThreadView) => Promise<void>): Promise<number> {
    const recs = await this.#orphans;
    this.#orphans = Promise.resolve([]);
    for (const rec of recs) {
      try {
        await notify(await this.storedView(rec));
      } catch (err) {
        this.log.warn({ err, sessionId: rec.id }, 'could not tell a thread about its interrupted session');
      }
    }
    return recs.length;
  }
}
