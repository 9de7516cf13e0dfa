// Before an evaluation spends hours: is the research model served where configured, and does the
// judge answer at all? Without this, a missing server turns every question into an error and the
// run ends with an empty report.
import type { Env } from '../config.ts';
import { checkModel, displayUrl } from '../ops/health.ts';

/** One line per problem; empty when both endpoints look usable. */
export async function preflight(env: Env, timeoutMs = 5000): Promise<string[]> {
  const [model, judge] = await Promise.all([
    checkModel({ baseUrl: env.CIR_LLM_BASE_URL!, model: env.CIR_LLM_MODEL, apiKey: env.CIR_LLM_API_KEY, timeoutMs }),
    checkJudge(env.CIR_JUDGE_BASE_URL!, env.CIR_JUDGE_API_KEY, timeoutMs),
  ]);
  const problems: string[] = [];
  if (!model.ok) problems.push(`research model: ${model.detail} (CIR_LLM_BASE_URL, CIR_LLM_MODEL)`);
  if (judge) problems.push(`judge: ${judge} (CIR_JUDGE_BASE_URL, CIR_JUDGE_API_KEY)`);
  return problems;
}

/** The judge need not list its models (not every compatible service does): any HTTP answer but an
 *  authentication refusal counts as reachable. */
async function checkJudge(baseUrl: string, apiKey: string, timeoutMs: number): Promise<string | null> {
  const shown = displayUrl(baseUrl);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (apiKey && apiKey !== 'EMPTY') headers.authorization = `Bearer ${apiKey}`;
  try {
    const res = await fetch(`${baseUrl.replace(/\/+$/, '')}/models`, { headers, signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    if (res.status === 401 || res.status === 403) return `${shown} refused the key (HTTP ${res.status})`;
    return null;
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return `${shown} unreachable (${e.name === 'TimeoutError' ? 'timed out' : (e.cause?.code ?? e.message)})`;
  }
}
