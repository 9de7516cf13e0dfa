// `npm run -s cir-bot -- serve`: the bot on every platform whose credentials are configured, one
// HTTP port for platform routes, /healthz and /metrics, and a graceful stop on SIGTERM/SIGINT.
// `--role` picks what this process does (src/wiring/roles.ts): everything (all, the default), the
// platform connections only (gateway), or the research only (worker).
import { secretValues, type Env } from '../config.ts';
import { chatLimitsFromEnv } from '../chat/limits.ts';
import type { ChatService } from '../chat/service.ts';
import { startBot, type BotOptions, type EngineParts } from '../ops/bot.ts';
import { displayUrl } from '../ops/health.ts';
import { createLogger, type Logger } from '../util/log.ts';
import type { PlatformAdapter } from '../platforms/types.ts';
import type { SessionLimiters } from '../chat/limiters.ts';
import { buildChat, roleProblem, ROLES, within, type GatewayParts, type Role } from '../wiring/roles.ts';
import { buildStore } from '../wiring/store.ts';
import type { ResearchWorker } from '../chat/distributed/worker.ts';
import type { AsyncSessionStore } from '../chat/session-store.ts';
import { preflight } from '../doctor/checks.ts';
import { buildEngine } from '../wiring/engine.ts';
import { commandLine, configOrReport, EXIT_USAGE } from './common.ts';

type AdapterFactory = (deps: { env: Env; chat: ChatService; logger: Logger }) => PlatformAdapter;

/** Platforms, in start order: the variable whose presence enables each, and where it lives.
 *  Loaded only when configured, so an unused platform's SDK is never imported. */
const PLATFORMS: Array<{ name: 'slack' | 'discord'; enabledBy: keyof Env; module: string; factory: string }> = [
  { name: 'slack', enabledBy: 'SLACK_BOT_TOKEN', module: '../platforms/slack/index.ts', factory: 'createSlackAdapter' },
  { name: 'discord', enabledBy: 'DISCORD_TOKEN', module: '../platforms/discord/index.ts', factory: 'createDiscordAdapter' },
];

const USAGE =
  'usage: npm run -s cir-bot -- serve [--role all|gateway|worker]\n\nRuns the bot on every platform whose credentials are set (SLACK_BOT_TOKEN, DISCORD_TOKEN),\n' +
  'with GET /healthz and GET /metrics on CIR_HTTP_PORT. SIGTERM/SIGINT stop it gracefully.\n\n' +
  '  --role all      (default) one process: platform connections and research\n' +
  '  --role gateway  platform connections only: admits requests and queues them (needs REDIS_URL, DATABASE_URL)\n' +
  '  --role worker   research only: takes queued sessions, answers through the platforms\' APIs (same)\n';

