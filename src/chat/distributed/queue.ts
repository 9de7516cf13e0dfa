// What gateways and workers agree on about the research queue: BullMQ on Redis, one job per
// session (job id = session id), and a Redis pub/sub channel on which Stop reaches whichever worker
// runs a session. Every key lives under CIR_REDIS_PREFIX, so deployments (and test runs) sharing a
// Redis stay apart.
import { Queue, type ConnectionOptions } from 'bullmq';
import { redisClientOptions } from '../redis.ts';
import type { SubmitOptions } from '../service.ts';

export const QUEUE_NAME = 'research';

/** A research job: which session, and how its platform wants the renders paced. */
export interface ResearchJob {
  sessionId: string;
  opts: SubmitOptions;
}

/** A Stop pressed anywhere, published for the worker that runs the session. */
export interface CancelMessage {
  sessionId: string;
  by: string;
}

export const cancelChannel = (prefix: string): string => `${prefix}:cancel`;

/** BullMQ's connection options from REDIS_URL (never the URL itself in an error). BullMQ's
 *  blocking connections need maxRetriesPerRequest null. */
export function queueConnection(url: string): ConnectionOptions {
  return { ...redisClientOptions(url), maxRetriesPerRequest: null } as ConnectionOptions;
}

export function openQueue(url: string, prefix: string): Queue<ResearchJob> {
  return new Queue<ResearchJob>(QUEUE_NAME, {
    connection: queueConnection(url),
    prefix,
    defaultJobOptions: {
      // The session record in the store is the history; the queue keeps only what is pending.
      removeOnComplete: true,
      removeOnFail: { count: 1000 },
      attempts: 1,
    },
  });
}
