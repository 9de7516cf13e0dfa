// The running bot: engine + chat service + platform adapters + the HTTP server, started in order
// and stopped gracefully. serve.ts builds the parts from the configuration and hands them here, so
// this module knows the contracts only (no platform SDKs, no engine internals).
import type { ChatEvent, ChatService } from '../chat/service.ts';
import type { ThreadView } from '../chat/types.ts';
import type { ResearchEngine } from '../engine/events.ts';
import type { PlatformAdapter } from '../platforms/types.ts';
import type { Sandbox } from '../sandbox/types.ts';
import { createHealthCheck } from './health.ts';
import { createHttpServer } from './http.ts';
import type { Logger } from '../util/log.ts';
import { createMetrics, type Metrics, type SessionOutcome } from './metrics.ts';

export interface EngineParts {
  engine: ResearchEngine;
  /** For /healthz and the pool gauges; absent if the engine does not expose it. */
  sandbox?: Pick<Sandbox, 'status'>;
  close(): Promise<void> | void;
}

export interface BotOptions {
  http: { port: number; host: string };
  llm: { baseUrl: string; model: string; apiKey?: string };
  sandboxPoolSize: number;
  shutdownGraceMs: number;
  logger: Logger;
  /** The research parts (a gateway has none but the close). */
  engine: Omit<EngineParts, 'engine'> & Partial<Pick<EngineParts, 'engine'>>;
  /** Closed last. */
  store: { close(): unknown };
  /** False for a gateway: /healthz then checks no model or sandbox. Default true. */
  research?: boolean;
  /** Further /healthz checks (the shared store, Redis). */
  healthChecks?: Record<string, () => Promise<unknown>>;
  /**
   * Stops taking research from elsewhere (a worker's queue) at shutdown; runs alongside the
   * drain of running sessions and is awaited before the rest closes.
   */
  stopTaking?: () => Promise<void>;
  chat: ChatService;
  /** Built but not started; started here in order. */
  adapters: PlatformAdapter[];
  metrics?: Metrics;
}

export interface RunningBot {
  port: number;
  metrics: Metrics;
  /** Idempotent: the second call returns the first call's promise. */
  shutdown(reason: string): Promise<void>;
}

const OUTCOME: Partial<Record<string, SessionOutcome>> = {
  done: 'answered',
  failed: 'failed',
  cancelled: 'cancelled',
  interrupted: 'interrupted',
};

export async function startBot(o: BotOptions): Promise<RunningBot> {
  const { logger, chat, adapters } = o;
  const metrics = o.metrics ?? createMetrics();
  metrics.setSources({ queue: () => chat.stats(), sandbox: o.engine.sandbox ? () => o.engine.sandbox!.status() : undefined });
  const unsubscribe = chat.onEvent(observer(metrics, logger));
  for (const a of adapters) a.onRateLimit?.((waitMs) => metrics.rateLimitWait(a.name, waitMs));

  const http = createHttpServer({
    port: o.http.port,
    host: o.http.host,
    routes: adapters.flatMap((a) => a.routes),
    health: createHealthCheck({
      llm: o.llm,
      sandbox: o.engine.sandbox ? () => o.engine.sandbox!.status() : undefined,
      sandboxPoolSize: o.sandboxPoolSize,
      research: o.research,
      extra: o.healthChecks,
      platforms: () => adapters,
    }),
    metrics,
    logger,
  });

  // HTTP first: Slack's HTTP events and /healthz must answer while the gateways connect.
  const port = await http.listen();
  logger.info({ port, host: o.http.host, routes: ['GET /healthz', 'GET /metrics', ...adapters.flatMap((a) => a.routes.map((r) => `${r.method} ${r.path}`))] }, 'http listening');

  const started: PlatformAdapter[] = [];
  try {
    for (const a of adapters) {
      await a.start();
      started.push(a);
      logger.info({ platform: a.name }, `${a.name} connected`);
    }
  } catch (err) {
    logger.fatal({ err }, 'a platform failed to start');
    await Promise.allSettled(started.map((a) => a.stop()));
    await http.close();
    unsubscribe();
    throw err;
  }

  // Threads whose research a previous process left unfinished are told so (with a retry offer).
  const byName = new Map(adapters.map((a) => [a.name, a]));
  const recovered = await chat.recoverInterrupted(async (view: ThreadView) => {
    const surface = view.ref.platform === 'terminal' ? undefined : byName.get(view.ref.platform)?.surface?.(view.ref);
    if (!surface) {
      logger.warn({ sessionId: view.sessionId, platform: view.ref.platform }, 'interrupted session: no surface to tell its thread');
      return;
    }
    await surface.render(view);
  });
  if (recovered) logger.warn({ count: recovered }, 'sessions interrupted by the last shutdown were marked and their threads told');

  let stopping: Promise<void> | null = null;
  const shutdown = (reason: string) =>
    (stopping ??= (async () => {
      const stats = chat.stats();
      logger.info({ reason, running: stats.running, queued: stats.queued, graceMs: o.shutdownGraceMs }, 'shutting down: no new work');
      // 1. Stop taking new work.
      for (const r of await Promise.allSettled(adapters.map((a) => a.stop())))
        if (r.status === 'rejected') logger.warn({ err: r.reason }, 'platform stop failed');
      const taking = o.stopTaking?.().catch((err: unknown) => logger.warn({ err }, 'queue stop failed'));
      // 2. Running sessions get the grace period, then are stopped and their threads told.
      await chat.shutdown(o.shutdownGraceMs);
      await taking;
      // 3. Release the rest.
      unsubscribe();
      await http.close();
      await o.engine.close();
      await o.store.close();
      logger.info('stopped cleanly');
    })());

  return { port, metrics, shutdown };
}

/** Metrics and one log line per session milestone, each with its session id. */
function observer(metrics: Metrics, logger: Logger): (e: ChatEvent) => void {
  return (e) => {
    switch (e.kind) {
      case 'research': {
        metrics.observeEvent(e.event);
        const log = logger.child({ sessionId: e.sessionId, platform: e.ref.platform });
        const ev = e.event;
        if (ev.type === 'observation')
          log.debug({ step: ev.step, durationMs: ev.durationMs, error: ev.error !== null }, 'step done');
        else if (ev.type === 'answer')
          log.info({ steps: ev.steps, citations: ev.citations.length, usage: ev.usage, durationMs: ev.durationMs }, 'answered');
        else if (ev.type === 'error') log.warn({ message: ev.message, retryable: ev.retryable }, 'research error');
        break;
      }
      case 'session': {
        const outcome = OUTCOME[e.status];
        if (outcome) metrics.sessionEnded(outcome);
        logger
          .child({ sessionId: e.sessionId, platform: e.ref.platform })
          .info({ status: e.status, ...(e.durationMs !== null ? { durationMs: e.durationMs } : {}) }, `session ${e.status}`);
        break;
      }
      case 'rejected':
        metrics.requestRejected(e.reason);
        logger.info({ platform: e.ref.platform, reason: e.reason }, 'request refused');
        break;
      case 'render-error':
        metrics.error('render');
        logger.child({ sessionId: e.sessionId, platform: e.ref.platform }).warn({ error: e.error }, 'render failed');
        break;
    }
  };
}
