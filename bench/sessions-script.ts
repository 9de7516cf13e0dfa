// What each benchmark session's "model" writes, and what its blocks must print if their Python
// state survived: block 1 sets a variable and defines a function, block 2 uses them and searches,
// block 3 uses all of it and visits a page, then the answer. Values differ per session, so one
// session seeing another's state would fail the check too.
import type { TurnSpec } from '../test/fakes/llm.ts';

export const question = (i: number): string => `bench session #${i}: what do the fake pages say?`;
export const WARM_UP = 'bench warm-up: run one block';

/** Streamed pieces per second of model time (a thinking model streams some 30-60 tokens a second). */
const PIECES_PER_SECOND = 40;

const code = (body: string) => `<start_code>\n\`\`\`python\n${body}\n\`\`\`\n<end_code>\n`;

// Thinking text in front of each block, as a reasoning model writes (and the engine parses).
const THOUGHT =
  'I should look at what I already have, then decide which search or page would answer the ' +
  'question best. The earlier results give me a start; I will build on the values computed before ' +
  'instead of recomputing them, and check the page itself rather than trusting a snippet. ';

export function blocks(i: number, visitUrl: string): string[] {
  return [
    `base = ${i} * 7919\ndef label(x):\n    return f"S${i}:{x}"\nprint(label(base))`,
    `hits = web_search("bench topic ${i}")\nprint(label(base + 1), "hits" if hits else "none")`,
    `page = web_visit("${visitUrl}")\nprint(label(base + 2), len(hits) > 0, len(page) > 0)`,
  ];
}

/** What block `n` (1-based) of session `i` prints when its earlier variables are there. */
export function expected(i: number, n: number): string {
  const v = i * 7919 + (n - 1);
  return n === 1 ? `S${i}:${v}` : n === 2 ? `S${i}:${v} hits` : `S${i}:${v} True True`;
}

export const visitUrl = (i: number, articleUrls: string[]): string => articleUrls[i % articleUrls.length]!;

/** The turn for a completions prompt: which session (-1: warm-up or unknown) and which turn. */
export function sessionTurn(prompt: string, articleUrls: string[], turnMs: number): { session: number; turn: number; spec: TurnSpec } {
  // Turns already taken = observations the prompt holds (each follows an <end_code> the engine kept).
  const turn = prompt.split('<end_code>\n```output').length - 1;
  const m = /bench session #(\d+):/.exec(prompt);
  if (!m) {
    const text = turn === 0 && prompt.includes(WARM_UP) ? code('print(1)') : '</think>\n\nWarm.';
    return { session: -1, turn, spec: { text, chunk: 64 } };
  }
  const i = Number(m[1]);
  const url = visitUrl(i, articleUrls);
  const text = turn < 3 ? `${THOUGHT}\n${code(blocks(i, url)[turn]!)}` : `${THOUGHT}</think>\n\nThe page says what it says [1](${url}).`;
  const chunk = Math.max(1, Math.ceil(text.length / ((turnMs / 1000) * PIECES_PER_SECOND)));
  return { session: i, turn, spec: { text, chunk, durationMs: turnMs } };
}
