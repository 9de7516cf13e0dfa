import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { DatasetError, loadDataset, parseDataset, parseDelimited } from '../../src/eval/datasets.ts';

const sample = (f: string) => fileURLToPath(new URL(`../../eval/sample/${f}`, import.meta.url));

test('CSV reader: quoted commas, doubled quotes, newlines inside quotes, CRLF, BOM, blank lines', () => {
  const text = '\uFEFFa,b,c\r\n"x, y","say ""hi""","line1\nline2"\r\n\r\nplain,,"last"\n';
  assert.deepEqual(parseDelimited(text), [
    ['a', 'b', 'c'],
    ['x, y', 'say "hi"', 'line1\nline2'],
    ['plain', '', 'last'],
  ]);
  assert.deepEqual(parseDelimited('a,b\n1,2'), [['a', 'b'], ['1', '2']], 'no trailing newline');
  assert.deepEqual(parseDelimited('a\tb\n"1\t2"\t3\n', '\t'), [['a', 'b'], ['1\t2', '3']]);
  assert.throws(() => parseDelimited('a,b\n"open,2\n'), /unterminated/);
});

test('SimpleQA CSV: metadata column with commas and quotes, problem/answer picked by name', () => {
  const ds = loadDataset(sample('simpleqa.csv'));
  assert.equal(ds.benchmark, 'simpleqa');
  assert.equal(ds.items.length, 3);
  assert.equal(ds.items[0].question, 'Who received the IEEE Frank Rosenblatt Award in 2010?');
  assert.equal(ds.items[0].answer, 'Michio Sugeno');
  assert.equal(ds.items[1].answer, '4,807.81');
  assert.match(ds.items[2].question, /"the Mona Lisa of the North"/);
  assert.match(ds.items[0].id, /^0:[0-9a-f]{10}$/);
});

test('FRAMES TSV: Prompt/Answer columns, a quoted multi-line prompt', () => {
  const ds = loadDataset(sample('frames.tsv'));
  assert.equal(ds.benchmark, 'frames');
  assert.equal(ds.items.length, 3);
  assert.equal(ds.items[0].answer, 'Jane Ballou');
  assert.match(ds.items[1].question, /university\nattended/);
  assert.equal(ds.items[2].answer, 'Manzanares');
});

test('SealQA JSON: array, JSON Lines and {data: [...]} all read', () => {
  const ds = loadDataset(sample('seal-0.json'));
  assert.equal(ds.benchmark, 'seal-0');
  assert.deepEqual(
    ds.items.map((i) => i.answer),
    ['274', 'Spain', 'GIMPS'],
  );
  const jsonl = '{"question":"q1","answer":"a1"}\n\n{"question":"q2","answer":["a2","b2"]}\n';
  assert.deepEqual(
    parseDataset(jsonl, 'json').map((i) => [i.question, i.answer]),
    [['q1', 'a1'], ['q2', 'a2 | b2']],
  );
  assert.equal(parseDataset('{"data":[{"question":"q","answer":"a"}]}', 'json')[0].answer, 'a');
});

test('bad datasets get clear messages', () => {
  assert.throws(() => parseDataset('foo,bar\n1,2\n', 'csv', 'x.csv'), (e: Error) => e instanceof DatasetError && /question column/.test(e.message) && /foo, bar/.test(e.message));
  assert.throws(() => parseDataset('problem,answer\n1,2,3\n', 'csv', 'x.csv'), /record 1 has 3 fields/);
  assert.throws(() => parseDataset('{"question":"q"\n', 'json', 'x.jsonl'), /line 1 is not JSON/);
  assert.throws(() => loadDataset('/nonexistent/file.csv'), /cannot read/);
  assert.throws(() => loadDataset('questions.xlsx'), /unknown format/);
});

test('ids are stable across reads and differ between questions', () => {
  const a = parseDataset('problem,answer\nq1,a\nq2,b\n', 'csv');
  const b = parseDataset('problem,answer\nq1,a\nq2,b\n', 'csv');
  assert.deepEqual(a.map((i) => i.id), b.map((i) => i.id));
  assert.notEqual(a[0].id, a[1].id);
});
