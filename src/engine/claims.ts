// Quote-backed citations: the answer is split into claims (the words each citation marker closes)
// and each claim is looked up in the text of the sources it cites. A claim counts as supported
// when one passage (or one passage per cited source, taken together) holds every number, name and
// quoted phrase of the claim and most of its content words. Evidence is the full text of pages the
// session read; for a source only seen in search results, its snippets.
import type { Citation, Claim } from './events.ts';
import { contentWords, hasRun, hasWord, namesIn, negated, normalise, numbersIn, type Passage, passagesOf, quotedPhrases, stem } from './evidence.ts';

/** Share of a claim's content words a supporting passage must contain... */
export const MIN_COVERAGE = 0.6;
/** ...or, when the claim names numbers or names and the passage holds them all, this share. */
export const MIN_COVERAGE_ANCHORED = 0.3;
/** What a quote may hold (the contract says about 300). */
export const MAX_QUOTE_CHARS = 300;

const GROUP = /(?:[ \t]*\[\d{1,3}\])+/g;

export interface ClaimSpan {
  /** The claim's words, markers removed. */
  text: string;
  citations: number[];
  /** Offset in the answer text just after the claim's marker group (where a flag may go). */
  end: number;
}

/**
 * Splits an answer (with [n] markers) into cited claims, in answer order. A sentence with one
 * marker group is one claim; a sentence with several is cut after each group, and a piece too
 * short to state anything joins the next. Code spans and fenced code are never claims.
 */