export default async function serve(argv: string[]): Promise<number> {
  const args = commandLine('cir-bot serve', USAGE, argv, { positionals: false, string: ['role'] });
  if (typeof args === 'number') return args;
  const role = (args.flags.role ?? 'all') as Role;
  if (!ROLES.includes(role)) {
    process.stderr.write(`cir-bot serve: --role must be one of ${ROLES.join(', ')}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const env = configOrReport('cir-bot serve');
  if (!env) return EXIT_USAGE;
  const problem = roleProblem(role, env);
  if (problem) {
    process.stderr.write(`cir-bot serve: ${problem}\n`);
    return EXIT_USAGE;
  }
  const logger = createLogger(env.CIR_LOG_LEVEL, 2, secretValues(env)).child({ role });

  // Signals that arrive while starting are remembered and honoured once started.
  let signalled: string | null = null;
  let onSignal: (sig: string) => void = (sig) => (signalled = sig);
  const handler = (sig: NodeJS.Signals) => onSignal(sig);
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);

  let engine: EngineParts | undefined;
  let store: AsyncSessionStore | undefined;
  let limiters: SessionLimiters | undefined;
  let gateway: GatewayParts | undefined;
  let worker: ResearchWorker | undefined;
  try {
    if (role !== 'gateway') {
      engine = await buildEngine(env, logger);
      logIsolation(engine, logger);
    }
    store = await buildStore(env, logger);
    const limits = chatLimitsFromEnv(env);
    const built = await buildChat(role, env, { engine: engine?.engine, store, limits, logger });
    const { chat, startWorker } = built;
    ({ limiters, gateway } = built);

    const adapters: PlatformAdapter[] = [];
    for (const p of PLATFORMS) {
      if (!env[p.enabledBy]) continue;
      const mod = (await import(p.module)) as Record<string, AdapterFactory>;
      adapters.push(mod[p.factory]({ env, chat, logger: logger.child({ platform: p.name }) }));
    }
    if (adapters.length === 0)
      logger.warn(
        'no platform configured: set SLACK_BOT_TOKEN (+ SLACK_APP_TOKEN or SLACK_SIGNING_SECRET) and/or DISCORD_TOKEN (+ DISCORD_APPLICATION_ID). Serving /healthz and /metrics only.',
      );
    gateway?.attach(adapters);
    // A worker holds no platform connection: it answers through the Web/REST APIs only.
    if (role === 'worker') for (const a of adapters) await a.connectRest?.();

    const parts: BotOptions['engine'] = engine ?? { close: () => gateway?.close() };
    const bot = await startBot({
      http: { port: env.CIR_HTTP_PORT, host: env.CIR_HTTP_HOST },
      llm: { baseUrl: env.CIR_LLM_BASE_URL!, model: env.CIR_LLM_MODEL, apiKey: env.CIR_LLM_API_KEY },
      sandboxPoolSize: env.CIR_SANDBOX_POOL_SIZE,
      shutdownGraceMs: env.CIR_SHUTDOWN_GRACE_MS,
      logger,
      engine: parts,
      store,
      chat,
      adapters: role === 'worker' ? [] : adapters,
      research: role !== 'gateway',
      stopTaking: async () => worker?.close(),
      // What gateways and workers share: /healthz fails when this process cannot reach it.
      healthChecks:
        role === 'all'
          ? undefined
          : {
              store: within(2000, () => store!.schemaVersion()),
              redis: within(2000, async () => (gateway ? gateway.ping() : worker?.ping())),
            },
    });
    if (startWorker) {
      // Not started by startBot (no event connection), but their API waits still count.
      for (const a of adapters) a.onRateLimit?.((waitMs) => bot.metrics.rateLimitWait(a.name, waitMs));
      worker = await startWorker(adapters);
      logger.info({ sessions: env.CIR_WORKER_SESSIONS, lockMs: env.CIR_WORKER_LOCK_MS }, 'worker taking research jobs');
    }
    logger.info(
      { port: bot.port, platforms: adapters.map((a) => a.name), model: env.CIR_LLM_MODEL, llm: displayUrl(env.CIR_LLM_BASE_URL!) },
      `cir-bot ${role === 'all' ? 'serving' : role} on :${bot.port}${adapters.length ? ` for ${adapters.map((a) => a.name).join(' and ')}` : ' (no platform)'}`,
    );

    // The cheap checks of `doctor`, after start-up so that readiness never waits on them. A bot under a
    // supervisor must come up even while its model server is still loading (compose starts both at
    // once): each problem is logged once, with its fix, and /healthz keeps reporting the model.
    if (role !== 'gateway') void preflight(env, logger).then((problems) => {
      for (const p of problems) logger.error({ check: p.check, fix: p.fix }, `${p.check}: ${p.detail}. Fix: ${p.fix ?? ''}`);
      if (!problems.length) logger.info('pre-flight: the model server lists the model and the search backend answers');
    });

    const sig = await new Promise<string>((resolve) => {
      if (signalled) resolve(signalled);
      else onSignal = resolve;
    });
    // A second signal while draining means "now": the store is SQLite (WAL), so it stays consistent.
    onSignal = (again) => {
      logger.warn({ signal: again }, 'second signal: exiting without waiting for running sessions');
      process.exit(130);
    };
    await bot.shutdown(sig);
    await limiters?.close();
    // Everything is closed; should a library still hold the event loop open, do not hang the
    // orchestrator's stop (the timer does not itself keep the process alive).
    setTimeout(() => process.exit(process.exitCode ?? 0), 5000).unref();
    return 0;
  } catch (err) {
    logger.fatal({ err }, 'cir-bot could not start');
    await worker?.close().catch(() => {});
    await engine?.close();
    await gateway?.close();
    await store?.close();
    await limiters?.close();
    return 1;
  } finally {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  }
}

function logIsolation(engine: EngineParts, logger: Logger): void {
  const isolation = engine.sandbox?.status().isolation;
  logger.info(
    { network: isolation?.network ?? 'unknown', reason: isolation?.reason, fsPermission: isolation?.fsPermission },
    isolation?.network === 'netns'
      ? 'sandbox isolation: network cut off (netns), Node permission model'
      : `sandbox isolation: NO network cut-off${isolation?.reason ? ` (${isolation.reason})` : ''}`,
  );
}
