// The chat service of `serve --role gateway`: the platforms call it exactly as they call the
// in-process one, but an accepted request becomes a BullMQ job for some worker instead of running
// here. It validates, dedupes (the session row's unique key in the shared store), admits (quotas,
// one session per thread, the queue bound) and answers at once; Stop withdraws a waiting job or
// reaches the running session's worker over Redis pub/sub. No engine, no sandbox.
import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { mayControl, newRecord, refOf, requestProblem, threadKey } from '../admission.ts';
import * as msg from '../messages.ts';
import { ChatFront } from '../front.ts';
import type { CancelOptions, CancelOutcome, ChatService, ChatServiceDeps, ChatStats, SubmitOptions } from '../service.ts';
import type { SessionRecord } from '../store.ts';
import type { Platform, ResearchRequest, SubmitOutcome, ThreadRef, ThreadSurface, ThreadView } from '../types.ts';
import { cancelChannel, type CancelMessage, type ResearchJob } from './queue.ts';
import { jobsAhead } from './position.ts';
import { RedisQuotas } from './quotas.ts';

/** A surface for a thread outside any incoming event (a Stop that withdraws a queued job). */
export type SurfaceFor = (ref: ThreadRef, userId: string) => ThreadSurface | undefined;

export interface GatewayDeps extends Omit<ChatServiceDeps, 'engine' | 'limiters'> {
  queue: Queue<ResearchJob>;
  /** Publishes Stop for the workers; keeps the quotas. */
  publisher: Redis;
  redisPrefix: string;
}

const ACTIVE = new Set(['queued', 'running']);
/** How long a job may wait for a worker before its asker is told its place in the queue. */
const WAITING_NOTICE_AFTER_MS = 1500;

export class GatewayChat extends ChatFront implements ChatService {
  readonly #queue: Queue<ResearchJob>;
  readonly #publisher: Redis;
  readonly #channel: string;
  readonly #quotas: RedisQuotas;
  /** Threads whose admission is under way in this process (between the checks and the row). */
  readonly #admitting = new Map<string, { id: string; sourceEventId?: string }>();
  /** Sessions this gateway admitted, by thread (activeSession; best effort, for tests and logs). */
  readonly #admitted = new Map<string, string>();
  #surfaceFor: SurfaceFor = () => undefined;
  #shuttingDown = false;
  /** Jobs waiting for a worker when last asked (at each admission), for /metrics. */
  #waiting = 0;
  readonly #noticeTimers = new Set<NodeJS.Timeout>();

  constructor(deps: GatewayDeps) {
    // Other processes share the store: nothing of theirs is an orphan to mark at start.
    super({ ...deps, recoverOnStart: false, engine: undefined as never });
    this.#queue = deps.queue;
    this.#publisher = deps.publisher;
    this.#channel = cancelChannel(deps.redisPrefix);
    // In Redis: exact with any number of gateways (and kept across their restarts).
    this.#quotas = new RedisQuotas(deps.publisher, deps.redisPrefix, deps.limits);
  }

  /** Set once the platform adapters exist (they are built with this service). */
  useSurfaces(fn: SurfaceFor): void {
    this.#surfaceFor = fn;
  }

