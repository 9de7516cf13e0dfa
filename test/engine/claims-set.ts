// The labelled claims set (test/fixtures/claims): runs the claim checker on every case and counts
// how its `supported` verdicts agree with the hand labels. Used by the test (a quality floor) and
// by `npm run bench -- claims` (the figures in the README).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { claimsOf } from '../../src/engine/claims.ts';
import type { Citation, Claim } from '../../src/engine/events.ts';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'claims');

type Source = { page: string } | { snippet: string };
interface Case {
  answer: string;
  sources: Record<string, Source>;
  claims: string[];
}

export interface Verdict {
  answer: string;
  claim: Claim | undefined;
  label: string;
}

export interface SetScore {
  verdicts: Verdict[];
  /** Every label has exactly one claim found for it (the splitter's agreement with the labeller). */
  splitErrors: string[];
  precision: number;
  recall: number;
  /** Verdicts per label kind: how many of that kind were judged supported. */
  byKind: Record<string, { n: number; supported: number }>;
}

/** labelled.json tuned the checker; heldout.json was written afterwards and never tuned on. */
export type SetName = 'labelled' | 'heldout';

export function loadCases(set: SetName = 'labelled'): Case[] {
  return (JSON.parse(readFileSync(join(DIR, `${set}.json`), 'utf8')) as { cases: Case[] }).cases;
}

export function runCase(c: Case): Claim[] {
  const citations: Citation[] = Object.entries(c.sources).map(([n, s]) => ({
    n: Number(n),
    url: `https://fixtures.example/${n}/${'page' in s ? s.page : 'snippet'}`,
    title: 'page' in s ? s.page : 'search result',
    verified: 'page' in s,
    status: 'page' in s ? 'read' : 'seen',
  }));
  const byUrl = new Map(citations.map((cit) => {
    const s = c.sources[String(cit.n)];
    return [cit.url, 'page' in s ? [readFileSync(join(DIR, s.page), 'utf8')] : [s.snippet]];
  }));
  return claimsOf(c.answer, citations, (url) => byUrl.get(url) ?? []);
}

export function scoreSet(cases: Case[] = loadCases()): SetScore {
  const verdicts: Verdict[] = [];
  const splitErrors: string[] = [];
  for (const c of cases) {
    const claims = runCase(c);
    if (claims.length !== c.claims.length) splitErrors.push(`${c.answer.slice(0, 60)}…: ${claims.length} claims found, ${c.claims.length} labelled`);
    c.claims.forEach((label, i) => verdicts.push({ answer: c.answer, claim: claims[i], label }));
  }
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const byKind: SetScore['byKind'] = {};
  for (const v of verdicts) {
    const said = v.claim?.supported === true;
    const truth = v.label === 'supported';
    if (said && truth) tp++;
    else if (said) fp++;
    else if (truth) fn++;
    const k = (byKind[v.label] ??= { n: 0, supported: 0 });
    k.n++;
    if (said) k.supported++;
  }
  return { verdicts, splitErrors, precision: tp + fp ? tp / (tp + fp) : 1, recall: tp + fn ? tp / (tp + fn) : 1, byKind };
}
