// The chat service implementation: admission (quotas, queue bound, one session per thread),
// scheduling with bottleneck (per-user group in front of a global limiter), running the engine,
// keeping each thread's view current and handing it to the render pacer.
import { randomUUID } from 'node:crypto';
import Bottleneck from 'bottleneck';
import type { ResearchEvent, Turn } from '../engine/events.ts';
import { silentLogger, type Logger } from '../ops/log.ts';
import { Quotas, refOf, threadKey, userKeyOf } from './admission.ts';
import type { ChatLimits } from './limits.ts';
import * as msg from './messages.ts';
import { RenderPacer, type ThreadRenderer } from './pacer.ts';
import { consumeResearch } from './stream.ts';
import type { ChatEvent, ChatService, ChatServiceDeps, ChatStats, SubmitOptions } from './service.ts';
import type { SessionRecord, SessionStatus, SessionStore } from './store.ts';
import { renderTrace, replayView, turnOf } from './trace.ts';
import type { Platform, ResearchRequest, SubmitOutcome, ThreadRef, ThreadSurface, ThreadView } from './types.ts';
import { initialThreadView, isFinal, reduceThreadView, type ViewEvent } from './view.ts';

type Rejection = Extract<SubmitOutcome, { accepted: false }>;

interface Session {
  id: string;
  seq: number;
  req: ResearchRequest;
  userKey: string;
  threadKey: string;
  state: 'waiting' | 'running' | 'ended';
  view: ThreadView;
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

const USER_LIMITER_TTL_MS = 24 * 3600_000;

export class ChatServiceImpl implements ChatService {
  readonly #deps: ChatServiceDeps;
  readonly #store: SessionStore;
  readonly #limits: ChatLimits;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #maxSteps: number;
  readonly #obsChars: number;
  readonly #users: Bottleneck.Group;
  readonly #global: Bottleneck;
  readonly #quotas: Quotas;
  readonly #pacer: RenderPacer;
  readonly #active = new Map<string, Session>();
  readonly #byThread = new Map<string, string>();
  /** Waiting + running sessions per user key. */
  readonly #userActive = new Map<string, number>();
  readonly #listeners = new Set<(e: ChatEvent) => void>();
  #seq = 0;
  #running = 0;
  #waiting = 0;
  #shuttingDown = false;
  #seenCalls = 0;
  #orphans: SessionRecord[];
  #pruneTimer: NodeJS.Timeout | undefined;
  readonly #finished: ChatStats['finished'] = { done: 0, failed: 0, cancelled: 0, interrupted: 0 };
  readonly #rejected: ChatStats['rejected'] = { quota: 0, capacity: 0, busy: 0, duplicate: 0, invalid: 0 };

  constructor(deps: ChatServiceDeps) {
    this.#deps = deps;
    this.#store = deps.store;
    this.#limits = deps.limits;
    this.#log = deps.logger ?? silentLogger;
    this.#now = deps.now ?? Date.now;
    this.#maxSteps = deps.maxSteps ?? 32;
    this.#obsChars = deps.observationChars ?? 600;
    // A Group drops a key's limiter `timeout` ms after its last job *launch*, even while that job
    // still runs; the 5-minute default would let a long session's user start a second one.
    this.#users = new Bottleneck.Group({ maxConcurrent: this.#limits.userConcurrent, timeout: USER_LIMITER_TTL_MS });
    this.#global = new Bottleneck({ maxConcurrent: this.#limits.maxConcurrent });
    this.#quotas = new Quotas(this.#limits);
    this.#pacer = new RenderPacer((sessionId, err) => this.#renderFailed(sessionId, err));
    // Marked now, before any request of this process exists, so a live session is never taken
    // for a dead one; the threads are told later, once the platforms are connected.
    this.#orphans = this.#store.markInterrupted(this.#now());
    this.#quotas.seed(this.#store.sessionsSince(this.#now() - this.#limits.quotaWindowMs));
    if (this.#limits.traceRetentionMs > 0) {
      this.#pruneTraces();
      this.#pruneTimer = setInterval(() => this.#pruneTraces(), 3600_000).unref();
    }
  }

