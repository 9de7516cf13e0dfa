// Chooses, once, where the chat layer keeps its concurrency slots: in this process, or shared by
// every process on the same Redis (REDIS_URL set) so limits stay exact across processes.
import type { Env } from '../config.ts';
import { localLimiters, redisLimiters, type SessionLimiters } from '../chat/limiters.ts';
import type { ChatLimits } from '../chat/limits.ts';
import type { Logger } from '../util/log.ts';

export async function buildLimiters(env: Env, limits: ChatLimits, logger: Logger): Promise<SessionLimiters> {
  if (!env.REDIS_URL) return localLimiters(limits);
  const limiters = await redisLimiters(limits, {
    url: env.REDIS_URL,
    // Limiters of one deployment (CIR_REDIS_PREFIX) share their slots.
    prefix: `${env.CIR_REDIS_PREFIX}:limits`,
    // One notion of "gone": a process silent as long as a job lock lasts is dead to the queue
    // (stalled) and to the limiters alike; 10 s at most, bottleneck's own default.
    clientTimeoutMs: Math.min(10_000, env.CIR_WORKER_LOCK_MS),

    onError: (err) => logger.warn({ err }, 'redis limiter error'),
  });
  logger.info('session limits shared through Redis');
  return limiters;
}
