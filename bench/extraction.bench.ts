// Extraction quality and speed on the Readability test pages: mean word-level precision/recall
// against expected.html, and MB/s for our extractor and for Readability on linkedom (the baseline,
// run in the same process). BENCH_VERBOSE=1 lists every page.
import { existsSync } from 'node:fs';
import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { extractReadable } from '../src/tools/extract/index.ts';
import { CORPUS_PAGES } from '../test-corpus/corpus.ts';
import { loadPages, score, type FixturePage } from '../test/tools/metric.ts';

function readability(html: string): string {
  const { document } = parseHTML(html);
  const article = new Readability(document as never).parse();
  return article?.textContent ?? '';
}

function quality(pages: FixturePage[], fn: (html: string) => string) {
  let p = 0;
  let r = 0;
  const rows: string[] = [];
  for (const page of pages) {
    let got = '';
    try {
      got = fn(page.source);
    } catch {
      got = '';
    }
    const s = score(got, page.expectedText);
    p += s.precision;
    r += s.recall;
    rows.push(`${page.name.padEnd(44)} P=${s.precision.toFixed(3)} R=${s.recall.toFixed(3)}`);
  }
  return { precision: p / pages.length, recall: r / pages.length, rows };
}

/** MB/s of one pass of `fn` over every page. */
function pass(pages: FixturePage[], fn: (html: string) => unknown): number {
  const bytes = pages.reduce((n, p) => n + Buffer.byteLength(p.source), 0);
  const t0 = performance.now();
  for (const p of pages) {
    try {
      fn(p.source);
    } catch {
      // the baseline throws on a few odd pages; time spent still counts
    }
  }
  return bytes / 1e6 / ((performance.now() - t0) / 1000);
}

/**
 * Whole passes in alternation (each pays for its own garbage), best of `rounds` for each: the
 * machine is shared, and the best pass is the one least disturbed by others.
 */
function throughput(pages: FixturePage[], a: (html: string) => unknown, b: (html: string) => unknown, rounds: number) {
  let bestA = 0;
  let bestB = 0;
  for (let i = 0; i < rounds; i++) {
    bestA = Math.max(bestA, pass(pages, a));
    bestB = Math.max(bestB, pass(pages, b));
  }
  return { a: bestA, b: bestB };
}

export default async function (): Promise<void> {
  if (!existsSync(CORPUS_PAGES)) {
    console.log(`extraction: SKIPPED, no Readability pages at ${CORPUS_PAGES} (the corpus: lay shared/ beside the clone or set CIR_CORPUS_DIR)`);
    return;
  }
  const pages = loadPages(CORPUS_PAGES);
  const ours = (html: string) => extractReadable(html).text;
  const q = quality(pages, ours);
  const base = quality(pages, readability);
  if (process.env.BENCH_VERBOSE) console.log(q.rows.join('\n'));
  const { a: oursMbs, b: baseMbs } = throughput(pages, ours, readability, 3);
  console.log(`pages: ${pages.length}`);
  console.log(`ours:        precision ${q.precision.toFixed(3)}  recall ${q.recall.toFixed(3)}  ${oursMbs.toFixed(1)} MB/s`);
  console.log(`readability: precision ${base.precision.toFixed(3)}  recall ${base.recall.toFixed(3)}  ${baseMbs.toFixed(1)} MB/s (linkedom)`);
  console.log(`throughput ratio (ours / readability): ${(oursMbs / baseMbs).toFixed(2)}x`);
}