  #pruneTraces(): void {
    this.#persist('prune traces', () => {
      const n = this.#store.pruneTraces(this.#now() - this.#limits.traceRetentionMs);
      if (n) this.#log.info({ events: n }, 'old traces deleted');
    });
  }

  #emit(e: ChatEvent): void {
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch (err) {
        this.#log.warn({ err }, 'chat event listener threw');
      }
    }
  }

  /** Store writes must not take a session down (a full disk loses the record, not the answer). */
  #persist(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log.error({ err, what }, 'session store write failed');
    }
  }

  #reject(req: ResearchRequest, reason: Rejection['reason'], message: string, extra: Partial<Rejection> = {}): Rejection {
    this.#rejected[reason] += 1;
    this.#emit({ kind: 'rejected', ref: refOf(req), reason });
    return { accepted: false, reason, message, ...extra };
  }

  async submit(req: ResearchRequest, surface: ThreadSurface, opts: SubmitOptions = {}): Promise<SubmitOutcome> {
    const now = this.#now();
    const question = typeof req.question === 'string' ? req.question.trim() : '';
    const maxChars = this.#deps.maxQuestionChars ?? 4000;
    if (!question) return this.#reject(req, 'invalid', msg.EMPTY_QUESTION_MESSAGE);
    if (!req.userId || typeof req.userId !== 'string') return this.#reject(req, 'invalid', 'Could not tell who asked; please try again.');
    if (question.length > maxChars) return this.#reject(req, 'invalid', msg.tooLongMessage(maxChars));
    if (this.#shuttingDown) return this.#reject(req, 'capacity', msg.SHUTDOWN_MESSAGE);
    if (req.sourceEventId && this.#store.findBySourceEvent(req.platform, req.sourceEventId))
      return this.#reject(req, 'duplicate', msg.DUPLICATE_MESSAGE);
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
    this.#persist('create', () =>
      this.#store.createSession({
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
      }),
    );
    this.#quotas.take(req, now, id);
    const userKey = userKeyOf(req);
    const ahead = this.#waiting;
    let markEnded!: () => void;
    const ended = new Promise<void>((resolve) => (markEnded = resolve));
    const s: Session = {
      id,
      seq: ++this.#seq,
      req: clean,
      userKey,
      threadKey: tKey,
      state: 'waiting',
      view: initialThreadView(id, clean, this.#maxSteps, now, ahead),
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
    void this.#users
      .key(userKey)
      .schedule(() => this.#global.schedule(() => this.#run(s)))
      .catch((err: unknown) => this.#log.error({ err, sessionId: id }, 'scheduler failed'));
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
    const next = reduceThreadView(s.view, ev, this.#now(), { observationChars: this.#obsChars });
    if (next === s.view) return;
    s.view = next;
    if (!isFinal(next)) s.renderer.update(next);
  }

  async #run(s: Session): Promise<void> {
    if (s.state !== 'waiting') return; // withdrawn while queued
    s.state = 'running';
    this.#waiting -= 1;
    this.#running += 1;
    const startedAt = this.#now();
    this.#persist('start', () => this.#store.updateSession(s.id, { status: 'running', startedAt }));
    this.#emit({ kind: 'session', sessionId: s.id, ref: s.view.ref, status: 'running', durationMs: null });
    this.#refreshQueue();
    const signal = s.controller.signal;
    try {
      const input = { question: s.req.question, history: s.history, signal, sessionId: s.id };
      await consumeResearch(this.#deps.engine, input, (ev) => this.#onEvent(s, ev));
    } catch (err) {
      this.#log.error({ err, sessionId: s.id }, 'research failed');
      if (!signal.aborted) this.#onEvent(s, { type: 'error', message: 'internal error; please try again', retryable: true });
    }
    if (!isFinal(s.view)) {
      if (signal.aborted) this.#onEvent(s, { type: 'cancelled' });
      else this.#onEvent(s, { type: 'error', message: 'the research ended without an answer', retryable: true });
    }
    this.#end(s);
  }

  #onEvent(s: Session, ev: ResearchEvent): void {
    const at = this.#now();
    if (ev.type === 'thinking') {
      s.thinking += ev.text;
    } else {
      if (s.thinking) {
        const thinking: ResearchEvent = { type: 'thinking', text: s.thinking };
        s.thinking = '';
        this.#persist('event', () => this.#store.appendEvent(s.id, s.eventSeq++, at, thinking));
      }
      this.#persist('event', () => this.#store.appendEvent(s.id, s.eventSeq++, at, ev));
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
    if (wasWaiting) {
      // Never started: the question does not count against the quotas.
      this.#quotas.release(s.req, s.id);
    }
    const v = s.view;
    const status: SessionStatus =
      v.status.state === 'done' ? 'done' : v.status.state === 'cancelled' ? 'cancelled' : v.status.state === 'interrupted' ? 'interrupted' : 'failed';
    this.#finished[status as keyof ChatStats['finished']] += 1;
    const finishedAt = v.finishedAt ?? this.#now();
    const answerEvent = status === 'done' ? s.answer : null;
    this.#persist('finish', () =>
      this.#store.updateSession(s.id, {
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
    void s.renderer.finish(v);
    s.markEnded();
    this.#refreshQueue();
  }

  #renderFailed(sessionId: string, err: unknown): void {
    const s = this.#active.get(sessionId);
    const ref = s?.view.ref ?? { platform: 'terminal' as Platform, workspaceId: '', channelId: '', threadId: '' };
    this.#log.warn({ err, sessionId }, 'render failed; will retry with the latest view');
    this.#emit({ kind: 'render-error', sessionId, ref, error: err instanceof Error ? err.message : String(err) });
  }

  async cancel(ref: ThreadRef, byUserId: string): Promise<boolean> {
    const id = this.#byThread.get(threadKey(ref));
    return id ? this.cancelSession(id, byUserId) : false;
  }

  async cancelSession(sessionId: string, byUserId: string): Promise<boolean> {
    const s = this.#active.get(sessionId);
    if (!s || s.state === 'ended') return false;
    s.cancelledBy = byUserId;
    if (s.state === 'waiting') {
      this.#onEvent(s, { type: 'cancelled' });
      this.#end(s);
      return true;
    }
    s.controller.abort(new Error(`cancelled by ${byUserId}`));
    await s.ended;
    return true;
  }

  isResearchThread(ref: ThreadRef): boolean {
    return this.#byThread.has(threadKey(ref)) || this.#store.hasThread(ref);
  }

  followupWithoutMention(): boolean {
    return this.#limits.followup === 'any';
  }

  activeSession(ref: ThreadRef): string | null {
    return this.#byThread.get(threadKey(ref)) ?? null;
  }

  history(ref: ThreadRef): Turn[] {
    const turns = this.#store
      .threadSessions(refOf(ref))
      .map(turnOf)
      .filter((t): t is Turn => t !== null);
    return turns.slice(-(this.#deps.maxHistoryTurns ?? 6));
  }

  markEventSeen(platform: Platform, eventId: string): boolean {
    const now = this.#now();
    if (++this.#seenCalls % 500 === 1)
      this.#persist('prune', () => this.#store.pruneSeenEvents(now - (this.#deps.seenEventTtlMs ?? 86_400_000)));
    try {
      return this.#store.markEventSeen(platform, eventId, now);
    } catch (err) {
      // Never drop the only delivery because the store failed.
      this.#log.error({ err }, 'dedupe store failed; treating event as new');
      return true;
    }
  }

  recordFeedback(sessionId: string, userId: string, value: 'up' | 'down'): boolean {
    if (value !== 'up' && value !== 'down') return false;
    if (!this.#store.getSession(sessionId)) return false;
    this.#store.recordFeedback(sessionId, userId, value, this.#now());
    return true;
  }

  trace(sessionId: string): string | null {
    const rec = this.#store.getSession(sessionId);
    if (!rec) return null;
    return renderTrace(rec, this.#store.events(sessionId));
  }

  traceFilename(sessionId: string): string {
    return `cir-trace-${sessionId.replace(/[^A-Za-z0-9-]/g, '').slice(0, 64)}.md`;
  }

  view(sessionId: string): ThreadView | null {
    const s = this.#active.get(sessionId);
    if (s) return s.view;
    const rec = this.#store.getSession(sessionId);
    if (!rec) return null;
    return replayView(rec, this.#store.events(sessionId), this.#maxSteps, { observationChars: this.#obsChars });
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
    clearInterval(this.#pruneTimer);
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

  async recoverInterrupted(notify: (view: ThreadView) => Promise<void>): Promise<number> {
    const recs = this.#orphans;
    this.#orphans = [];
    for (const rec of recs) {
      const view = replayView(rec, this.#store.events(rec.id), this.#maxSteps, { observationChars: this.#obsChars });
      try {
        await notify(view);
      } catch (err) {
        this.#log.warn({ err, sessionId: rec.id }, 'could not tell a thread about its interrupted session');
      }
    }
    return recs.length;
  }
}
