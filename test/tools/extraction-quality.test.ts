// Extraction quality on the held-out split of the labelled set in test/fixtures/extraction/ (news
// pages generated from articles written for it, so the label is the article body by construction,
// not any extractor's output; see its README). The tune split is what the extractor was improved
// on; the held-out split never was.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractReadable } from '../../src/tools/index.ts';
import { buildSet } from '../fixtures/extraction/generate.ts';
import { f1, loadSplit, readabilityText, scoreSet } from './extraction-set.ts';

const ours = (html: string) => extractReadable(html).text;

test('the committed pages and labels are exactly what the generator makes', () => {
  // The label is trustworthy only if it comes from the same article as the page: regenerate both.
  const made = buildSet();
  for (const split of ['tune', 'heldout'] as const) {
    const committed = loadSplit(split);
    const expected = made.filter((p) => p.split === split);
    assert.deepEqual(committed.map((p) => p.name), expected.map((p) => p.name).sort());
    for (const p of committed) {
      const g = expected.find((e) => e.name === p.name)!;
      assert.equal(p.source, g.source, `${split}/${p.name}: source.html differs from the generator's`);
      assert.equal(p.label, g.label + '\n', `${split}/${p.name}: label.txt differs from the generator's`);
    }
  }
  assert.equal(made.filter((p) => p.split === 'heldout').length, 24);
});

test('the scorer rewards the body and punishes furniture and loss', () => {
  const [page] = loadSplit('heldout');
  assert.equal(f1(page.label, page.label).f1, 1);
  // the whole page as text has every body word but much else: precision, hence F1, falls
  const all = f1(page.source.replace(/<[^>]+>/g, ' '), page.label);
  assert.equal(all.recall, 1);
  assert.ok(all.f1 < 0.7, `tag-stripped page scored ${all.f1.toFixed(3)}`);
  const half = f1(page.label.slice(0, page.label.length / 2), page.label);
  assert.ok(half.recall < 0.6 && half.precision === 1);
});

test('held-out macro F1 of our extractor is at least 0.965, every page at least 0.78', () => {
  // Measured 2026-12-07: ours 0.974, lowest page 0.800 (the floor sits just under it: a page that
  // falls apart fails the test even when the mean holds); Readability on linkedom 0.872 on the
  // same pages (logged, not asserted: it is the baseline). The extractor before this set: 0.861.
  const pages = loadSplit('heldout');
  const s = scoreSet(pages, ours);
  const low = s.pages.filter((p) => p.f1 < 0.78).map((p) => `${p.name} ${p.f1.toFixed(3)}`);
  const base = scoreSet(pages, readabilityText);
  console.log(`held-out (${pages.length} pages): ours F1 ${s.macroF1.toFixed(3)}, Readability ${base.macroF1.toFixed(3)}`);
  assert.ok(s.macroF1 >= 0.965, `macro F1 ${s.macroF1.toFixed(3)}`);
  assert.deepEqual(low, []);
});
