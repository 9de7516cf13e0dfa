// Reading what the model wrote in one turn. Tolerant by design: the model sometimes omits the
// newline after <start_code>, writes ```py, leaves part of a fence or of the stop string in the
// block, forgets <end_code> and ends its turn, or is cut by the token limit mid-block.
import { END_CODE, IM_END, START_CODE, THINK_CLOSE } from './protocol.ts';

/** How the server ended the turn: at our stop string, at end-of-sequence, or at max_tokens. */
export type Finish = 'stop' | 'eos' | 'length';

export type TurnKind =
  /** A code block to run. */
  | { kind: 'code'; code: string }
  /** A code block opened but cut off by the token limit: not run. */
  | { kind: 'cut-code' }
  /** The model stopped at <end_code> without any code block in the turn. */
  | { kind: 'no-code' }
  /** The reasoning is closed: the final answer is (being) written. */
  | { kind: 'answer' }
  /** Neither code nor </think>: the model ended its turn (or was cut) without answering. */
  | { kind: 'none' };

const OPEN_FENCE = /^[ \t]*```[ \t]*(?:python3|python|py)?[ \t]*\r?\n?/i;
const FENCE_LINE = /^[ \t]*```[ \t]*$/;

/** Classifies one turn's generated text (the stop string already excluded by the server). */
export function classifyTurn(text: string, finish: Finish): TurnKind {
  const start = text.lastIndexOf(START_CODE);
  const thinkClose = text.lastIndexOf(THINK_CLOSE);
  if (finish === 'stop') {
    // The model asked for its code to run. A block is the text after the last <start_code>;
    // failing that, a bare ```python fence (the model forgot the tag).
    if (start >= 0) return { kind: 'code', code: extractCode(text.slice(start + START_CODE.length)) };
    const bare = lastBareFence(text);
    return bare === null ? { kind: 'no-code' } : { kind: 'code', code: bare };
  }
  if (thinkClose >= 0 && thinkClose > start) return { kind: 'answer' };
  if (start >= 0) {
    const body = text.slice(start + START_CODE.length);
    // Cut by the token limit inside an unclosed block: the code is incomplete, do not run it.
    if (finish === 'length' && !hasClosingFence(body)) return { kind: 'cut-code' };
    // Otherwise the model forgot <end_code> (ended its turn after the block): run it.
    return { kind: 'code', code: extractCode(body) };
  }
  return { kind: 'none' };
}

/** The Python source inside a block body (what follows <start_code>). */
export function extractCode(body: string): string {
  let code = body.replace(/^\s*\n/, '').replace(/^[ \t]*<start_code>\s*/, '');
  code = code.replace(OPEN_FENCE, '');
  const lines = code.split('\n');
  // Cut at the last fence-only line: anything after it is stray prose or fence text.
  for (let i = lines.length - 1; i >= 0; i--) {
    if (FENCE_LINE.test(lines[i])) {
      code = lines.slice(0, i).join('\n');
      return tidyEnd(code);
    }
  }
  return tidyEnd(code);
}

function tidyEnd(code: string): string {
  let c = code.replace(/\s+$/, '');
  c = stripPartialSuffix(c, END_CODE).replace(/\s+$/, '');
  c = stripPartialSuffix(c, IM_END).replace(/\s+$/, '');
  // A fence left at the end of the last line (```), or part of one.
  c = c.replace(/`{1,3}$/, '').replace(/\s+$/, '');
  return c;
}

/** Removes `marker` or any non-empty prefix of it from the end of `s`. */
export function stripPartialSuffix(s: string, marker: string): string {
  if (s.endsWith(marker)) return s.slice(0, -marker.length);
  for (let n = marker.length - 1; n >= 1; n--) {
    if (s.endsWith(marker.slice(0, n))) return s.slice(0, -n);
  }
  return s;
}

function hasClosingFence(body: string): boolean {
  const rest = body.replace(/^\s*\n/, '').replace(OPEN_FENCE, '');
  return rest.split('\n').some((l) => FENCE_LINE.test(l)) || /\S[ \t]*```\s*$/.test(rest);
}

function lastBareFence(text: string): string | null {
  const m = [...text.matchAll(/```[ \t]*(?:python3|python|py)[ \t]*\r?\n([\s\S]*?)(?:\n[ \t]*```[ \t]*(?:\n|$)|$)/gi)];
  const last = m.at(-1);
  return last ? tidyEnd(last[1]) : null;
}

/**
 * The final answer from the text that follows the `</think>` closing the reasoning: without any
 * code the model wrote after it (code belongs before `</think>`) or a trailing end-of-turn token.
 */
export function cleanAnswer(afterThink: string): string {
  let a = afterThink.split(START_CODE)[0];
  a = a.replace(/(?:<\|im_end\|>|<\|endoftext\|>)\s*$/, '');
  return a.trim();
}
