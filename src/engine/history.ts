// Follow-up history, bounded. The model was never trained with earlier turns (the reference has no
// history; RL prompts were capped at 3000 tokens), so a thread's earlier questions and answers are
// kept small: newest first, each answer cut, its source list reduced to a few URLs, and the
// whole within a token budget that keeps the opening prompt near what the model saw.
import type { Turn } from './events.ts';
import type { TokenCounter } from './tokens.ts';

export const HISTORY_BUDGET = {
  /** All earlier turns together (questions, answers, source lines). */
  totalTokens: 1500,
  /** One earlier answer's text. */
  answerTokens: 400,
  /** One earlier question. */
  questionTokens: 150,
  /** Source lines kept per earlier answer (as "[n] URL", titles dropped). */
  sources: 5,
} as const;

const SOURCES = /\n+Sources:\n([\s\S]*)$/;

/** An earlier answer shortened: its text cut to the budget, its sources as bare "[n] URL" lines. */
async function shorten(t: Turn, tokens: TokenCounter, signal?: AbortSignal): Promise<Turn> {
  const m = SOURCES.exec(t.answer);
  const body = m ? t.answer.slice(0, m.index) : t.answer;
  const q = await tokens.truncate(t.question.trim(), HISTORY_BUDGET.questionTokens, signal);
  const a = await tokens.truncate(body.trim(), HISTORY_BUDGET.answerTokens, signal);
  let answer = a.truncated ? `${a.text} …` : a.text;
  if (m) {
    const lines = m[1]
      .split('\n')
      .map((l) => /^(\[\d+\])\s.*?(https?:\/\/\S+)\s*$/.exec(l.trim()))
      .filter((x): x is RegExpExecArray => x !== null)
      .map((x) => `${x[1]} ${x[2]}`);
    const kept = lines.slice(0, HISTORY_BUDGET.sources);
    if (kept.length) answer += `\n\nSources:\n${kept.join('\n')}${lines.length > kept.length ? `\n(${lines.length - kept.length} more)` : ''}`;
  }
  return { question: q.truncated ? `${q.text} …` : q.text, answer };
}

/** The newest earlier turns, shortened, that fit the budget together; in thread order. */
export async function boundHistory(history: readonly Turn[], tokens: TokenCounter, signal?: AbortSignal): Promise<Turn[]> {
  const kept: Turn[] = [];
  let used = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    const t = await shorten(history[i], tokens, signal);
    const cost = await tokens.count(`${t.question}\n${t.answer}`, signal);
    if (used + cost > HISTORY_BUDGET.totalTokens) break;
    used += cost;
    kept.unshift(t);
  }
  return kept;
}
