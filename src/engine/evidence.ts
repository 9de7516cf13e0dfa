// The words a claim and a passage are compared by: content words (stop words dropped, crudely
// stemmed so "elected"/"elects" meet) and the terms a claim stands or falls by — numbers, names
// and quoted phrases. Plain functions over strings; no model, no dictionary beyond the stop list.

/** Function words and sentence openers that carry no fact. */
const STOP = new Set(
  (
    'a an the and or but nor so yet of in on at to for from by with without within into onto over under ' +
    'about above after against along among around as before behind below beneath beside between beyond ' +
    'during except inside near off out outside since through throughout till toward towards until upon via ' +
    'is are was were be been being am has have had having do does did doing will would shall should can ' +
    'could may might must it its it’s it\'s this that these those there here their theirs them they he him ' +
    'his she her hers we us our you your i me my mine who whom whose which what when where why how than ' +
    'then also too very just only not no yes all any both each few more most other some such own same ' +
    'according reported reports report says said say stated states state notes noted per based while ' +
    'however although though because if whether one ones new news page source sources article website'
  ).split(/\s+/),
);

/** A number as written ("1,234.50", "14th", "5.2") in a canonical form ("1234.5", "14", "5.2"). */
function canonicalNumber(raw: string): string {
  let s = raw.replace(/,/g, '');
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s.replace(/^0+(?=\d)/, '');
}

const NUMBER = /\d[\d,]*(?:\.\d+)?/g;

export function numbersIn(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(NUMBER)) {
    // "1,2" inside a list of markers or a version string still counts: a claim's digits must appear.
    out.add(canonicalNumber(m[0].replace(/,$/, '')));
  }
  return out;
}

export function stem(word: string): string {
  let w = word.toLowerCase().replace(/[’']s$/, '').replace(/[’']/g, '');
  if (w.length > 4 && w.endsWith('ies')) w = `${w.slice(0, -3)}y`;
  else if (w.length > 4 && /(?:ches|shes|sses|xes|zes)$/.test(w)) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is')) w = w.slice(0, -1);
  if (w.length > 5 && w.endsWith('ing')) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith('ed')) w = w.slice(0, -2);
  else if (w.length > 4 && w.endsWith('ly')) w = w.slice(0, -2);
  return w;
}

const WORD = /[\p{L}][\p{L}\p{M}’'-]*/gu;

/** The stems of a text's content words (letters only: numbers are checked on their own). */
export function contentWords(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(WORD)) {
    for (const part of m[0].split('-')) {
      if (part.length < 2) continue;
      const lower = part.toLowerCase();
      if (STOP.has(lower)) continue;
      out.add(stem(lower));
    }
  }
  return out;
}

/**
 * Names a claim commits to, as runs of capitalised words ("Lucia Brandt", "Kestrel Bay Bridge"):
 * a run must appear in the passage as a run, so "Tolle Imsen" is not found in "Halvard Imsen ...
 * the Tolle crossing". The claim's first word counts only when the next is capitalised too.
 * All-capital words (CEO, EU) are left to the word overlap: they are often titles, not names.
 */
