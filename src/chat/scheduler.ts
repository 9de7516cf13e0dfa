// The chat service implementation: admission (quotas, queue bound, one session per thread),
// scheduling with bottleneck (per-user group in front of a global limiter), running the engine,
// keeping each thread's view current and handing it to the render pacer. What the store remembers
// (history, traces, dedupe, feedback, recovery) is in records.ts.
import { randomUUID } from 'node:crypto';
import type { ResearchEvent } from '../engine/events.ts';
import { mayControl, newRecord, Quotas, refOf, requestProblem, threadKey, userKeyOf } from './admission.ts';
import { localLimiters, type SessionLimiters } from './limiters.ts';
import type { ChatLimits } from './limits.ts';
import * as msg from './messages.ts';
import { RenderPacer } from './pacer.ts';
import { ChatFront } from './front.ts';
import { consumeResearch } from './stream.ts';
import type { CancelOptions, CancelOutcome, ChatService, ChatServiceDeps, ChatStats, SubmitOptions } from './service.ts';
import { finalPatch, finalStatus, SessionBook, type Session } from './session-state.ts';
import type { SessionRecord } from './store.ts';
import type { Platform, ResearchRequest, SubmitOutcome, ThreadRef, ThreadSurface, ThreadView } from './types.ts';
import { initialThreadView, isFinal, reduceThreadView, type ViewEvent } from './view.ts';

const NO_REF: ThreadRef = { platform: 'terminal', workspaceId: '', channelId: '', threadId: '' };

export class ChatServiceImpl extends ChatFront implements ChatService {
  readonly #limits: ChatLimits;
  readonly #limiters: SessionLimiters;
  readonly #quotas: Quotas;
  readonly #pacer: RenderPacer;
  readonly #book = new SessionBook();
  #shuttingDown = false;
  readonly #finished: ChatStats['finished'] = { done: 0, failed: 0, cancelled: 0, interrupted: 0 };
  readonly #ready: Promise<unknown>;

