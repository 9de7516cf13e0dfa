// The LLM judge: any OpenAI-compatible chat endpoint (CIR_JUDGE_*), separate from the research
// model, grading on SimpleQA's scheme with our own prompt (judge-prompt.md beside this file).
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';

export type Grade = 'CORRECT' | 'INCORRECT' | 'NOT_ATTEMPTED';

export interface JudgeInput {
  question: string;
  target: string;
  predicted: string;
}

export interface Judge {
  grade(input: JudgeInput, signal?: AbortSignal): Promise<Grade>;
}

export interface JudgeOptions {
  baseUrl: string;
  model: string;
  apiKey?: string;
  timeoutMs?: number;
  /** Override the grading prompt (placeholders {question}, {target}, {predicted}). */
  template?: string;
}

const TEMPLATE_FILE = new URL('./judge-prompt.md', import.meta.url);

export function judgePrompt(input: JudgeInput, template = readFileSync(TEMPLATE_FILE, 'utf8')): string {
  // One pass, so text inside the answer that looks like a placeholder is left alone.
  const values: Record<string, string> = {
    question: input.question,
    target: input.target,
    predicted: input.predicted.trim() || '(no answer)',
  };
  return template.replace(/\{(question|target|predicted)\}/g, (_, k: string) => values[k]);
}

/** Reads the judge's reply; tolerant of thinking blocks, punctuation and spelled-out grades. */
export function parseGrade(reply: string): Grade {
  const text = reply.replace(/<think>[\s\S]*?<\/think>/g, '').trim();
  const first = /^[\s*"'`(]*([ABC])(?![A-Za-z])/.exec(text);
  const letters: Record<string, Grade> = { A: 'CORRECT', B: 'INCORRECT', C: 'NOT_ATTEMPTED' };
  if (first) return letters[first[1]];
  const word = /\b(NOT[_ ]ATTEMPTED|INCORRECT|CORRECT)\b/i.exec(text);
  if (word) return word[1].toUpperCase().replace(' ', '_') as Grade;
  const last = [...text.matchAll(/(?<![A-Za-z])([ABC])(?![A-Za-z])/g)].pop();
  if (last) return letters[last[1]];
  throw new Error(`judge reply has no grade: ${JSON.stringify(reply.slice(0, 200))}`);
}

export function createJudge(options: JudgeOptions): Judge {
  const client = new OpenAI({
    baseURL: options.baseUrl,
    apiKey: options.apiKey || 'EMPTY',
    timeout: options.timeoutMs ?? 120_000,
    maxRetries: 3,
  });
  const template = options.template ?? readFileSync(TEMPLATE_FILE, 'utf8');
  return {
    async grade(input, signal) {
      const completion = await client.chat.completions.create(
        {
          model: options.model,
          messages: [{ role: 'user', content: judgePrompt(input, template) }],
          temperature: 0,
          max_tokens: 2048,
        },
        { signal },
      );
      return parseGrade(completion.choices[0]?.message?.content ?? '');
    },
  };
}
