// The chat service of `serve --role gateway`: the platforms call it exactly as they call the
// in-process one, but an accepted request becomes a BullMQ job for some worker instead of running
// here. It validates, dedupes (the session row's unique key in the shared store), admits (quotas,
// one session per thread, the queue bound) and answers at once; Stop withdraws a waiting job or
// reaches the running session's worker over Redis pub/sub. No engine, no sandbox.
import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { mayControl, newRecord, Quotas, refOf, requestProblem, threadKey } from '../admission.ts';
import * as msg from '../messages.ts';
import { ChatRecords } from '../records.ts';
import type { CancelOptions, CancelOutcome, ChatEvent, ChatService, ChatServiceDeps, ChatStats, SubmitOptions } from '../service.ts';
import type { SessionRecord } from '../store.ts';
import type { Platform, ResearchRequest, SubmitOutcome, ThreadRef, ThreadSurface, ThreadView } from '../types.ts';
import { cancelChannel, type CancelMessage, type ResearchJob } from './queue.ts';

type Rejection = Extract<SubmitOutcome, { accepted: false }>;
/** A surface for a thread outside any incoming event (a Stop that withdraws a queued job). */
export type SurfaceFor = (ref: ThreadRef, userId: string) => ThreadSurface | undefined;

export interface GatewayDeps extends Omit<ChatServiceDeps, 'engine' | 'limiters'> {
  queue: Queue<ResearchJob>;
  /** Publishes Stop for the workers. */
  publisher: Redis;
  redisPrefix: string;
}

const refusedKey = (sourceEventId: string): string => `refused:${sourceEventId}`;
const ACTIVE = new Set(['queued', 'running']);

export class GatewayChat extends ChatRecords implements ChatService {
  readonly #queue: Queue<ResearchJob>;
  readonly #publisher: Redis;
  readonly #channel: string;
  readonly #quotas: Quotas;
  readonly #ready: Promise<unknown>;
  readonly #listeners = new Set<(e: ChatEvent) => void>();
  /** Threads whose admission is under way in this process (between the checks and the row). */
  readonly #admitting = new Map<string, string>();
  /** Sessions this gateway admitted, by thread (activeSession; best effort, for tests and logs). */
  readonly #admitted = new Map<string, string>();
  #surfaceFor: SurfaceFor = () => undefined;
  #shuttingDown = false;
  /** Jobs waiting for a worker when last asked (at each admission), for /metrics. */
  #waiting = 0;
  readonly #rejected: ChatStats['rejected'] = { quota: 0, capacity: 0, busy: 0, duplicate: 0, invalid: 0 };

  constructor(deps: GatewayDeps) {
    // Other processes share the store: nothing of theirs is an orphan to mark at start.
    super({ ...deps, recoverOnStart: false, engine: undefined as never });
    this.#queue = deps.queue;
    this.#publisher = deps.publisher;
    this.#channel = cancelChannel(deps.redisPrefix);
    this.#quotas = new Quotas(deps.limits);
    this.#ready = this.store
      .sessionsSince(this.now() - deps.limits.quotaWindowMs)
      .then((recs) => this.#quotas.seed(recs))
      .catch((err: unknown) => this.log.error({ err }, 'could not seed the quotas from the store'));
  }

  /** Set once the platform adapters exist (they are built with this service). */
  useSurfaces(fn: SurfaceFor): void {
    this.#surfaceFor = fn;
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

  async #refuse(surface: ThreadSurface | undefined, r: Rejection): Promise<Rejection> {
    try {
      await surface?.notify(r.message);
    } catch (err) {
      this.log.warn({ err, reason: r.reason }, 'could not post a refusal');
    }
    return r;
  }

  async submit(req: ResearchRequest, surface: ThreadSurface, opts: SubmitOptions = {}): Promise<SubmitOutcome> {
    return this.#submit(req, surface, opts, true);
  }

  async #submit(req: ResearchRequest, surface: ThreadSurface, opts: SubmitOptions, rememberRefusal: boolean): Promise<SubmitOutcome> {
    await this.#ready;
    const out = await this.#admit(req, opts);
    if (out.accepted) return out;
    if (rememberRefusal && req.sourceEventId && out.reason !== 'duplicate')
      await this.persist('refusal', () => this.store.markEventSeen(req.platform, refusedKey(req.sourceEventId!), this.now()));
    return this.#refuse(surface, out);
  }

