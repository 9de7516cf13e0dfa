// Word-level precision/recall of extracted text against the expected content of a fixture page.
// Shared by the extraction benchmark and the quality tests (our pages under test/fixtures/pages,
// and Readability's pages in the corpus suite).
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseDocument } from 'htmlparser2';
import { textOf } from '../../src/tools/extract/dom.ts';

/** The pages written for these tests. */
export const OWN_PAGES_DIR = resolve(import.meta.dirname, '..', 'fixtures', 'pages');

export interface FixturePage {
  name: string;
  source: string;
  expectedText: string;
}

export function loadPages(dir: string): FixturePage[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'expected.html')))
    .map((d) => d.name)
    .sort()
    .map((name) => ({
      name,
      source: readFileSync(join(dir, name, 'source.html'), 'utf8'),
      expectedText: textOf(parseDocument(readFileSync(join(dir, name, 'expected.html'), 'utf8'))),
    }));
}

export function words(s: string): string[] {
  return s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Multiset overlap of words: precision = shared/got, recall = shared/expected. */
export function score(got: string, expected: string): { precision: number; recall: number } {
  const g = words(got);
  const e = words(expected);
  const counts = new Map<string, number>();
  for (const w of e) counts.set(w, (counts.get(w) ?? 0) + 1);
  let shared = 0;
  for (const w of g) {
    const c = counts.get(w);
    if (c) {
      shared++;
      counts.set(w, c - 1);
    }
  }
  const precision = g.length ? shared / g.length : e.length ? 0 : 1;
  const recall = e.length ? shared / e.length : 1;
  return { precision, recall };
}