export function namesIn(claim: string): string[][] {
  const words = [...claim.matchAll(WORD)].map((m) => ({ w: m[0].replace(/[’']s$/, ''), at: m.index ?? 0, end: (m.index ?? 0) + m[0].length }));
  const isName = (w: string) => /^\p{Lu}/u.test(w) && !/^\p{Lu}+$/u.test(w) && !STOP.has(w.toLowerCase());
  const runs: string[][] = [];
  let run: string[] = [];
  words.forEach((x, i) => {
    const adjacent = i > 0 && /^[\s-]*$/.test(claim.slice(words[i - 1].end, x.at));
    if (isName(x.w) && !(i === 0 && !isName(words[1]?.w ?? ''))) {
      if (!adjacent) flush();
      run.push(...x.w.toLowerCase().split('-').filter(Boolean));
    } else flush();
  });
  flush();
  return runs;
  function flush() {
    if (run.length) runs.push(run);
    run = [];
  }
}

/** Word forms match on a shared stem-ish prefix: "American"/"America", "Poland"/"Poland's". */
export function sameWord(a: string, b: string): boolean {
  const k = Math.max(4, Math.min(a.length, b.length) - 3);
  return a.length >= k && b.length >= k && a.slice(0, k) === b.slice(0, k) && Math.abs(a.length - b.length) <= 3;
}

/** Whether the passage holds the (stemmed) word, or a close form of it ("orbital"/"orbit"). */
export function hasWord(p: Passage, w: string): boolean {
  if (p.words.has(w)) return true;
  if (!p.prefixes.has(w.slice(0, 4))) return false;
  for (const x of p.words) if (sameWord(x, w)) return true;
  return false;
}

/** Whether a passage's words hold a name run in order and adjacent. */
export function hasRun(tokens: readonly string[], run: readonly string[]): boolean {
  outer: for (let i = 0; i + run.length <= tokens.length; i++) {
    for (let j = 0; j < run.length; j++) if (tokens[i + j] !== run[j] && !sameWord(tokens[i + j], run[j])) continue outer;
    return true;
  }
  return false;
}

const NEGATION = /\b(?:not|no|never|none|neither|nor|without|cannot)\b|n[’']t\b/i;

export function negated(text: string): boolean {
  return NEGATION.test(text);
}

/** Phrases the claim puts in quotation marks: they must appear as written. */
export function quotedPhrases(claim: string): string[] {
  const out: string[] = [];
  for (const m of claim.matchAll(/["“”]([^"“”\n]{3,200})["“”]/g)) out.push(normalise(m[1]).toLowerCase());
  return out;
}

export function normalise(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** One candidate passage of a source: a sentence, or two adjacent ones (a claim may span both). */
export interface Passage {
  text: string;
  /** Lower-case words in order (for name runs). */
  tokens: string[];
  /** The words of the page's title: a sentence says "It opened in 1998" about the page's subject. */
  context: string[];
  negated: boolean;
  /** First four letters of each content word: a cheap gate before the fuzzy word match. */
  prefixes: Set<string>;
  words: Set<string>;
  numbers: Set<string>;
  lower: string;
}

/** Most pages are far below this; it bounds the work one answer can cause. */
export const MAX_EVIDENCE_CHARS = 300_000;
const MAX_SENTENCE_CHARS = 1_200;

/** Sentence boundaries: end punctuation then a space and a capital, digit or quote; or a line break. */
function sentences(text: string): string[] {
  const out: string[] = [];
  for (const block of text.slice(0, MAX_EVIDENCE_CHARS).split(/\n+/)) {
    for (const s of block.split(/(?<=[.!?]["”’)]?)\s+(?=[\p{Lu}\d"“(])/u)) {
      const t = normalise(s);
      if (t.length < 2) continue;
      // A run-on block (a table flattened to text) is cut into pieces a quote can hold.
      for (let i = 0; i < t.length; i += MAX_SENTENCE_CHARS) out.push(t.slice(i, i + MAX_SENTENCE_CHARS));
    }
  }
  return out;
}

export function tokensOf(text: string): string[] {
  return [...text.matchAll(WORD)].flatMap((m) => m[0].toLowerCase().replace(/[’']s$/, '').split('-').filter(Boolean));
}

function passage(text: string, context: string[]): Passage {
  const tokens = tokensOf(text);
  const words = contentWords(text);
  return { text, tokens, context, negated: negated(text), prefixes: new Set([...words].map((w) => w.slice(0, 4))), words, numbers: numbersIn(text), lower: text.toLowerCase() };
}

/** The passages (sentences) of one source's evidence text, built once per answer. Sentence pairs
 *  were tried and dropped: they let a name from one sentence pass for the subject of the next. */
export function passagesOf(text: string, title = ''): Passage[] {
  const s = sentences(text);
  // The title, and the page's first line when it reads like one (extracted text often starts so).
  const first = s.length && s[0].length <= 150 && !/[.!?]$/.test(s[0]) ? s[0] : '';
  const context = tokensOf(`${title} ${first}`);
  return s.map((x) => passage(x, context));
}
