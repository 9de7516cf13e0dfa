// Claims as the chat surfaces show them: unsupported claims flagged in the answer text, citation
// numbers following the sources' renumbering, and each source's supporting quotes.
import { splitClaims } from '../engine/claims.ts';
import type { Claim } from '../engine/events.ts';
import type { AnswerView, ClaimView } from './types.ts';

/** Put after the citation markers of a claim its sources do not support; plain text on every platform. */
export const UNSUPPORTED_MARK = ' (⚠ not found in the cited source)';

/** Inserts UNSUPPORTED_MARK after each unsupported claim (the same split the engine made). */
export function markUnsupported(text: string, claims: readonly Claim[]): string {
  const spans = splitClaims(text);
  // The engine split this very text; a different count means the text was changed since.
  if (spans.length !== claims.length) return text;
  let out = '';
  let at = 0;
  spans.forEach((span, i) => {
    if (claims[i].supported) return;
    out += text.slice(at, span.end) + UNSUPPORTED_MARK;
    at = span.end;
  });
  return out + text.slice(at);
}

/** Claims with citation numbers as listed in the view; citations of dropped sources go. */
export function renumberClaims(claims: readonly Claim[], to: (n: number) => number | null): ClaimView[] {
  return claims.map((c) => ({
    text: c.text,
    citations: [...new Set(c.citations.map(to).filter((n): n is number => n !== null))],
    supported: c.supported,
    quotes: c.quotes.flatMap((q) => {
      const n = to(q.n);
      return n === null ? [] : [{ n, text: q.text }];
    }),
  }));
}

/** Each source's supporting quotes, in answer order, without repeats. */
export function quotesBySource(answer: AnswerView): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const c of answer.claims ?? [])
    for (const q of c.quotes) {
      const list = out.get(q.n) ?? [];
      if (!list.includes(q.text)) list.push(q.text);
      out.set(q.n, list);
    }
  return out;
}

/** How many claims their sources do not support. */
export function unsupportedCount(answer: AnswerView): number {
  return (answer.claims ?? []).filter((c) => !c.supported).length;
}

export interface QuoteBudget {
  /** Quotes shown under one source. */
  perSource: number;
  /** Characters of quotes shown for the whole answer; the rest are in the trace file. */
  totalChars: number;
}

export interface ShownQuotes {
  bySource: Map<number, string[]>;
  /** Quotes left out for the budget (they are all in the trace). */
  omitted: number;
}

/** The quotes a chat message has room for, in source order, within the platform's budget. */
export function quotesToShow(answer: AnswerView, budget: QuoteBudget): ShownQuotes {
  const all = quotesBySource(answer);
  const bySource = new Map<number, string[]>();
  let used = 0;
  let omitted = 0;
  for (const s of answer.sources) {
    for (const q of all.get(s.n) ?? []) {
      const list = bySource.get(s.n) ?? [];
      if (list.length >= budget.perSource || used + q.length > budget.totalChars) {
        omitted++;
        continue;
      }
      list.push(q);
      used += q.length;
      bySource.set(s.n, list);
    }
  }
  return { bySource, omitted };
}

/** The line under the sources saying what was not shown or not found; '' when there is nothing to say. */
export function evidenceNote(answer: AnswerView, omitted: number): string {
  const notes: string[] = [];
  const bad = unsupportedCount(answer);
  if (bad) notes.push(`⚠ ${bad} of ${answer.claims?.length ?? 0} cited claims were not found in their cited sources.`);
  if (omitted) notes.push(`${omitted} more supporting ${omitted === 1 ? 'quote is' : 'quotes are'} in the research trace.`);
  return notes.join(' ');
}