  constructor(deps: ChatServiceDeps) {
    super(deps);
    this.#limits = deps.limits;
    this.#limiters = deps.limiters ?? localLimiters(this.#limits);
    this.#quotas = new Quotas(this.#limits);
    this.#pacer = new RenderPacer((sessionId, err) => this.#renderFailed(sessionId, err));
    // Orphans marked first, then the quota windows seeded from what was asked before a restart.
    this.#ready = this.ready()
      .then(() => this.store.sessionsSince(this.now() - this.#limits.quotaWindowMs))
      .then((recs) => this.#quotas.seed(recs))
      .catch((err: unknown) => this.log.error({ err }, 'could not seed the quotas from the store'));
  }

  /** Queues a write of `s` behind its earlier ones. */
  #write(s: Session, what: string, fn: () => Promise<unknown>): void {
    s.writes = s.writes.then(() => this.persist(what, fn));
  }

  async alreadySubmitted(platform: Platform, sourceEventId: string): Promise<boolean> {
    return this.#book.hasSource(platform, sourceEventId) || this.seenInStore(platform, sourceEventId);
  }

  protected async admit(req: ResearchRequest, surface: ThreadSurface, opts: SubmitOptions): Promise<SubmitOutcome> {
    await this.#ready;
    const now = this.now();
    // First: a redelivered request is the same request, whatever else changed since.
    if (req.sourceEventId && (await this.alreadySubmitted(req.platform, req.sourceEventId)))
      return this.reject(req, 'duplicate', msg.DUPLICATE_MESSAGE);
    // From here to registering the session nothing awaits: a twin request sees it in memory
    // (asked again: a twin may have registered while the store was asked).
    if (req.sourceEventId && this.#book.hasSource(req.platform, req.sourceEventId)) return this.reject(req, 'duplicate', msg.DUPLICATE_MESSAGE);
    const problem = requestProblem(req, this.deps.maxQuestionChars ?? 4000);
    if (problem) return this.reject(req, 'invalid', problem);
    if (this.#shuttingDown) return this.reject(req, 'capacity', msg.SHUTDOWN_MESSAGE);
    const busyId = this.#book.byThread.get(threadKey(req));
    if (busyId) return this.reject(req, 'busy', msg.BUSY_MESSAGE, { activeSessionId: busyId });
    const refusal = this.#quotas.check(req, now);
    if (refusal) return this.reject(req, 'quota', refusal.message, { retryAt: refusal.retryAt });
    // Requests that can start at once do not count against the queue bound.
    const freeSlots = Math.max(0, this.#limits.maxConcurrent - this.#book.running);
    if (this.#book.waiting >= this.#limits.queueMax + freeSlots) return this.reject(req, 'capacity', msg.CAPACITY_MESSAGE);

    const rec = newRecord(randomUUID(), req, req.question.trim(), now);
    const ahead = this.#book.waiting;
    const s = this.#open(rec, surface, opts, ahead);
    this.#quotas.take(req, now, rec.id);
    // The session row is the dedupe record (unique per platform event): accepting and deduping are
    // one write, so a crash before it leaves a redelivery to be processed, never dropped.
    let created = true;
    await this.persist('create', async () => {
      created = await this.store.createSession(rec);
    });
    if (!created) {
      this.#forget(s);
      this.#quotas.release(req, rec.id);
      return this.reject(req, 'duplicate', msg.DUPLICATE_MESSAGE);
    }
    s.history = await this.history(req).catch(() => []);
    this.#schedule(s);
    return { accepted: true, sessionId: rec.id, ahead };
  }

  /**
   * Runs a session another process admitted (a research job taken by a worker): its record is in
   * the shared store already. Resolves when it has ended (or was withdrawn before it started).
   */
  async runAdmitted(rec: SessionRecord, surface: ThreadSurface, opts: SubmitOptions = {}): Promise<void> {
    await this.#ready;
    const req: ResearchRequest = { ...rec.ref, userId: rec.userId, question: rec.question, sourceEventId: rec.sourceEventId ?? undefined };
    const s = this.#open({ ...rec, ref: refOf(rec.ref) }, surface, opts, 0, req);
    if (this.#shuttingDown) {
      // Taken just as this worker began to stop: told like any session still waiting then.
      s.interrupted = true;
      this.#onEvent(s, { type: 'cancelled' });
      this.#end(s);
      return s.ended;
    }
    s.history = await this.history(rec.ref).catch(() => []);
    this.#schedule(s);
    await s.ended;
  }

  /** Registers a new waiting session in memory (counted, its thread taken). */
  #open(rec: SessionRecord, surface: ThreadSurface, opts: SubmitOptions, ahead: number, req?: ResearchRequest): Session {
    const clean: ResearchRequest = req ?? { ...rec.ref, userId: rec.userId, question: rec.question, ...(rec.sourceEventId ? { sourceEventId: rec.sourceEventId } : {}) };
    const tKey = threadKey(rec.ref);
    let markEnded!: () => void;
    const ended = new Promise<void>((resolve) => (markEnded = resolve));
    const s: Session = {
      id: rec.id,
      req: clean,
      userKey: userKeyOf(clean),
      threadKey: tKey,
      state: 'waiting',
      view: initialThreadView(rec.id, clean, this.maxSteps, rec.createdAt, ahead),
      surface,
      renderer: this.#pacer.open(rec.id, surface, {
        minIntervalMs: opts.minIntervalMs ?? 1000,
        pacingKey: opts.pacingKey ?? tKey,
        finalAttempts: opts.finalAttempts ?? 8,
      }),
      controller: new AbortController(),
      cancelledBy: null,
      interrupted: false,
      history: [],
      eventSeq: 0,
      thinking: '',
      answer: null,
      writes: Promise.resolve(),
      ended,
      markEnded,
    };
    this.#book.add(s);
    return s;
  }

  /** Undoes #open for a session that never was (its record could not be written). */
  #forget(s: Session): void {
    this.#book.remove(s);
    s.renderer.abandon();
    s.markEnded();
  }

  #schedule(s: Session): void {
    // Shown only if it really has to wait; one that starts at once shows its first step instead.
    const userActive = this.#book.userCount(s.userKey) - 1;
    const mustWait = this.#book.running + this.#book.waiting > this.#limits.maxConcurrent || userActive >= this.#limits.userConcurrent;
    if (mustWait && s.state === 'waiting') s.renderer.update(s.view);
    this.emit({ kind: 'session', sessionId: s.id, ref: s.view.ref, status: 'queued', durationMs: null });
    void this.#limiters
      .schedule(s.userKey, () => this.#run(s))
      .catch((err: unknown) => this.log.error({ err, sessionId: s.id }, 'scheduler failed'));
  }

  /** Keeps "n ahead of you" current for every waiting session. */
  #refreshQueue(): void {
    let ahead = 0;
    for (const s of this.#book.active.values()) {
      if (s.state !== 'waiting') continue;
      if (s.view.status.state === 'queued' && s.view.status.ahead !== ahead) this.#apply(s, { type: 'queued', ahead });
      ahead += 1;
    }
  }

  #apply(s: Session, ev: ViewEvent): void {
    const next = reduceThreadView(s.view, ev, this.now(), { observationChars: this.obsChars });
    if (next === s.view) return;
    s.view = next;
    if (!isFinal(next)) s.renderer.update(next);
  }