export function splitClaims(answer: string): ClaimSpan[] {
  const out: ClaimSpan[] = [];
  const masked = answer.replace(/```[\s\S]*?(?:```|$)|`[^`\n]*`/g, (m) => ' '.repeat(m.length));
  // Sentence ends: punctuation, then any markers, then a blank and a new sentence, or a line end.
  const SENTENCE = /[^\n]*?(?:[.!?](?:[ \t]*\[\d{1,3}\])*(?=\s+[\p{Lu}\d"“*_(-]|\s*$)|\n|$)/gu;
  for (const m of masked.matchAll(SENTENCE)) {
    const sentence = m[0];
    if (!sentence.trim()) continue;
    const base = m.index ?? 0;
    const pieces: ClaimSpan[] = [];
    let start = 0;
    for (const g of sentence.matchAll(GROUP)) {
      const gStart = g.index ?? 0;
      const citations = [...g[0].matchAll(/\[(\d{1,3})\]/g)].map((x) => Number(x[1]));
      pieces.push({ text: sentence.slice(start, gStart), citations, end: base + gStart + g[0].length });
      start = gStart + g[0].length;
    }
    if (!pieces.length) continue;
    // A piece too short to state anything ("According to [1], ...") joins the next one.
    const merged: ClaimSpan[] = [];
    let lead: ClaimSpan | null = null;
    for (const p of pieces) {
      const cur: ClaimSpan = lead ? { text: `${lead.text} ${p.text}`, citations: unique([...lead.citations, ...p.citations]), end: p.end } : p;
      if (isBare(cur.text)) lead = cur;
      else {
        merged.push(cur);
        lead = null;
      }
    }
    // Words after the last marker belong to a lead-in, or to the sentence's only claim.
    const tail = sentence.slice(start);
    const sentenceEnd = base + sentence.replace(/\s+$/, '').length;
    if (lead && !isBare(`${lead.text} ${tail}`)) merged.push({ text: `${lead.text} ${tail}`, citations: lead.citations, end: sentenceEnd });
    else if (!lead && merged.length === 1 && !isBare(tail)) merged[0] = { text: `${merged[0].text} ${tail}`, citations: merged[0].citations, end: merged[0].end };
    for (const c of merged) {
      const text = cleanClaim(c.text);
      if (text) out.push({ ...c, text });
    }
  }
  return out;
}

function isBare(words: string): boolean {
  return contentWords(words).size < 2 && numbersIn(words).size === 0;
}

function unique(ns: number[]): number[] {
  return [...new Set(ns)];
}

function cleanClaim(s: string): string {
  return normalise(s.replace(/\*\*|__|~~/g, '').replace(/^\s*(?:[-*•>]|#+|\d+[.)])\s+/, '').replace(/\s+([,;:.!?])/g, '$1'))
    .replace(/^[,;:\s]+/, '')
    .replace(/^(?:and|but|while|whereas|or)\s+/i, '')
    .replace(/[,;:\s]+$/, '');
}

/** Each cited source's passages, built lazily and once per answer. */
export type EvidenceFor = (n: number) => Passage[];

interface Candidate {
  n: number;
  passage: Passage;
  coverage: number;
  missing: number;
}

/** Decides each claim's support and picks its quotes. */
export function judgeClaims(spans: ClaimSpan[], evidence: EvidenceFor): Claim[] {
  return spans.map((span) => judgeOne(span, evidence));
}

function judgeOne(span: ClaimSpan, evidence: EvidenceFor): Claim {
  const required = requiredTerms(span.text);
  // Names are checked as runs on their own; the overlap is measured on the other words, so that a
  // sentence naming the same person does not pass for one saying what the claim says of them.
  const nameStems = new Set(required.names.flat().map(stem));
  const all = contentWords(span.text);
  const rest = new Set([...all].filter((w) => !nameStems.has(w)));
  const words = rest.size ? rest : all;
  const unsupported: Claim = { text: span.text, citations: span.citations, supported: false, quotes: [] };
  if (words.size === 0 && required.numbers.size === 0) return unsupported;

  const best: Candidate[] = [];
  for (const n of span.citations) {
    let top: Candidate | null = null;
    for (const p of evidence(n)) {
      const c = score(n, p, words, required);
      if (!top || c.missing < top.missing || (c.missing === top.missing && (c.coverage > top.coverage || (c.coverage === top.coverage && p.text.length < top.passage.text.length)))) top = c;
    }
    if (top) best.push(top);
  }
  const anchored = required.numbers.size + required.names.length > 0;
  const enough = (c: Candidate) => c.missing === 0 && c.coverage >= (anchored ? MIN_COVERAGE_ANCHORED : MIN_COVERAGE);
  // One passage that says it all.
  const whole = best.filter(enough);
  if (whole.length) return { ...unsupported, supported: true, quotes: whole.map((c) => quoteOf(c, words)) };
  // A claim citing several sources may take a part from each ("A has 5 and B has 6 [1][2]").
  const parts = best.filter((c) => c.coverage > 0);
  if (parts.length >= 2) {
    const merged = mergePassages(parts.map((c) => c.passage));
    const joint = score(0, merged, words, required);
    if (enough(joint)) return { ...unsupported, supported: true, quotes: parts.map((c) => quoteOf(c, words)) };
  }
  return unsupported;
}

interface Required {
  numbers: Set<string>;
  names: string[][];
  phrases: string[];
  negated: boolean;
}

function requiredTerms(claim: string): Required {
  return { numbers: numbersIn(claim), names: namesIn(claim), phrases: quotedPhrases(claim), negated: negated(claim) };
}

function score(n: number, p: Passage, words: Set<string>, req: Required): Candidate {
  let hit = 0;
  for (const w of words) if (hasWord(p, w)) hit++;
  let missing = 0;
  for (const x of req.numbers) if (!p.numbers.has(x)) missing++;
  for (const run of req.names) if (!hasRun(p.tokens, run) && !hasRun(p.context, run)) missing++;
  for (const x of req.phrases) if (!normalise(p.lower).includes(x)) missing++;
  // "will not be visible" does not support "will be visible" (nor the other way round).
  if (p.negated !== req.negated) missing++;
  return { n, passage: p, coverage: words.size ? hit / words.size : 1, missing };
}

function mergePassages(ps: Passage[]): Passage {
  const words = new Set<string>();
  const numbers = new Set<string>();
  for (const p of ps) {
    for (const w of p.words) words.add(w);
    for (const x of p.numbers) numbers.add(x);
  }
  const text = ps.map((p) => p.text).join(' ');
  return { text, prefixes: new Set(ps.flatMap((p) => [...p.prefixes])), tokens: ps.flatMap((p) => p.tokens), context: ps.flatMap((p) => [...p.context, '\u0000']), negated: ps.some((p) => p.negated), words, numbers, lower: text.toLowerCase() };
}

/** The passage, or the ~300-character stretch of it holding most of the claim's words; verbatim. */
function quoteOf(c: Candidate, words: Set<string>): { n: number; text: string } {
  const text = c.passage.text;
  if (text.length <= MAX_QUOTE_CHARS) return { n: c.n, text };
  const tokens = [...text.matchAll(/\S+/g)].map((m) => ({ at: m.index ?? 0, end: (m.index ?? 0) + m[0].length, hit: [...contentWords(m[0])].some((w) => words.has(w)) || /\d/.test(m[0]) }));
  let bestStart = 0;
  let bestHits = -1;
  for (let i = 0; i < tokens.length; i++) {
    let hits = 0;
    let j = i;
    while (j < tokens.length && tokens[j].end - tokens[i].at <= MAX_QUOTE_CHARS) hits += tokens[j++].hit ? 1 : 0;
    if (hits > bestHits) {
      bestHits = hits;
      bestStart = i;
    }
  }
  let j = bestStart;
  while (j + 1 < tokens.length && tokens[j + 1].end - tokens[bestStart].at <= MAX_QUOTE_CHARS) j++;
  return { n: c.n, text: text.slice(tokens[bestStart].at, tokens[j].end) };
}

/** The claims of an answer against the evidence the session gathered (by citation number). */
export function claimsOf(answer: string, citations: Citation[], evidenceText: (url: string) => string[]): Claim[] {
  const byN = new Map(citations.map((c) => [c.n, c]));
  const cache = new Map<number, Passage[]>();
  const evidence: EvidenceFor = (n) => {
    let ps = cache.get(n);
    if (!ps) {
      const c = byN.get(n);
      ps = c && c.status !== 'unseen' ? evidenceText(c.url).flatMap((t) => passagesOf(t, c.title)) : [];
      cache.set(n, ps);
    }
    return ps;
  };
  return judgeClaims(splitClaims(answer), evidence);
}
