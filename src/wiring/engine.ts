// Composes the research engine from the validated configuration: sandbox, web tools, model client.
// Only main.ts and the CLIs call this.
import { isAbsolute, join, resolve } from 'node:path';
import type { Env } from '../config.ts';
import { createEngine } from '../engine/index.ts';
import type { ResearchEngine } from '../engine/events.ts';
import type { Logger } from '../util/log.ts';
import type { Sandbox } from '../sandbox/types.ts';
import { formatSearchResults, formatVisitError, formatVisitedPage } from '../tools/index.ts';
import { buildSandbox } from './sandbox.ts';
import { buildSearch, buildVisitor } from './tools.ts';

export async function buildEngine(
  env: Env,
  logger: Logger,
): Promise<{ engine: ResearchEngine; sandbox: Pick<Sandbox, 'status'>; close(): Promise<void> }> {
  const search = buildSearch(env);
  const visitor = buildVisitor(env);
  const sandbox = await buildSandbox(env, logger);
  const engine = createEngine({
    llm: {
      baseUrl: env.CIR_LLM_BASE_URL ?? 'http://127.0.0.1:8000/v1',
      model: env.CIR_LLM_MODEL,
      apiKey: env.CIR_LLM_API_KEY,
      temperature: env.CIR_LLM_TEMPERATURE,
      topP: env.CIR_LLM_TOP_P,
      topK: env.CIR_LLM_TOP_K,
      maxTokens: env.CIR_LLM_MAX_TOKENS,
      contextTokens: env.CIR_LLM_CONTEXT_TOKENS,
      timeoutMs: env.CIR_LLM_TIMEOUT_MS,
    },
    promptsDir: promptsDir(env.CIR_PROMPTS_DIR),
    maxSteps: env.CIR_MAX_STEPS,
    stepTimeoutMs: env.CIR_STEP_TIMEOUT_MS,
    observationTokens: env.CIR_OBSERVATION_TOKENS,
    sandbox,
    search,
    visitor,
    formatSearch: formatSearchResults,
    formatVisit: formatVisitedPage,
    formatVisitError,
    report: env.CIR_REPORT,
    logger: logger.child({ component: 'engine' }),
  });
  return {
    engine,
    // serve.ts reads the pool's status for /healthz and /metrics.
    sandbox,
    async close() {
      await Promise.allSettled([sandbox.close(), visitor.close()]);
    },
  };
}

/** The default 'prompts' means the repository's own folder wherever the command is run from. */
function promptsDir(dir: string): string {
  if (dir === 'prompts') return join(import.meta.dirname, '..', '..', 'prompts');
  return isAbsolute(dir) ? dir : resolve(dir);
}
