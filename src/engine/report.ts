// The optional second call (CIR_REPORT): "write a report from this research". A fresh prompt whose
// user message carries the question and the whole research transcript (defused, since it holds
// the protocol's tags); the report's final text replaces the research answer.
import type { SessionDeps } from './session.ts';
import { cleanAnswer } from './parse.ts';
import { fill, formatDate } from './prompts.ts';
import { IM_START, THINK_CLOSE, chatMessage, neutralise } from './protocol.ts';

export async function writeReport(
  deps: Pick<SessionDeps, 'llm' | 'tokens' | 'texts' | 'maxTokens' | 'contextTokens' | 'now'>,
  question: string,
  transcript: string,
  signal: AbortSignal,
): Promise<string | null> {
  const vars = { date: formatDate(deps.now()) };
  // No system message: the research rules (code, tools) do not apply to writing the report.
  let prompt = chatMessage('user', fill(deps.texts.report, { ...vars, question: neutralise(question), research: neutralise(transcript) }));
  prompt += `${IM_START}assistant\n`;
  const used = await deps.tokens.count(prompt, signal);
  const room = deps.contextTokens - used;
  if (room < 256) return null;
  const r = await deps.llm.generate({ prompt, maxTokens: Math.min(deps.maxTokens, room), stop: [], signal });
  const i = r.text.lastIndexOf(THINK_CLOSE);
  const text = cleanAnswer(i >= 0 ? r.text.slice(i + THINK_CLOSE.length) : r.text);
  return text || null;
}