  protected async admit(req: ResearchRequest, surface: ThreadSurface, opts: SubmitOptions): Promise<SubmitOutcome> {
    const now = this.now();
    if (req.sourceEventId && (await this.alreadySubmitted(req.platform, req.sourceEventId)))
      return this.reject(req, 'duplicate', msg.DUPLICATE_MESSAGE);
    const problem = requestProblem(req, this.deps.maxQuestionChars ?? 4000);
    if (problem) return this.reject(req, 'invalid', problem);
    if (this.#shuttingDown) return this.reject(req, 'capacity', msg.SHUTDOWN_MESSAGE);
    const tKey = threadKey(req);
    const pending = this.#admitting.get(tKey);
    // A twin delivery (Slack's app_mention and message of one mention) is the same request, not a second one.
    if (pending && req.sourceEventId && pending.sourceEventId === req.sourceEventId) return this.reject(req, 'duplicate', msg.DUPLICATE_MESSAGE);
    if (pending) return this.reject(req, 'busy', msg.BUSY_MESSAGE, { activeSessionId: pending.id });
    const id = randomUUID();
    this.#admitting.set(tKey, { id, sourceEventId: req.sourceEventId });
    try {
      // One session per thread, wherever it runs: the shared store knows.
      const busy = (await this.store.threadSessions(refOf(req))).filter((r) => ACTIVE.has(r.status)).at(-1);
      // The twin went to another gateway first.
      if (busy && req.sourceEventId && busy.sourceEventId === req.sourceEventId) return this.reject(req, 'duplicate', msg.DUPLICATE_MESSAGE);
      if (busy) return this.reject(req, 'busy', msg.BUSY_MESSAGE, { activeSessionId: busy.id });
      // The bound counts what waits for a worker (jobs taken wait for their limiter slot there).
      this.#waiting = await this.#queue.getWaitingCount();
      if (this.#waiting >= this.deps.limits.queueMax) return this.reject(req, 'capacity', msg.CAPACITY_MESSAGE);
      const refusal = await this.#quotas.take(req, now, id);
      if (refusal) return this.reject(req, 'quota', refusal.message, { retryAt: refusal.retryAt });
      const rec = newRecord(id, req, req.question.trim(), now);
      // The row is the dedupe record across gateways (unique per platform event).
      let created = true;
      await this.persist('create', async () => {
        created = await this.store.createSession(rec);
      });
      if (!created) {
        await this.#release(req, id);
        return this.reject(req, 'duplicate', msg.DUPLICATE_MESSAGE);
      }
      try {
        await this.#queue.add('research', { sessionId: id, opts }, { jobId: id });
      } catch (err) {
        this.log.error({ err, sessionId: id }, 'could not enqueue the research');
        await this.#release(req, id);
        await this.persist('enqueue failed', () =>
          this.store.updateSessionIf(id, ['queued'], { status: 'failed', finishedAt: this.now(), error: 'could not be queued' }),
        );
        return this.reject(req, 'capacity', msg.CAPACITY_MESSAGE);
      }
      this.#admitted.set(tKey, id);
      if (this.#admitted.size > 10_000) this.#admitted.delete(this.#admitted.keys().next().value!);
      this.emit({ kind: 'session', sessionId: id, ref: refOf(req), status: 'queued', durationMs: null });
      this.#tellIfWaiting(id, surface);
      return { accepted: true, sessionId: id, ahead: this.#waiting };
    } finally {
      this.#admitting.delete(tKey);
    }
  }

  /** A free worker takes a job within milliseconds; one still waiting after a moment is told
   *  where it stands, once (the worker's own status message follows when it starts). */
  #tellIfWaiting(id: string, surface: ThreadSurface): void {
    const timer = setTimeout(() => {
      this.#noticeTimers.delete(timer);
      void jobsAhead(this.#queue, id)
        .then((ahead) => (ahead === null ? undefined : surface.notify(msg.waitingForWorkerMessage(ahead))))
        .catch((err: unknown) => this.log.warn({ err, sessionId: id }, 'could not tell a waiting session its place'));
    }, WAITING_NOTICE_AFTER_MS);
    timer.unref();
    this.#noticeTimers.add(timer);
  }

  async #release(who: ResearchRequest | SessionRecord, id: string): Promise<void> {
    const req = 'ref' in who ? { ...who.ref, userId: who.userId } : who;
    await this.#quotas.release(req, id).catch((err: unknown) => this.log.warn({ err, sessionId: id }, 'could not give a quota use back'));
  }

  alreadySubmitted(platform: Platform, sourceEventId: string): Promise<boolean> {
    return this.seenInStore(platform, sourceEventId);
  }

  async #activeIn(ref: ThreadRef): Promise<SessionRecord | undefined> {
    return (await this.store.threadSessions(refOf(ref))).filter((r) => ACTIVE.has(r.status)).at(-1);
  }

  async cancel(ref: ThreadRef, byUserId: string, opts: CancelOptions = {}): Promise<CancelOutcome> {
    const rec = await this.#activeIn(ref);
    return rec ? this.cancelSession(rec.id, byUserId, opts) : 'inactive';
  }

  async cancelSession(sessionId: string, byUserId: string, opts: CancelOptions = {}): Promise<CancelOutcome> {
    const rec = await this.store.getSession(sessionId);
    if (!rec || !ACTIVE.has(rec.status)) return 'inactive';
    if (!mayControl(rec.userId, byUserId, opts.moderator === true)) {
      this.log.info({ sessionId, by: byUserId }, 'stop refused: not the asker');
      await this.refuse(this.#surfaceFor(rec.ref, rec.userId), this.reject(rec.ref, 'invalid', msg.stopNotYoursMessage(rec.ref.platform)));
      return 'refused';
    }
    // Still waiting for a worker: withdrawn here. BullMQ refuses to remove a job a worker holds
    // (locked); then, as for a running one, the worker is told.
    if (rec.status === 'queued' && (await this.#withdraw(sessionId))) {
      const finishedAt = this.now();
      if (await this.store.updateSessionIf(sessionId, ['queued'], { status: 'cancelled', cancelledBy: byUserId, finishedAt, steps: 0 })) {
        // Never started: the question does not count against the quotas.
        await this.#release(rec, sessionId);
        this.emit({ kind: 'session', sessionId, ref: rec.ref, status: 'cancelled', durationMs: finishedAt - rec.createdAt });
        const view = await this.storedView({ ...rec, status: 'cancelled', cancelledBy: byUserId, finishedAt });
        await this.#surfaceFor(rec.ref, rec.userId)
          ?.render(view)
          .catch((err: unknown) => this.log.warn({ err, sessionId }, 'could not show the withdrawn session'));
        return 'stopped';
      }
    }
    const message: CancelMessage = { sessionId, by: byUserId };
    await this.#publisher.publish(this.#channel, JSON.stringify(message));
    this.log.info({ sessionId, by: byUserId }, 'stop sent to the workers');
    return 'stopped';
  }

  async #withdraw(sessionId: string): Promise<boolean> {
    try {
      const job = await this.#queue.getJob(sessionId);
      if (!job || !(await job.isWaiting())) return false;
      await job.remove();
      return true;
    } catch (err) {
      this.log.debug({ err, sessionId }, 'job not withdrawn (a worker has it)');
      return false;
    }
  }

  isResearchThread(ref: ThreadRef): Promise<boolean> {
    return this.store.hasThread(refOf(ref));
  }

  followupWithoutMention(): boolean {
    return this.deps.limits.followup === 'any';
  }

  activeSession(ref: ThreadRef): string | null {
    return this.#admitted.get(threadKey(ref)) ?? null;
  }

  override async view(sessionId: string): Promise<ThreadView | null> {
    return super.view(sessionId);
  }

  stats(): ChatStats {
    return {
      // Sessions run on the workers (their /metrics); here, what waits for one.
      running: 0,
      queued: this.#waiting,
      finished: { done: 0, failed: 0, cancelled: 0, interrupted: 0 },
      rejected: { ...this.rejected },
      pendingRenders: 0,
      shuttingDown: this.#shuttingDown,
    };
  }

  async idle(): Promise<void> {}

  /** Stops admitting; queued jobs stay in Redis for the workers (nothing runs here to drain). */
  async shutdown(): Promise<void> {
    this.#shuttingDown = true;
    this.stopTimers();
    for (const t of this.#noticeTimers) clearTimeout(t);
    this.#noticeTimers.clear();
  }

  async recoverInterrupted(): Promise<number> {
    return 0;
  }
}
