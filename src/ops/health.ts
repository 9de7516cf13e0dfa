// /healthz: is the bot able to answer right now? Model server up and serving the configured
// model, sandbox pool ready, every started platform connected.
import type { SandboxStatus } from '../sandbox/types.ts';
import { displayUrl } from '../util/scrub.ts';

export interface CheckResult {
  ok: boolean;
  detail?: string;
  [k: string]: unknown;
}

export interface HealthReport {
  ok: boolean;
  /** One line per failing check, for humans and `docker inspect`. */
  problems: string[];
  checks: Record<string, CheckResult>;
}

export interface HealthOptions {
  llm: { baseUrl: string; model: string; apiKey?: string; timeoutMs?: number };
  /** Absent when the sandbox is not built (the check then fails: research cannot run). */
  sandbox?: () => SandboxStatus;
  /** Pool size the operator configured; 0 means interpreters start on demand. */
  sandboxPoolSize?: number;
  platforms?: () => Array<{ name: string; status(): { connected: boolean; detail?: string } }>;
  /** Further checks by name (the shared store and Redis of a gateway or worker); a throw fails the check. */
  extra?: Record<string, () => Promise<unknown>>;
  /** False for a process that runs no research (a gateway): no model or sandbox checks. Default true. */
  research?: boolean;
  /** Reuse a model-server answer for this long (scrapers and orchestrators poll often). */
  cacheMs?: number;
}

export type HealthCheck = () => Promise<HealthReport>;

export function createHealthCheck(options: HealthOptions): HealthCheck {
  let cached: { at: number; result: CheckResult } | null = null;
  const cacheMs = options.cacheMs ?? 2000;

  async function model(): Promise<CheckResult> {
    if (cached && Date.now() - cached.at < cacheMs) return cached.result;
    const result = await checkModel(options.llm);
    cached = { at: Date.now(), result };
    return result;
  }

  return async () => {
    const checks: Record<string, CheckResult> = {};
    if (options.research !== false) {
      checks.model = await model();
      checks.sandbox = checkSandbox(options.sandbox, options.sandboxPoolSize ?? 1);
    }
    for (const [name, check] of Object.entries(options.extra ?? {})) {
      try {
        await check();
        checks[name] = { ok: true };
      } catch (err) {
        // The driver's message (host, code), never a URL with its credentials.
        checks[name] = { ok: false, detail: err instanceof Error ? err.message : String(err) };
      }
    }
    for (const p of options.platforms?.() ?? []) {
      let s: { connected: boolean; detail?: string };
      try {
        s = p.status();
      } catch (err) {
        s = { connected: false, detail: `status() failed: ${(err as Error).message}` };
      }
      checks[`platform:${p.name}`] = { ok: s.connected, ...(s.detail ? { detail: s.detail } : {}) };
    }
    const problems = Object.entries(checks)
      .filter(([, c]) => !c.ok)
      .map(([name, c]) => `${name}: ${c.detail ?? 'not ok'}`);
    return { ok: problems.length === 0, problems, checks };
  };
}

export { displayUrl };

/** GET {base}/models must answer and list the configured model. */
export async function checkModel(llm: HealthOptions['llm']): Promise<CheckResult> {
  const url = `${llm.baseUrl.replace(/\/+$/, '')}/models`;
  const shown = displayUrl(llm.baseUrl);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (llm.apiKey && llm.apiKey !== 'EMPTY') headers.authorization = `Bearer ${llm.apiKey}`;
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(llm.timeoutMs ?? 3000) });
    if (!res.ok) return { ok: false, detail: `${shown}/models answered HTTP ${res.status}` };
    const body = (await res.json()) as { data?: Array<{ id?: unknown }> };
    const ids = Array.isArray(body?.data) ? body.data.map((m) => String(m?.id)) : [];
    if (!ids.includes(llm.model))
      return {
        ok: false,
        detail: `model server at ${shown} does not serve ${llm.model} (serves: ${ids.join(', ') || 'nothing'})`,
      };
    return { ok: true, model: llm.model };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? 'timed out' : (e.cause?.code ?? e.message);
    return { ok: false, detail: `model server at ${shown} unreachable (${why})` };
  }
}

function checkSandbox(status: (() => SandboxStatus) | undefined, poolSize: number): CheckResult {
  if (!status) return { ok: false, detail: 'sandbox status not available (not started, or buildEngine did not return it)' };
  let s: SandboxStatus;
  try {
    s = status();
  } catch (err) {
    return { ok: false, detail: `status() failed: ${(err as Error).message}` };
  }
  const counts = { ready: s.ready, busy: s.busy, idle: s.idle, starting: s.starting, saved: s.saved, live: s.live, maxLive: s.maxLive, network: s.isolation.network };
  // With a warm pool, at least one interpreter must be up (ready, or held by a session).
  // A pool of 0 starts interpreters on demand: nothing to wait for.
  const ok = poolSize === 0 || s.ready + s.busy + s.idle > 0;
  return ok ? { ok, ...counts } : { ok, detail: `no interpreter ready (${s.starting} starting)`, ...counts };
}
