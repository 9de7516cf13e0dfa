// Shared numbering and verification of an answer's sources. Only pages the session read or saw in
// search results become sources; markers of invented ('unseen') URLs are removed, and the kept ones
// are renumbered 1..n in order of first use so every [n] points at a listed source.
import type { Citation, Claim } from '../engine/events.ts';
import { markUnsupported, renumberClaims } from './claims.ts';
import type { AnswerView, SourceView } from './types.ts';

/** [3] or [1, 2] / [1,2,5] groups; only plain integers inside. */
const MARKER = /([ \t]*)\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]/g;

export function domainOf(url: string): string {
  try {
    return new URL(url).hostname.replace(/^www\./, '');
  } catch {
    return '';
  }
}

function isWebUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Builds the answer view: verified sources renumbered in order of first use, text markers rewritten. */
export function buildAnswerView(rawText: string, citations: Citation[], claims?: Claim[]): AnswerView {
  // Flags go in before renumbering: the claims were split from the engine's own text.
  const text = claims ? markUnsupported(rawText, claims) : rawText;
  const kept = new Map<number, Citation>();
  for (const c of citations) {
    if ((c.status === 'read' || c.status === 'seen') && isWebUrl(c.url) && !kept.has(c.n)) kept.set(c.n, c);
  }
  const renumber = new Map<number, number>();
  // Two citations with the same URL share one number.
  const byUrl = new Map<string, number>();
  const sources: SourceView[] = [];
  const assign = (old: number): number | null => {
    const c = kept.get(old);
    if (!c) return null;
    const existing = renumber.get(old) ?? byUrl.get(c.url);
    if (existing !== undefined) {
      renumber.set(old, existing);
      return existing;
    }
    const n = sources.length + 1;
    const domain = domainOf(c.url);
    sources.push({ n, url: c.url, title: cleanTitle(c.title) || domain, domain, status: c.status as 'read' | 'seen' });
    renumber.set(old, n);
    byUrl.set(c.url, n);
    return n;
  };
  // A dropped marker takes the blank before it along ("claim [9]." -> "claim.").
  const rewrite = (prose: string): string => prose.replace(MARKER, (_m, blank: string, inner: string) => {
    const nums: number[] = [];
    for (const part of inner.split(',')) {
      const n = assign(Number(part.trim()));
      if (n !== null && !nums.includes(n)) nums.push(n);
    }
    return nums.length ? blank + nums.map((n) => `[${n}]`).join('') : '';
  });
  // Code (fenced or inline) keeps its brackets: x[1] is not a citation.
  const out = text
    .split(/(```[\s\S]*?(?:```|$)|`[^`\n]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : rewrite(part)))
    .join('');
  // Verified sources the text never cites are still listed, after the cited ones.
  for (const old of [...kept.keys()].sort((a, b) => a - b)) assign(old);
  const view: AnswerView = { text: out.trim(), sources };
  if (claims) view.claims = renumberClaims(claims, (n) => renumber.get(n) ?? null);
  return view;
}

function cleanTitle(title: string): string {
  return title.replace(/\s+/g, ' ').trim().slice(0, 200);
}
