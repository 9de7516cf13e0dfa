// The chat service implementation: admission (quotas, queue bound, one session per thread),
// scheduling with bottleneck (per-user group in front of a global limiter), running the engine,
// keeping each thread's view current and handing it to the render pacer. What the store remembers
// (history, traces, dedupe, feedback, recovery) is in records.ts.
import { randomUUID } from 'node:crypto';
import type { ResearchEvent, Turn } from '../engine/events.ts';
import { mayControl, Quotas, refOf, threadKey, userKeyOf } from './admission.ts';
import { localLimiters, type SessionLimiters } from './limiters.ts';
import type { ChatLimits } from './limits.ts';
import * as msg from './messages.ts';
import { RenderPacer, type ThreadRenderer } from './pacer.ts';
import { ChatRecords } from './records.ts';
import { consumeResearch } from './stream.ts';
import type { CancelOptions, CancelOutcome, ChatEvent, ChatService, ChatServiceDeps, ChatStats, SubmitOptions } from './service.ts';
import type { SessionStatus } from './store.ts';
import type { Platform, ResearchRequest, SubmitOutcome, ThreadRef, ThreadSurface, ThreadView } from './types.ts';
import { initialThreadView, isFinal, reduceThreadView, type ViewEvent } from './view.ts';

type Rejection = Extract<SubmitOutcome, { accepted: false }>;

interface Session {
  id: string;
  req: ResearchRequest;
  userKey: string;
  threadKey: string;
  state: 'waiting' | 'running' | 'ended';
  view: ThreadView;
  surface: ThreadSurface;
  renderer: ThreadRenderer;
  controller: AbortController;
  cancelledBy: string | null;
  interrupted: boolean;
  history: Turn[];
  eventSeq: number;
  thinking: string;
  answer: Extract<ResearchEvent, { type: 'answer' }> | null;
  ended: Promise<void>;
  markEnded: () => void;
}

/** seen_events key of a refused request's platform event (accepted ones live in the sessions table). */
const refusedKey = (sourceEventId: string): string => `refused:${sourceEventId}`;
const NO_REF: ThreadRef = { platform: 'terminal', workspaceId: '', channelId: '', threadId: '' };

export class ChatServiceImpl extends ChatRecords implements ChatService {
  readonly #limits: ChatLimits;
  readonly #limiters: SessionLimiters;
  readonly #quotas: Quotas;
  readonly #pacer: RenderPacer;
  readonly #active = new Map<string, Session>();
  readonly #byThread = new Map<string, string>();
  /** Waiting + running sessions per user key. */
  readonly #userActive = new Map<string, number>();
  readonly #listeners = new Set<(e: ChatEvent) => void>();
  #running = 0;
  #waiting = 0;
  #shuttingDown = false;
  readonly #finished: ChatStats['finished'] = { done: 0, failed: 0, cancelled: 0, interrupted: 0 };
  readonly #rejected: ChatStats['rejected'] = { quota: 0, capacity: 0, busy: 0, duplicate: 0, invalid: 0 };

  constructor(deps: ChatServiceDeps) {
    super(deps);
    this.#limits = deps.limits;
    this.#limiters = deps.limiters ?? localLimiters(this.#limits);
    this.#quotas = new Quotas(this.#limits);
    this.#pacer = new RenderPacer((sessionId, err) => this.#renderFailed(sessionId, err));
    this.#quotas.seed(this.store.sessionsSince(this.now() - this.#limits.quotaWindowMs));
  }