  async #run(s: Session): Promise<void> {
    if (s.state !== 'waiting') return; // withdrawn while queued
    this.#book.started(s);
    const startedAt = this.now();
    // Conditional: where several processes share the store, a session withdrawn (Stop while
    // queued) or given up (its worker's job stalled) elsewhere must not start here after all.
    let mine = true;
    await (s.writes = s.writes.then(() =>
      this.persist('start', async () => {
        mine = await this.store.updateSessionIf(s.id, ['queued'], { status: 'running', startedAt });
      }),
    ));
    const state = s.state as Session['state']; // a Stop or shutdown may have come meanwhile
    if (!mine || state !== 'running') {
      if (!mine) this.log.info({ sessionId: s.id }, 'session withdrawn elsewhere before it started');
      if (state === 'running') this.#drop(s);
      return;
    }
    this.emit({ kind: 'session', sessionId: s.id, ref: s.view.ref, status: 'running', durationMs: null });
    this.#refreshQueue();
    const signal = s.controller.signal;
    try {
      const input = { question: s.req.question, history: s.history, signal, sessionId: s.id };
      await consumeResearch(this.deps.engine, input, (ev) => this.#onEvent(s, ev));
    } catch (err) {
      this.log.error({ err, sessionId: s.id }, 'research failed');
      if (!signal.aborted) this.#onEvent(s, { type: 'error', message: 'internal error; please try again', retryable: true });
    }
    if (!isFinal(s.view)) {
      if (signal.aborted) this.#onEvent(s, { type: 'cancelled' });
      else this.#onEvent(s, { type: 'error', message: 'the research ended without an answer', retryable: true });
    }
    this.#end(s);
  }

