// What each `serve --role` builds: `all` the in-process chat service (today's single process),
// `gateway` the queueing chat service (no engine), `worker` the in-process service fed by the
// research queue with REST-only platform surfaces. Chosen once here; the platforms and the chat
// layer's callers never learn which.
import type { Env } from '../config.ts';
import { GatewayChat } from '../chat/distributed/gateway.ts';
import { openQueue } from '../chat/distributed/queue.ts';
import { connectRedis } from '../chat/redis.ts';
import { startResearchWorker, type ResearchWorker } from '../chat/distributed/worker.ts';
import type { ChatLimits } from '../chat/limits.ts';
import { ChatServiceImpl } from '../chat/scheduler.ts';
import type { ChatService } from '../chat/service.ts';
import type { AsyncSessionStore } from '../chat/session-store.ts';
import type { ThreadRef, ThreadSurface } from '../chat/types.ts';
import type { PlatformAdapter } from '../platforms/types.ts';
import type { Logger } from '../util/log.ts';
import type { SessionLimiters } from '../chat/limiters.ts';
import { buildLimiters } from './chat.ts';
import type { ResearchEngine } from '../engine/events.ts';

export const ROLES = ['all', 'gateway', 'worker'] as const;
export type Role = (typeof ROLES)[number];

/** `fn` within `ms`, else a rejection: a silent database must fail /healthz, not hang it. */
export function within<T>(ms: number, fn: () => Promise<T>): () => Promise<T> {
  return () => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    });
    return Promise.race([fn(), late]).finally(() => clearTimeout(timer));
  };
}

/** Why `role` cannot run with this configuration, or null. */
export function roleProblem(role: Role, env: Env): string | null {
  if (role === 'all') return null;
  const missing = [!env.REDIS_URL && 'REDIS_URL (redis://...)', !env.DATABASE_URL && 'DATABASE_URL (postgres://...)'].filter(Boolean);
  return missing.length ? `--role ${role} needs ${missing.join(' and ')}: gateways and workers share the queue and the store` : null;
}

export interface GatewayParts {
  chat: GatewayChat;
  /** Tells the chat service how to reach a thread outside any event (Stop of a queued job). */
  attach(adapters: PlatformAdapter[]): void;
  /** Redis answers (for /healthz). */
  ping(): Promise<unknown>;
  close(): Promise<void>;
}

export async function buildGateway(env: Env, store: AsyncSessionStore, limits: ChatLimits, logger: Logger): Promise<GatewayParts> {
  const publisher = await connectRedis(env.REDIS_URL!, (err) => logger.warn({ err: (err as Error).message }, 'redis error'));
  const queue = openQueue(env.REDIS_URL!, env.CIR_REDIS_PREFIX);
  queue.on('error', (err) => logger.warn({ err: err.message }, 'research queue error'));
  await queue.waitUntilReady();
  const chat = new GatewayChat({ store, limits, logger, queue, publisher, redisPrefix: env.CIR_REDIS_PREFIX, maxSteps: env.CIR_MAX_STEPS });
  return {
    chat,
    attach(adapters) {
      chat.useSurfaces(surfacesOf(adapters));
    },
    ping: () => publisher.ping(),
    async close() {
      await queue.close().catch(() => {});
      await publisher.quit().catch(() => {});
    },
  };
}

export interface WorkerParts {
  chat: ChatService;
  /** Starts taking jobs, rendering through these adapters' REST surfaces (already connectRest-ed). */
  start(adapters: PlatformAdapter[]): Promise<ResearchWorker>;
}

export function buildWorkerChat(
  env: Env,
  o: { engine: ResearchEngine; store: AsyncSessionStore; limits: ChatLimits; limiters: SessionLimiters; logger: Logger },
): WorkerParts {
  // Other processes share the store: nothing there is an orphan to mark at start.
  const chat = new ChatServiceImpl({ ...o, recoverOnStart: false, maxSteps: env.CIR_MAX_STEPS });
  return {
    chat,
    async start(adapters) {
      const subscriber = await connectRedis(env.REDIS_URL!, (err) => o.logger.warn({ err: (err as Error).message }, 'redis error'));
      return startResearchWorker({
        redisUrl: env.REDIS_URL!,
        redisPrefix: env.CIR_REDIS_PREFIX,
        concurrency: env.CIR_WORKER_SESSIONS,
        lockMs: env.CIR_WORKER_LOCK_MS,
        chat,
        store: o.store,
        limiters: o.limiters,
        subscriber,
        surfaceFor: surfacesOf(adapters),
        logger: o.logger.child({ component: 'worker' }),
      });
    },
  };
}

function surfacesOf(adapters: PlatformAdapter[]): (ref: ThreadRef, userId: string) => ThreadSurface | undefined {
  const byName = new Map(adapters.map((a) => [a.name as string, a]));
  return (ref, userId) => byName.get(ref.platform)?.surface?.(ref, userId);
}

export interface ChatParts {
  chat: ChatService;
  limiters?: SessionLimiters;
  gateway?: GatewayParts;
  /** worker: starts taking jobs, rendering through these adapters (connectRest-ed). */
  startWorker?: (adapters: PlatformAdapter[]) => Promise<ResearchWorker>;
}

/** The one place where the role picks the chat service the platforms will call. */
export async function buildChat(
  role: Role,
  env: Env,
  o: { engine?: ResearchEngine; store: AsyncSessionStore; limits: ChatLimits; logger: Logger },
): Promise<ChatParts> {
  if (role === 'gateway') {
    const gateway = await buildGateway(env, o.store, o.limits, o.logger);
    return { chat: gateway.chat, gateway };
  }
  if (!o.engine) throw new Error(`--role ${role} runs research: it needs the engine`);
  const limiters = await buildLimiters(env, o.limits, o.logger);
  const parts = { engine: o.engine, store: o.store, limits: o.limits, limiters, logger: o.logger };
  if (role === 'worker') {
    const w = buildWorkerChat(env, parts);
    return { chat: w.chat, limiters, startWorker: w.start };
  }
  return { chat: new ChatServiceImpl({ ...parts, maxSteps: env.CIR_MAX_STEPS }), limiters };
}