  async #admit(req: ResearchRequest, opts: SubmitOptions): Promise<SubmitOutcome> {
    const now = this.now();
    if (req.sourceEventId && (await this.alreadySubmitted(req.platform, req.sourceEventId)))
      return this.#reject(req, 'duplicate', msg.DUPLICATE_MESSAGE);
    const problem = requestProblem(req, this.deps.maxQuestionChars ?? 4000);
    if (problem) return this.#reject(req, 'invalid', problem);
    if (this.#shuttingDown) return this.#reject(req, 'capacity', msg.SHUTDOWN_MESSAGE);
    const tKey = threadKey(req);
    const pending = this.#admitting.get(tKey);
    if (pending) return this.#reject(req, 'busy', msg.BUSY_MESSAGE, { activeSessionId: pending });
    const id = randomUUID();
    this.#admitting.set(tKey, id);
    try {
      // One session per thread, wherever it runs: the shared store knows.
      const busy = (await this.store.threadSessions(refOf(req))).filter((r) => ACTIVE.has(r.status)).at(-1);
      if (busy) return this.#reject(req, 'busy', msg.BUSY_MESSAGE, { activeSessionId: busy.id });
      const refusal = this.#quotas.check(req, now);
      if (refusal) return this.#reject(req, 'quota', refusal.message, { retryAt: refusal.retryAt });
      // The bound counts what waits for a worker (jobs taken wait for their limiter slot there).
      this.#waiting = await this.#queue.getWaitingCount();
      if (this.#waiting >= this.deps.limits.queueMax) return this.#reject(req, 'capacity', msg.CAPACITY_MESSAGE);
      const rec = newRecord(id, req, req.question.trim(), now);
      // The row is the dedupe record across gateways (unique per platform event).
      let created = true;
      await this.persist('create', async () => {
        created = await this.store.createSession(rec);
      });
      if (!created) return this.#reject(req, 'duplicate', msg.DUPLICATE_MESSAGE);
      this.#quotas.take(req, now, id);
      try {
        await this.#queue.add('research', { sessionId: id, opts }, { jobId: id });
      } catch (err) {
        this.log.error({ err, sessionId: id }, 'could not enqueue the research');
        this.#quotas.release(req, id);
        await this.persist('enqueue failed', () =>
          this.store.updateSessionIf(id, ['queued'], { status: 'failed', finishedAt: this.now(), error: 'could not be queued' }),
        );
        return this.#reject(req, 'capacity', msg.CAPACITY_MESSAGE);
      }
      this.#admitted.set(tKey, id);
      if (this.#admitted.size > 10_000) this.#admitted.delete(this.#admitted.keys().next().value!);
      this.#emit({ kind: 'session', sessionId: id, ref: refOf(req), status: 'queued', durationMs: null });
      return { accepted: true, sessionId: id, ahead: 0 };
    } finally {
      this.#admitting.delete(tKey);
    }
  }

  async alreadySubmitted(platform: Platform, sourceEventId: string): Promise<boolean> {
    try {
      return (
        (await this.store.findBySourceEvent(platform, sourceEventId)) !== null ||
        (await this.store.hasSeenEvent(platform, refusedKey(sourceEventId)))
      );
    } catch (err) {
      this.log.error({ err }, 'dedupe lookup failed; treating the request as new');
      return false;
    }
  }

  async retry(sessionId: string, byUserId: string, surface: ThreadSurface, opts: SubmitOptions = {}): Promise<SubmitOutcome> {
    const rec = await this.store.getSession(sessionId);
    const ref = rec?.ref ?? { platform: 'terminal' as const, workspaceId: '', channelId: '', threadId: '' };
    if (!rec || rec.status !== 'interrupted') return this.#refuse(surface, this.#reject(ref, 'invalid', msg.NOTHING_TO_RETRY_MESSAGE));
    if (!mayControl(rec.userId, byUserId, false)) return this.#refuse(surface, this.#reject(ref, 'invalid', msg.RETRY_NOT_YOURS_MESSAGE));
    const sourceEventId = `retry:${rec.id}`;
    if (await this.store.findBySourceEvent(rec.ref.platform, sourceEventId))
      return this.#refuse(surface, this.#reject(ref, 'duplicate', msg.ALREADY_RETRIED_MESSAGE));
    return this.#submit({ ...rec.ref, userId: rec.userId, question: rec.question, sourceEventId }, surface, opts, false);
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
      await this.#refuse(this.#surfaceFor(rec.ref, rec.userId), this.#reject(rec.ref, 'invalid', msg.stopNotYoursMessage(rec.ref.platform)));
      return 'refused';
    }
    // Still waiting for a worker: withdrawn here. BullMQ refuses to remove a job a worker holds
    // (locked); then, as for a running one, the worker is told.
    if (rec.status === 'queued' && (await this.#withdraw(sessionId))) {
      const finishedAt = this.now();
      if (await this.store.updateSessionIf(sessionId, ['queued'], { status: 'cancelled', cancelledBy: byUserId, finishedAt, steps: 0 })) {
        this.#emit({ kind: 'session', sessionId, ref: rec.ref, status: 'cancelled', durationMs: finishedAt - rec.createdAt });
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
      rejected: { ...this.#rejected },
      pendingRenders: 0,
      shuttingDown: this.#shuttingDown,
    };
  }

  onEvent(listener: (e: ChatEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async idle(): Promise<void> {}

  /** Stops admitting; queued jobs stay in Redis for the workers (nothing runs here to drain). */
  async shutdown(): Promise<void> {
    this.#shuttingDown = true;
    this.stopTimers();
  }

  async recoverInterrupted(): Promise<number> {
    return 0;
  }
}
