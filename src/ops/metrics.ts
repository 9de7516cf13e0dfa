// Prometheus metrics for the bot. Fed from the outside: serve.ts forwards research events and
// session outcomes (from the chat layer's hook) here, and the gauges read status() of the chat
// layer and the sandbox pool at scrape time. Nothing in engine/sandbox/tools imports this module.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ResearchEvent } from '../engine/events.ts';
import type { SandboxStatus } from '../sandbox/types.ts';

/** How a session ended, as counted in cir_sessions_total. */
export type SessionOutcome = 'answered' | 'failed' | 'cancelled' | 'interrupted';

/** What the chat layer reports about its queue (adapted from its stats()). */
export interface QueueSnapshot {
  queued: number;
  running: number;
}

export interface MetricsSources {
  queue?: () => QueueSnapshot | undefined;
  sandbox?: () => SandboxStatus | undefined;
}

export interface Metrics {
  readonly registry: Registry;
  readonly contentType: string;
  /** Feed every event of every research session (the chat layer's hook or the eval runner). */
  observeEvent(event: ResearchEvent): void;
  /** A session reached its final status (the chat layer's 'session' events). Counted here only:
   *  research events do not count outcomes, so a session cancelled at shutdown and then marked
   *  interrupted is one session. */
  sessionEnded(outcome: SessionOutcome): void;
  /** A request the chat layer refused (quota, capacity, busy, duplicate, invalid). */
  requestRejected(reason: string): void;
  /** Time spent waiting on a rate limit (platform API 429s, outbound pacing). */
  rateLimitWait(scope: string, waitMs: number): void;
  /** An error outside a research session (adapter failure, unhandled route error...). */
  error(component: string): void;
  /** Wire the gauges read at scrape time; may be called again when sources change. */
  setSources(sources: MetricsSources): void;
  /** Prometheus text exposition. */
  render(): Promise<string>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'cir_' });
  let sources: MetricsSources = {};
  const registers = [registry];

  const sessions = new Counter({
    name: 'cir_sessions_total',
    help: 'Research sessions ended, by outcome',
    labelNames: ['outcome'] as const,
    registers,
  });
  const started = new Counter({ name: 'cir_sessions_started_total', help: 'Research sessions started', registers });
  const rejected = new Counter({
    name: 'cir_requests_rejected_total',
    help: 'Research requests refused by the chat layer, by reason',
    labelNames: ['reason'] as const,
    registers,
  });
  const steps = new Counter({ name: 'cir_steps_total', help: 'Code steps executed', registers });
  const stepSeconds = new Histogram({
    name: 'cir_step_duration_seconds',
    help: 'Wall time of one code step (sandbox run including tool calls)',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60],
    registers,
  });
  const sessionSteps = new Histogram({
    name: 'cir_session_steps',
    help: 'Code steps per answered session',
    buckets: [0, 1, 2, 4, 8, 12, 16, 24, 32],
    registers,
  });
  const sessionSeconds = new Histogram({
    name: 'cir_session_duration_seconds',
    help: 'Wall time of answered sessions',
    buckets: [5, 15, 30, 60, 120, 300, 600, 1200, 1800],
    registers,
  });
  const tokens = new Counter({
    name: 'cir_model_tokens_total',
    help: 'Model tokens used by answered sessions, by kind (prompt, completion)',
    labelNames: ['kind'] as const,
    registers,
  });
  const toolCalls = new Counter({
    name: 'cir_tool_calls_total',
    help: 'Host tool calls made by sandboxed code',
    labelNames: ['tool'] as const,
    registers,
  });
  const rateWaits = new Counter({
    name: 'cir_rate_limit_waits_total',
    help: 'Times a rate limit made the bot wait, by scope',
    labelNames: ['scope'] as const,
    registers,
  });
  const rateWaitSeconds = new Counter({
    name: 'cir_rate_limit_wait_seconds_total',
    help: 'Seconds spent waiting on rate limits, by scope',
    labelNames: ['scope'] as const,
    registers,
  });
  const errors = new Counter({
    name: 'cir_errors_total',
    help: 'Errors, by component (research: sessions ending in error)',
    labelNames: ['component'] as const,
    registers,
  });

  new Gauge({
    name: 'cir_queue_length',
    help: 'Research requests waiting for a slot',
    registers,
    collect() {
      const q = safe(sources.queue);
      if (q) this.set(q.queued);
    },
  });
  new Gauge({
    name: 'cir_sessions_running',
    help: 'Research sessions running now',
    registers,
    collect() {
      const q = safe(sources.queue);
      if (q) this.set(q.running);
    },
  });
  new Gauge({
    name: 'cir_sandbox_interpreters',
    help: 'Sandbox interpreter processes by state (ready: started ahead; busy: running a block; idle: held by a session between blocks; starting)',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const s = safe(sources.sandbox);
      if (!s) return;
      this.set({ state: 'ready' }, s.ready);
      this.set({ state: 'busy' }, s.busy);
      this.set({ state: 'idle' }, s.idle);
      this.set({ state: 'starting' }, s.starting);
    },
  });
  new Gauge({
    name: 'cir_sandbox_interpreters_max',
    help: 'Interpreter processes the memory budget allows (CIR_SANDBOX_MEMORY_BUDGET_MB)',
    registers,
    collect() {
      const s = safe(sources.sandbox);
      if (s) this.set(s.maxLive);
    },
  });
  new Gauge({
    name: 'cir_sandbox_sessions_saved',
    help: 'Research sessions holding no interpreter, their Python state saved',
    registers,
    collect() {
      const s = safe(sources.sandbox);
      if (s) this.set(s.saved);
    },
  });
  new Gauge({
    name: 'cir_sandbox_saved_state_bytes',
    help: 'Saved Python state kept in the bot process, all sessions (compressed)',
    registers,
    collect() {
      const s = safe(sources.sandbox);
      if (s) this.set(s.savedChars);
    },
  });
  new Gauge({
    name: 'cir_sandbox_network_isolated',
    help: '1 when sandboxed code runs without network (OS-level cut-off), else 0',
    registers,
    collect() {
      const s = safe(sources.sandbox);
      if (s) this.set(s.isolation.network === 'netns' ? 1 : 0);
    },
  });

  for (const o of ['answered', 'failed', 'cancelled', 'interrupted'] as const) sessions.inc({ outcome: o }, 0);
  for (const k of ['prompt', 'completion'] as const) tokens.inc({ kind: k }, 0);
  // Series that exist from the start, so that rate() and alerts see the first error too.
  for (const c of ['research', 'render', 'http'] as const) errors.inc({ component: c }, 0);

  return {
    registry,
    contentType: registry.contentType,
    observeEvent(ev) {
      switch (ev.type) {
        case 'started':
          started.inc();
          break;
        case 'tool':
          toolCalls.inc({ tool: ev.name });
          break;
        case 'observation':
          steps.inc();
          stepSeconds.observe(ev.durationMs / 1000);
          break;
        case 'answer':
          sessionSteps.observe(ev.steps);
          sessionSeconds.observe(ev.durationMs / 1000);
          tokens.inc({ kind: 'prompt' }, ev.usage.promptTokens);
          tokens.inc({ kind: 'completion' }, ev.usage.completionTokens);
          break;
        case 'error':
          errors.inc({ component: 'research' });
          break;
      }
    },
    sessionEnded(outcome) {
      sessions.inc({ outcome });
    },
    requestRejected(reason) {
      rejected.inc({ reason });
    },
    rateLimitWait(scope, waitMs) {
      rateWaits.inc({ scope });
      rateWaitSeconds.inc({ scope }, Math.max(0, waitMs) / 1000);
    },
    error(component) {
      errors.inc({ component });
    },
    setSources(next) {
      sources = { ...sources, ...next };
    },
    render: () => registry.metrics(),
  };
}

/** A status source that throws must not break the scrape. */
function safe<T>(fn: (() => T | undefined) | undefined): T | undefined {
  try {
    return fn?.();
  } catch {
    return undefined;
  }
}
