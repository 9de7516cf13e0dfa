// Before an evaluation spends hours: is the research model served where configured, and does the
// judge answer at all? Without this, a missing server turns every question into an error and the
// run ends with an empty report.
import type { Env } from '../config.ts';
import { checkModel, displayUrl } from '../ops/health.ts';

/** One line per problem; empty when both endpoints look usable. */
export async function preflight(env: Env, timeoutMs = 5000): Promise<string[]> {
  const [model, judge] = await Promise.all([
    checkModel({ baseUrl: env.CIR_LLM_BASE_URL!, model: env.CIR_LLM_MODEL, apiKey: env.CIR_LLM_API_KEY, timeoutMs }),
    checkJudge(env.CIR_JUDGE_BASE_URL!, env.CIR_JUDGE_MODEL!, env.CIR_JUDGE_API_KEY, timeoutMs),
  ]);
  const problems: string[] = [];
  if (!model.ok) problems.push(`research model: ${model.detail} (CIR_LLM_BASE_URL, CIR_LLM_MODEL)`);
  if (judge) problems.push(`judge: ${judge} (check CIR_JUDGE_BASE_URL, CIR_JUDGE_MODEL, CIR_JUDGE_API_KEY)`);
  return problems;
}

/**
 * One real one-question chat completion with the judge's model: a judge that lists models but
 * answers 400 to a grading request (wrong model name, chat template missing) fails here, before
 * hours of research, not at the first grade.
 */
async function checkJudge(baseUrl: string, model: string, apiKey: string, timeoutMs: number): Promise<string | null> {
  const shown = displayUrl(baseUrl);
  const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/json' };
  if (apiKey && apiKey !== 'EMPTY') headers.authorization = `Bearer ${apiKey}`;
  const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'Reply with the single word: ready' }], max_tokens: 5, temperature: 0 });
  try {
    const res = await fetch(`${baseUrl.replace(/\/+$/, '')}/chat/completions`, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    if (res.status === 401 || res.status === 403) return `${shown} refused the key (HTTP ${res.status})`;
    if (!res.ok) return `${shown} answered a test question with HTTP ${res.status}: ${short(text, apiKey)}`;
    const json = JSON.parse(text) as { choices?: { message?: { content?: unknown } }[] };
    if (typeof json.choices?.[0]?.message?.content !== 'string') return `${shown} answered a test question without choices[0].message.content`;
    return null;
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (e instanceof SyntaxError) return `${shown} answered a test question with something that is not JSON`;
    return `${shown} unreachable (${e.name === 'TimeoutError' ? 'timed out' : (e.cause?.code ?? e.message)})`;
  }
}

/** An error body as one short line, without the key (a server may echo the request back). */
function short(text: string, apiKey: string): string {
  let t = text.replace(/\s+/g, ' ').trim();
  if (apiKey && apiKey.length >= 8) t = t.split(apiKey).join('[redacted]');
  t = t.replace(/Bearer\s+[^\s"',}]+/gi, 'Bearer [redacted]');
  return t.length > 200 ? `${t.slice(0, 199)}…` : t || '(empty body)';
}
