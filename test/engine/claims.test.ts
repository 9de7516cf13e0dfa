// Quote-backed citations: the claim splitter, the support decision on the labelled set, the quote
// contract (verbatim, bounded), and `ask --json` end to end carrying claims in the answer event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claimsOf, MAX_QUOTE_CHARS, splitClaims } from '../../src/engine/claims.ts';
import type { Citation } from '../../src/engine/events.ts';
import { loadCases, scoreSet } from './claims-set.ts';

const read = (n: number, url: string): Citation => ({ n, url, title: `Page ${n}`, verified: true, status: 'read' });

test('claims: one per cited sentence or clause, markers removed, code ignored, lead-ins kept with what follows', () => {
  const spans = splitClaims(
    'The bridge opened in 1998 [1]. It is 812 metres long [1], and it cost 412 million dollars [2].\n' +
      'According to [3], the tower is 97 metres tall. Run `x[1]` to see.\n' +
      '- **Revenue** rose 12 percent [1][2].\nNo citation here.',
  );
  assert.deepEqual(
    spans.map((s) => [s.text, s.citations]),
    [
      ['The bridge opened in 1998', [1]],
      ['It is 812 metres long', [1]],
      ['it cost 412 million dollars', [2]],
      ['According to, the tower is 97 metres tall.', [3]],
      ['Revenue rose 12 percent', [1, 2]],
    ],
  );
});

test('claims: the labelled set — every claim found, swapped numbers, dates, names, quotes and wrong pages flagged', () => {
  const s = scoreSet();
  assert.deepEqual(s.splitErrors, []);
  // Floors, not the exact figures (README has those): a regression of the checker fails here.
  assert.ok(s.precision >= 0.95, `precision ${s.precision}`);
  assert.ok(s.recall >= 0.95, `recall ${s.recall}`);
  for (const kind of ['number', 'date', 'wrong-page', 'quote', 'name'])
    assert.equal(s.byKind[kind].supported, 0, `${kind}: ${s.verdicts.filter((v) => v.label === kind && v.claim?.supported).map((v) => v.claim?.text).join(' | ')}`);
  for (const v of s.verdicts) {
    if (!v.claim) continue;
    if (!v.claim.supported) assert.deepEqual(v.claim.quotes, [], 'an unsupported claim has no quotes');
    else assert.ok(v.claim.quotes.length > 0 && v.claim.quotes.every((q) => v.claim!.citations.includes(q.n)));
  }
});

test('claims: the held-out set (never tuned on) — no false support, most true claims found', () => {
  const s = scoreSet(loadCases('heldout'));
  assert.deepEqual(s.splitErrors, []);
  assert.ok(s.precision >= 0.9, `precision ${s.precision}`);
  assert.ok(s.recall >= 0.85, `recall ${s.recall}`);
});

test('claims: a quote is verbatim page text (whitespace normalised), at most ~300 characters, from the cited page only', () => {
  const filler = 'Surveyors walked the valley for weeks and wrote down every stone they passed along the way';
  const page = `Intro line.\n\nThe old mill on the river   Tarn was built in 1722 by the miller Anders Holm, ${filler}, ${filler}, and only then did the wheel turn for the first time. Later text.`;
  const other = 'The old mill on the river Tarn was built in 1722 by the miller Anders Holm.';
  const claims = claimsOf('The mill on the Tarn was built in 1722 by Anders Holm [1]. The mill was built in 1722 by Anders Holm [2].', [read(1, 'https://a.example/'), read(2, 'https://b.example/')], (url) =>
    url.startsWith('https://a.') ? [page] : [other],
  );
  assert.equal(claims.length, 2);
  const q = claims[0].quotes;
  assert.equal(claims[0].supported, true);
  assert.equal(q.length, 1);
  assert.equal(q[0].n, 1);
  assert.ok(q[0].text.length <= MAX_QUOTE_CHARS, `${q[0].text.length}`);
  assert.ok(page.replace(/\s+/g, ' ').includes(q[0].text), q[0].text);
  assert.match(q[0].text, /1722/);
  assert.deepEqual(claims[1].quotes, [{ n: 2, text: other }]);
});

test('claims: seen sources are checked against their snippets only; invented ones support nothing', () => {
  const citations: Citation[] = [
    { n: 1, url: 'https://seen.example/', title: 'Seen', verified: false, status: 'seen' },
    { n: 2, url: 'https://invented.example/', title: 'Invented', verified: false, status: 'unseen' },
  ];
  const claims = claimsOf('The lake is 312 metres deep [1]. The lake is 312 metres deep [2].', citations, () => ['Lake Orm is 312 metres deep at its deepest point.']);
  assert.deepEqual(
    claims.map((c) => [c.supported, c.quotes.length]),
    [
      [true, 1],
      [false, 0],
    ],
  );
});

test('claims: a page built to be slow is bounded (one huge run-on block, many claims)', () => {
  const huge = 'word '.repeat(2_000_000); // 10 MB, no sentence ends
  const answer = Array.from({ length: 40 }, (_, i) => `Claim number ${i} says word things [1].`).join(' ');
  const claims = claimsOf(answer, [read(1, 'https://x.example/')], () => [huge]);
  assert.equal(claims.length, 40);
  // Numbers 0..39 are not on the page: nothing is supported, and the call returned at all.
  assert.ok(claims.every((c) => !c.supported));
});
