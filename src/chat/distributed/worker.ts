// The research side of `serve --role worker`: a BullMQ Worker takes session jobs and runs each from
// start to end through the in-process chat service (its engine, sandbox and the clustered limiters),
// rendering to the thread through a platform surface made from the thread's ref. Stop arrives on a
// Redis channel. A worker that dies mid-session leaves its job stalled: whichever worker notices
// (BullMQ's stalled check, maxStalledCount 0 so the job is never run again) marks the session
// interrupted with one conditional update, so exactly one process tells the thread, with Retry.
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../../util/log.ts';
import type { ChatServiceImpl } from '../scheduler.ts';
import { userKeyOf } from '../admission.ts';
import type { SessionLimiters } from '../limiters.ts';
import type { AsyncSessionStore } from '../session-store.ts';
import type { ThreadRef, ThreadSurface } from '../types.ts';
import { cancelChannel, QUEUE_NAME, queueConnection, type CancelMessage, type ResearchJob } from './queue.ts';

export interface ResearchWorkerOptions {
  redisUrl: string;
  redisPrefix: string;
  /** Sessions this worker runs at once (CIR_WORKER_SESSIONS). */
  concurrency: number;
  /** Job lock, renewed at half of it while the worker lives (CIR_WORKER_LOCK_MS). */
  lockMs: number;
  chat: ChatServiceImpl;
  store: AsyncSessionStore;
  limiters: Pick<SessionLimiters, 'reclaimDead'>;
  /** A Redis connection of its own, put in subscriber mode here. */
  subscriber: Redis;
  surfaceFor: (ref: ThreadRef, userId: string) => ThreadSurface | undefined;
  logger: Logger;
  now?: () => number;
}

export interface ResearchWorker {
  /** Jobs this worker took (sessions run or withdrawn), for /metrics and the benchmark. */
  taken(): number;
  /** Stops taking jobs; resolves once the running ones have returned. */
  close(): Promise<void>;
  /** Redis answers (for /healthz). */
  ping(): Promise<unknown>;
}

const STALLED = /stalled/i;

export async function startResearchWorker(o: ResearchWorkerOptions): Promise<ResearchWorker> {
  const log = o.logger;
  const now = o.now ?? Date.now;
  let taken = 0;

  const processJob = async (job: Job<ResearchJob>): Promise<string> => {
    taken += 1;
    const rec = await o.store.getSession(job.data.sessionId);
    // Withdrawn (Stop while queued) or already decided elsewhere: nothing to run.
    if (!rec || rec.status !== 'queued') return 'skipped';
    const surface = o.surfaceFor(rec.ref, rec.userId);
    if (!surface) {
      log.error({ sessionId: rec.id, platform: rec.ref.platform }, 'no platform configured on this worker for the session');
      await o.store.updateSessionIf(rec.id, ['queued'], { status: 'failed', finishedAt: now(), error: `no ${rec.ref.platform} credentials on the worker` });
      return 'failed';
    }
    log.info({ sessionId: rec.id, jobId: job.id }, 'research job taken');
    await o.chat.runAdmitted(rec, surface, job.data.opts);
    return 'done';
  };

  const worker = new Worker<ResearchJob, string>(QUEUE_NAME, processJob, {
    connection: queueConnection(o.redisUrl),
    prefix: o.redisPrefix,
    concurrency: o.concurrency,
    lockDuration: o.lockMs,
    stalledInterval: o.lockMs,
    // A session is never run twice: a stalled job fails instead of going back to the queue.
    maxStalledCount: 0,
  });
  worker.on('error', (err) => log.warn({ err }, 'research queue error'));

  const interrupted = async (sessionId: string): Promise<void> => {
    try {
      if (!(await o.store.updateSessionIf(sessionId, ['queued', 'running'], { status: 'interrupted', finishedAt: now() }))) return;
      const rec = await o.store.getSession(sessionId);
      if (!rec) return;
      log.warn({ sessionId }, 'session interrupted: its worker stopped answering (job stalled)');
      // Its slots, global and the user's, are free again now rather than at their expiration.
      void o.limiters
        .reclaimDead([userKeyOf({ ...rec.ref, userId: rec.userId })])
        .then((n) => n > 0 && log.info({ sessionId, slots: n }, 'freed the limiter slots of a dead worker'))
        .catch((err: unknown) => log.warn({ err, sessionId }, 'could not free the limiter slots of a dead worker'));
      const surface = o.surfaceFor(rec.ref, rec.userId);
      if (surface) await surface.render(await o.chat.storedView(rec));
    } catch (err) {
      log.warn({ err, sessionId }, 'could not tell a thread about its interrupted session');
    }
  };
  worker.on('stalled', (jobId) => void interrupted(jobId));
  worker.on('failed', (job, err) => {
    if (job && STALLED.test(err.message)) void interrupted(job.data.sessionId);
  });

  const channel = cancelChannel(o.redisPrefix);
  o.subscriber.on('message', (ch: string, raw: string) => {
    if (ch !== channel) return;
    let m: CancelMessage;
    try {
      m = JSON.parse(raw) as CancelMessage;
    } catch {
      return;
    }
    // Every worker hears it; only the one running the session has it. The gateway checked who
    // may stop it against the stored asker.
    void o.chat
      .cancelSession(m.sessionId, m.by, { moderator: true })
      .then((outcome) => outcome !== 'inactive' && log.info({ sessionId: m.sessionId, by: m.by }, 'stopped on request'))
      .catch((err: unknown) => log.warn({ err, sessionId: m.sessionId }, 'stop failed'));
  });
  await o.subscriber.subscribe(channel);
  await worker.waitUntilReady();

  return {
    taken: () => taken,
    ping: () => o.subscriber.ping(),
    async close() {
      await worker.close();
      await o.subscriber.quit().catch(() => {});
    },
  };
}