  #onEvent(s: Session, ev: ResearchEvent): void {
    const at = this.now();
    if (ev.type === 'thinking') {
      s.thinking += ev.text;
    } else {
      if (s.thinking) {
        const thinking: ResearchEvent = { type: 'thinking', text: s.thinking };
        s.thinking = '';
        const seq = s.eventSeq++;
        this.#write(s, 'event', () => this.store.appendEvent(s.id, seq, at, thinking));
      }
      const seq = s.eventSeq++;
      this.#write(s, 'event', () => this.store.appendEvent(s.id, seq, at, ev));
    }
    this.emit({ kind: 'research', sessionId: s.id, ref: s.view.ref, event: ev });
    if (ev.type === 'answer') s.answer = ev;
    // After a stop, an engine may report the abort as an error: the thread shows who stopped it.
    if (ev.type === 'cancelled' || (ev.type === 'error' && s.controller.signal.aborted)) {
      this.#apply(s, s.interrupted ? { type: 'interrupted' } : { type: 'cancelled', by: s.cancelledBy ?? undefined });
    } else {
      this.#apply(s, ev);
    }
  }

  /** A session another process decided about: nothing is shown or written here. */
  #drop(s: Session): void {
    this.#book.remove(s);
    s.renderer.abandon();
    s.markEnded();
    this.#refreshQueue();
  }

  #end(s: Session): void {
    if (s.state === 'ended') return;
    // Never started: the question does not count against the quotas.
    if (this.#book.remove(s)) this.#quotas.release(s.req, s.id);
    const v = s.view;
    const status = finalStatus(v);
    this.#finished[status as keyof ChatStats['finished']] += 1;
    const finishedAt = v.finishedAt ?? this.now();
    // Conditional, like the start: a session already decided elsewhere keeps that record.
    this.#write(s, 'finish', () => this.store.updateSessionIf(s.id, ['queued', 'running'], finalPatch(s, status, finishedAt)));
    this.emit({ kind: 'session', sessionId: s.id, ref: v.ref, status, durationMs: finishedAt - v.startedAt });
    // The complete trace follows the final view, once, for any session that ran code.
    void s.renderer.finish(v, v.steps.length > 0 ? () => this.#attachTrace(s) : undefined);
    // Ended once its record is written: whoever waits on it (Stop, shutdown, tests) reads it back.
    void s.writes.then(() => s.markEnded());
    this.#refreshQueue();
  }

  async #attachTrace(s: Session): Promise<void> {
    await s.writes;
    const content = await this.trace(s.id);
    if (content !== null) await s.surface.attachTrace(this.traceFilename(s.id), content);
  }

  #renderFailed(sessionId: string, err: unknown): void {
    const ref = this.#book.active.get(sessionId)?.view.ref ?? NO_REF;
    this.log.warn({ err, sessionId }, 'render failed; will retry with the latest view');
    this.emit({ kind: 'render-error', sessionId, ref, error: err instanceof Error ? err.message : String(err) });
  }

  async cancel(ref: ThreadRef, byUserId: string, opts: CancelOptions = {}): Promise<CancelOutcome> {
    const id = this.#book.byThread.get(threadKey(ref));
    return id ? this.cancelSession(id, byUserId, opts) : 'inactive';
  }

  async cancelSession(sessionId: string, byUserId: string, opts: CancelOptions = {}): Promise<CancelOutcome> {
    const s = this.#book.active.get(sessionId);
    if (!s || s.state === 'ended') return 'inactive';
    if (!mayControl(s.req.userId, byUserId, opts.moderator === true)) {
      this.log.info({ sessionId, by: byUserId }, 'stop refused: not the asker');
      try {
        await s.surface.notify(msg.stopNotYoursMessage(s.req.platform));
      } catch (err) {
        this.log.warn({ err, sessionId }, 'could not post a stop refusal');
      }
      return 'refused';
    }
    s.cancelledBy = byUserId;
    if (s.state === 'waiting') {
      this.#onEvent(s, { type: 'cancelled' });
      this.#end(s);
      return 'stopped';
    }
    s.controller.abort(new Error(`cancelled by ${byUserId}`));
    await s.ended;
    return 'stopped';
  }

  async isResearchThread(ref: ThreadRef): Promise<boolean> {
    return this.#book.byThread.has(threadKey(ref)) || (await this.store.hasThread(ref));
  }

  followupWithoutMention(): boolean {
    return this.#limits.followup === 'any';
  }

  activeSession(ref: ThreadRef): string | null {
    return this.#book.byThread.get(threadKey(ref)) ?? null;
  }

  async view(sessionId: string): Promise<ThreadView | null> {
    return this.#book.active.get(sessionId)?.view ?? super.view(sessionId);
  }

  stats(): ChatStats {
    return {
      running: this.#book.running,
      queued: this.#book.waiting,
      finished: { ...this.#finished },
      rejected: { ...this.rejected },
      pendingRenders: this.#pacer.pending(),
      shuttingDown: this.#shuttingDown,
    };
  }

  async idle(): Promise<void> {
    while (this.#book.active.size) await Promise.all([...this.#book.active.values()].map((s) => s.ended));
    await this.#pacer.drained();
  }

  async shutdown(graceMs: number): Promise<void> {
    this.#shuttingDown = true;
    this.stopTimers();
    for (const s of [...this.#book.active.values()]) {
      if (s.state !== 'waiting') continue;
      s.interrupted = true;
      this.#onEvent(s, { type: 'cancelled' });
      this.#end(s);
    }
    const running = () => [...this.#book.active.values()];
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(running().map((s) => s.ended)),
      new Promise((resolve) => (timer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(timer);
    for (const s of running()) {
      s.interrupted = true;
      s.controller.abort(new Error('shutting down'));
    }
    await Promise.all(running().map((s) => s.ended));
    // Final views get a bounded time to go out.
    await Promise.race([this.#pacer.drained(), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
  }
}
