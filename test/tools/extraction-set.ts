// The labelled extraction set (test/fixtures/extraction/, see its README) and its scorer:
// bag-of-words F1 of the extracted text against the page's known body text, macro-averaged over
// pages. Shared by the quality test and the extraction benchmark.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { score } from './metric.ts';

export const EXTRACTION_SET_DIR = resolve(import.meta.dirname, '..', 'fixtures', 'extraction');

export interface LabelledPage {
  name: string;
  source: string;
  label: string;
}

export function loadSplit(split: 'tune' | 'heldout'): LabelledPage[] {
  const dir = join(EXTRACTION_SET_DIR, split);
  return readdirSync(dir)
    .sort()
    .map((name) => ({
      name,
      source: readFileSync(join(dir, name, 'source.html'), 'utf8'),
      label: readFileSync(join(dir, name, 'label.txt'), 'utf8'),
    }));
}

/** Harmonic mean of word-multiset precision and recall (metric.ts's score). */
export function f1(got: string, label: string): { precision: number; recall: number; f1: number } {
  const s = score(got, label);
  const f = s.precision + s.recall > 0 ? (2 * s.precision * s.recall) / (s.precision + s.recall) : 0;
  return { ...s, f1: f };
}

export interface SetScore {
  /** Mean of the per-page F1 (every page weighs the same, whatever its length). */
  macroF1: number;
  pages: { name: string; precision: number; recall: number; f1: number }[];
}

/** Scores `extract` on every page; a page it throws on scores 0. */
export function scoreSet(pages: LabelledPage[], extract: (html: string) => string): SetScore {
  const rows = pages.map((p) => {
    let got = '';
    try {
      got = extract(p.source);
    } catch {
      got = '';
    }
    return { name: p.name, ...f1(got, p.label) };
  });
  return { macroF1: rows.reduce((n, r) => n + r.f1, 0) / Math.max(1, rows.length), pages: rows };
}

/** The baseline: Readability.js on linkedom, as the benchmark runs it. */
export function readabilityText(html: string): string {
  const { document } = parseHTML(html);
  return new Readability(document as never).parse()?.textContent ?? '';
}