  #emit(e: ChatEvent): void {
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch (err) {
        this.log.warn({ err }, 'chat event listener threw');
      }
    }
  }

  #reject(ref: ThreadRef, reason: Rejection['reason'], message: string, extra: Partial<Rejection> = {}): Rejection {
    this.#rejected[reason] += 1;
    this.#emit({ kind: 'rejected', ref: refOf(ref), reason });
    return { accepted: false, reason, message, ...extra };
  }

  /** Every refusal is told in its thread here, so both platforms say the same. */
  async #refuse(surface: ThreadSurface, r: Rejection): Promise<Rejection> {
    try {
      await surface.notify(r.message);
    } catch (err) {
      this.log.warn({ err, reason: r.reason }, 'could not post a refusal');
    }
    return r;
  }

  submit(req: ResearchRequest, surface: ThreadSurface, opts: SubmitOptions = {}): Promise<SubmitOutcome> {
    return this.#submit(req, surface, opts, true);
  }

  async #submit(req: ResearchRequest, surface: ThreadSurface, opts: SubmitOptions, rememberRefusal: boolean): Promise<SubmitOutcome> {
    const out = this.#admit(req, surface, opts);
    if (out.accepted) return out;
    // Remembered before the refusal is posted, so a redelivery (Slack retry, app_mention/message
    // twin, gateway replay) is not refused twice. Not for Retry presses: those may be pressed again.
    if (rememberRefusal && req.sourceEventId && out.reason !== 'duplicate') {
      const key = refusedKey(req.sourceEventId);
      this.persist('refusal', () => void this.store.markEventSeen(req.platform, key, this.now()));
    }
    return this.#refuse(surface, out);
  }

  alreadySubmitted(platform: Platform, sourceEventId: string): boolean {
    for (const s of this.#active.values()) if (s.req.platform === platform && s.req.sourceEventId === sourceEventId) return true;
    try {
      return (
        this.store.findBySourceEvent(platform, sourceEventId) !== null ||
        this.store.hasSeenEvent(platform, refusedKey(sourceEventId))
      );
    } catch (err) {
      // Never drop the only delivery because the store failed.
      this.log.error({ err }, 'dedupe lookup failed; treating the request as new');
      return false;
    }
  }

  async retry(sessionId: string, byUserId: string, surface: ThreadSurface, opts: SubmitOptions = {}): Promise<SubmitOutcome> {
    const rec = this.store.getSession(sessionId);
    const ref = rec?.ref ?? NO_REF;
    if (!rec || rec.status !== 'interrupted') return this.#refuse(surface, this.#reject(ref, 'invalid', msg.NOTHING_TO_RETRY_MESSAGE));
    if (!mayControl(rec.userId, byUserId, false)) return this.#refuse(surface, this.#reject(ref, 'invalid', msg.RETRY_NOT_YOURS_MESSAGE));
    const sourceEventId = `retry:${rec.id}`;
    if (this.store.findBySourceEvent(rec.ref.platform, sourceEventId))
      return this.#refuse(surface, this.#reject(ref, 'duplicate', msg.ALREADY_RETRIED_MESSAGE));
    // The asker's own request again: their quotas, the thread's history, one session per thread.
    return this.#submit({ ...rec.ref, userId: rec.userId, question: rec.question, sourceEventId }, surface, opts, false);
  }

  #admit(req: ResearchRequest, surface: ThreadSurface, opts: SubmitOptions): SubmitOutcome {
    const now = this.now();
    // First: a redelivered request is the same request, whatever else changed since.
    if (req.sourceEventId && this.alreadySubmitted(req.platform, req.sourceEventId))
      return this.#reject(req, 'duplicate', msg.DUPLICATE_MESSAGE);
    const question = typeof req.question === 'string' ? req.question.trim() : '';
    const maxChars = this.deps.maxQuestionChars ?? 4000;
    if (!question) return this.#reject(req, 'invalid', msg.EMPTY_QUESTION_MESSAGE);
    if (!req.userId || typeof req.userId !== 'string') return this.#reject(req, 'invalid', 'Could not tell who asked; please try again.');
    if (question.length > maxChars) return this.#reject(req, 'invalid', msg.tooLongMessage(maxChars));
    if (this.#shuttingDown) return this.#reject(req, 'capacity', msg.SHUTDOWN_MESSAGE);
    const tKey = threadKey(req);
    const busyId = this.#byThread.get(tKey);
    if (busyId) return this.#reject(req, 'busy', msg.BUSY_MESSAGE, { activeSessionId: busyId });
    const refusal = this.#quotas.check(req, now);
    if (refusal) return this.#reject(req, 'quota', refusal.message, { retryAt: refusal.retryAt });
    // Requests that can start at once do not count against the queue bound.
    const freeSlots = Math.max(0, this.#limits.maxConcurrent - this.#running);
    if (this.#waiting >= this.#limits.queueMax + freeSlots) return this.#reject(req, 'capacity', msg.CAPACITY_MESSAGE);

    const id = randomUUID();
    const clean: ResearchRequest = { ...req, question };
    const history = this.history(req);
    // The session row is the dedupe record (unique per platform event): accepting and deduping are
    // one write, so a crash before it leaves a redelivery to be processed, never dropped.
    let created = true;
    this.persist('create', () => {
      created = this.store.createSession({
        id,
        ref: refOf(req),
        userId: req.userId,
        question,
        status: 'queued',
        createdAt: now,
        startedAt: null,
        finishedAt: null,
        answer: null,
        citations: null,
        error: null,
        cancelledBy: null,
        sourceEventId: req.sourceEventId ?? null,
        steps: null,
      });
    });
    if (!created) return this.#reject(req, 'duplicate', msg.DUPLICATE_MESSAGE);
    this.#quotas.take(req, now, id);
    const userKey = userKeyOf(req);
    const ahead = this.#waiting;
    let markEnded!: () => void;
    const ended = new Promise<void>((resolve) => (markEnded = resolve));
    const s: Session = {
      id,
      req: clean,
      userKey,
      threadKey: tKey,
      state: 'waiting',
      view: initialThreadView(id, clean, this.maxSteps, now, ahead),
      surface,
      renderer: this.#pacer.open(id, surface, {
        minIntervalMs: opts.minIntervalMs ?? 1000,
        pacingKey: opts.pacingKey ?? tKey,
        finalAttempts: opts.finalAttempts ?? 8,
      }),
      controller: new AbortController(),
      cancelledBy: null,
      interrupted: false,
      history,
      eventSeq: 0,
      thinking: '',
      answer: null,
      ended,
      markEnded,
    };
    this.#active.set(id, s);
    this.#byThread.set(tKey, id);
    const userActive = this.#userActive.get(userKey) ?? 0;
    this.#userActive.set(userKey, userActive + 1);
    // Shown only if it really has to wait; one that starts at once shows its first step instead.
    const mustWait = this.#running + this.#waiting >= this.#limits.maxConcurrent || userActive >= this.#limits.userConcurrent;
    this.#waiting += 1;
    if (mustWait) s.renderer.update(s.view);
    this.#emit({ kind: 'session', sessionId: id, ref: s.view.ref, status: 'queued', durationMs: null });
    void this.#limiters
      .schedule(userKey, () => this.#run(s))
      .catch((err: unknown) => this.log.error({ err, sessionId: id }, 'scheduler failed'));
    return { accepted: true, sessionId: id, ahead };
  }

  /** Keeps "n ahead of you" current for every waiting session. */
  #refreshQueue(): void {
    let ahead = 0;
    for (const s of this.#active.values()) {
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
    s.state = 'running';
    this.#waiting -= 1;
    this.#running += 1;
    const startedAt = this.now();
    this.persist('start', () => this.store.updateSession(s.id, { status: 'running', startedAt }));
    this.#emit({ kind: 'session', sessionId: s.id, ref: s.view.ref, status: 'running', durationMs: null });
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
        this.persist('event', () => this.store.appendEvent(s.id, s.eventSeq++, at, thinking));
      }
      this.persist('event', () => this.store.appendEvent(s.id, s.eventSeq++, at, ev));
    }
    this.#emit({ kind: 'research', sessionId: s.id, ref: s.view.ref, event: ev });
    if (ev.type === 'answer') s.answer = ev;
    // After a stop, an engine may report the abort as an error: the thread shows who stopped it.
    if (ev.type === 'cancelled' || (ev.type === 'error' && s.controller.signal.aborted)) {
      this.#apply(s, s.interrupted ? { type: 'interrupted' } : { type: 'cancelled', by: s.cancelledBy ?? undefined });
    } else {
      this.#apply(s, ev);
    }
  }

  #end(s: Session): void {
    if (s.state === 'ended') return;
    if (s.state === 'running') this.#running -= 1;
    else this.#waiting -= 1;
    const wasWaiting = s.state === 'waiting';
    s.state = 'ended';
    this.#active.delete(s.id);
    const left = (this.#userActive.get(s.userKey) ?? 1) - 1;
    if (left > 0) this.#userActive.set(s.userKey, left);
    else this.#userActive.delete(s.userKey);
    if (this.#byThread.get(s.threadKey) === s.id) this.#byThread.delete(s.threadKey);
    // Never started: the question does not count against the quotas.
    if (wasWaiting) this.#quotas.release(s.req, s.id);
    const v = s.view;
    const status: SessionStatus =
      v.status.state === 'done' ? 'done' : v.status.state === 'cancelled' ? 'cancelled' : v.status.state === 'interrupted' ? 'interrupted' : 'failed';
    this.#finished[status as keyof ChatStats['finished']] += 1;
    const finishedAt = v.finishedAt ?? this.now();
    const answerEvent = status === 'done' ? s.answer : null;
    this.persist('finish', () =>
      this.store.updateSession(s.id, {
        status,
        finishedAt,
        answer: answerEvent?.text ?? null,
        citations: answerEvent?.citations ?? null,
        error: v.status.state === 'failed' ? v.status.message : null,
        cancelledBy: s.cancelledBy,
        steps: answerEvent?.steps ?? v.steps.length,
      }),
    );
    this.#emit({ kind: 'session', sessionId: s.id, ref: v.ref, status, durationMs: finishedAt - v.startedAt });
    // The complete trace follows the final view, once, for any session that ran code.
    void s.renderer.finish(v, v.steps.length > 0 ? () => this.#attachTrace(s) : undefined);
    s.markEnded();
    this.#refreshQueue();
  }

  async #attachTrace(s: Session): Promise<void> {
    const content = this.trace(s.id);
    if (content !== null) await s.surface.attachTrace(this.traceFilename(s.id), content);
  }

  #renderFailed(sessionId: string, err: unknown): void {
    const ref = this.#active.get(sessionId)?.view.ref ?? NO_REF;
    this.log.warn({ err, sessionId }, 'render failed; will retry with the latest view');
    this.#emit({ kind: 'render-error', sessionId, ref, error: err instanceof Error ? err.message : String(err) });
  }

  async cancel(ref: ThreadRef, byUserId: string, opts: CancelOptions = {}): Promise<CancelOutcome> {
    const id = this.#byThread.get(threadKey(ref));
    return id ? this.cancelSession(id, byUserId, opts) : 'inactive';
  }

  async cancelSession(sessionId: string, byUserId: string, opts: CancelOptions = {}): Promise<CancelOutcome> {
    const s = this.#active.get(sessionId);
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

  isResearchThread(ref: ThreadRef): boolean {
    return this.#byThread.has(threadKey(ref)) || this.store.hasThread(ref);
  }

  followupWithoutMention(): boolean {
    return this.#limits.followup === 'any';
  }

  activeSession(ref: ThreadRef): string | null {
    return this.#byThread.get(threadKey(ref)) ?? null;
  }

  view(sessionId: string): ThreadView | null {
    return this.#active.get(sessionId)?.view ?? super.view(sessionId);
  }

  stats(): ChatStats {
    return {
      running: this.#running,
      queued: this.#waiting,
      finished: { ...this.#finished },
      rejected: { ...this.#rejected },
      pendingRenders: this.#pacer.pending(),
      shuttingDown: this.#shuttingDown,
    };
  }

  onEvent(listener: (e: ChatEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async idle(): Promise<void> {
    while (this.#active.size) await Promise.all([...this.#active.values()].map((s) => s.ended));
    await this.#pacer.drained();
  }

  async shutdown(graceMs: number): Promise<void> {
    this.#shuttingDown = true;
    this.stopTimers();
    for (const s of [...this.#active.values()]) {
      if (s.state !== 'waiting') continue;
      s.interrupted = true;
      this.#onEvent(s, { type: 'cancelled' });
      this.#end(s);
    }
    const running = () => [...this.#active.values()];
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
