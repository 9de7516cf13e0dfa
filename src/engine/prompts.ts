// The prompt texts are plain files in one folder (CIR_PROMPTS_DIR), so an operator can swap in other
// texts (e.g. the exact ones a model was trained with). The protocol code never depends on their
// wording: it only places them. Placeholders: {date} and {question}, {research} where they apply.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Turn } from './events.ts';
import { chatMessage, neutralise, neutraliseUntrusted, openAssistant } from './protocol.ts';

export interface PromptTexts {
  /** The system message: rules, the two functions, the code-block format, {date}. */
  system: string;
  /** The model's own voice right after `<think>\n`, restating the rules. */
  hint: string;
  /** Appended when a turn ends with neither code nor </think>. */
  nudge: string;
  /** Appended when the step budget or the context runs out. */
  conclude: string;
  /** User message for a follow-up question in a thread ({question}). */
  followup: string;
  /** User message of the optional report call ({question}, {research}, {date}). */
  report: string;
}

const FILES: Record<keyof PromptTexts, string> = {
  system: 'system.md',
  hint: 'hint.md',
  nudge: 'nudge.md',
  conclude: 'conclude.md',
  followup: 'followup.md',
  report: 'report.md',
};
/** Message bodies lose their trailing newline; continuation texts are placed byte for byte. */
const MESSAGE_BODIES = new Set<keyof PromptTexts>(['system', 'followup', 'report']);
/** The texts a model was trained with are usually just a system prompt and a hint: a folder
 *  without the others takes ours for them. */
const REQUIRED = new Set<keyof PromptTexts>(['system', 'hint']);
const BUNDLED = join(import.meta.dirname, '..', '..', 'prompts');

export async function loadPrompts(dir: string): Promise<PromptTexts> {
  const out = {} as PromptTexts;
  for (const [key, file] of Object.entries(FILES) as [keyof PromptTexts, string][]) {
    const path = join(dir, file);
    let text: string;
    try {
      text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' && !REQUIRED.has(key)) return readFile(join(BUNDLED, file), 'utf8');
        throw err;
      });
    } catch (err) {
      throw new Error(`prompt file ${path} cannot be read (CIR_PROMPTS_DIR=${dir}): ${(err as Error).message}`);
    }
    out[key] = MESSAGE_BODIES.has(key) ? text.replace(/\s+$/, '') : text;
  }
  return out;
}

/** Replaces {name} placeholders by the given values; other braces are left alone. */
export function fill(template: string, vars: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? vars[name] : whole));
}

export function formatDate(d: Date): string {
  return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
}

/**
 * The raw ChatML prompt of a session: system, earlier turns of the thread (questions and final
 * answers only, as Qwen3 keeps history), the question, then the opened assistant turn with the hint.
 * Returns the prompt and where the assistant's text starts in it.
 */
export function initialPrompt(
  texts: PromptTexts,
  question: string,
  history: Turn[],
  date: Date,
): { prompt: string; assistantStart: number } {
  const vars = { date: formatDate(date) };
  let p = chatMessage('system', fill(texts.system, vars));
  for (const t of history) {
    p += chatMessage('user', neutraliseUntrusted(t.question));
    p += chatMessage('assistant', neutraliseUntrusted(t.answer));
  }
  const q = neutralise(question.trim());
  p += chatMessage('user', history.length ? fill(texts.followup, { ...vars, question: q }) : q);
  const opened = openAssistant(fill(texts.hint, vars));
  return { prompt: p + opened, assistantStart: p.length };
}
