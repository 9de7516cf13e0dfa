// Code-block parsing, from the model's real failure modes (DESIGN.md section 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyTurn, cleanAnswer, extractCode, stripPartialSuffix } from '../../src/engine/parse.ts';

const code = (text: string, finish: 'stop' | 'eos' | 'length' = 'stop') => {
  const k = classifyTurn(text, finish);
  assert.equal(k.kind, 'code', `expected code, got ${k.kind}`);
  return (k as { code: string }).code;
};

test('the canonical block', () => {
  assert.equal(code('Let me search.\n<start_code>\n```python\nr = web_search("x")\nprint(r)\n```\n'), 'r = web_search("x")\nprint(r)');
});

test('missing newline after <start_code>', () => {
  assert.equal(code('ok <start_code>```python\nprint(1)\n```\n'), 'print(1)');
});

test('```py and ```python3 fences, and no fence at all', () => {
  assert.equal(code('<start_code>\n```py\nprint(2)\n```'), 'print(2)');
  assert.equal(code('<start_code>\n```python3\nprint(3)\n```\n'), 'print(3)');
  assert.equal(code('<start_code>\nprint(4)\n'), 'print(4)');
});

test('a partial stop string left inside the code (the smolagents bug)', () => {
  assert.equal(code('<start_code>\n```python\nprint(5)\n```<end_code'), 'print(5)');
  assert.equal(code('<start_code>\n```python\nprint(6)\n<end_'), 'print(6)');
  assert.equal(code('<start_code>\n```python\nprint(7)\n```\n<end_code>'), 'print(7)');
  assert.equal(stripPartialSuffix('x = 1\n<en', '<end_code>'), 'x = 1\n');
});

test('stray fence text: half a closing fence, prose after the fence', () => {
  assert.equal(code('<start_code>\n```python\nprint(8)\n``'), 'print(8)');
  assert.equal(code('<start_code>\n```python\nprint(9)\n```\nThis prints nine.\n'), 'print(9)');
  assert.equal(code('<start_code>\n```python\nprint(10)```'), 'print(10)');
});

test('code keeps its indentation and inner blank lines', () => {
  const src = 'for i in range(2):\n    if i:\n\n        print(i)';
  assert.equal(code(`<start_code>\n\`\`\`python\n${src}\n\`\`\`\n`), src);
});

test('the last block of a turn is the one that runs', () => {
  assert.equal(code('<start_code>\n```python\nprint("a")\n```\nhmm, no\n<start_code>\n```python\nprint("b")\n```\n'), 'print("b")');
});

test('a bare ```python fence before <end_code> (tag forgotten) still runs', () => {
  assert.equal(code('I will search.\n```python\nprint(11)\n```\n'), 'print(11)');
  assert.deepEqual(classifyTurn('Nothing to run here.\n', 'stop'), { kind: 'no-code' });
});

test('a block cut by max_tokens is not run; a closed one is', () => {
  assert.deepEqual(classifyTurn('<start_code>\n```python\nfor x in range(', 'length'), { kind: 'cut-code' });
  assert.equal(code('<start_code>\n```python\nprint(12)\n```\nand then I ramble on and on', 'length'), 'print(12)');
});

test('end-of-sequence right after a block (no <end_code>) runs it', () => {
  assert.equal(code('<start_code>\n```python\nprint(13)\n```\n', 'eos'), 'print(13)');
});

test('answers, and turns with neither code nor </think>', () => {
  assert.deepEqual(classifyTurn('Done.\n</think>\n\nParis.', 'eos'), { kind: 'answer' });
  assert.deepEqual(classifyTurn('Done.\n</think>\n\nParis is the cap', 'length'), { kind: 'answer' });
  assert.deepEqual(classifyTurn('I wonder.', 'eos'), { kind: 'none' });
  assert.deepEqual(classifyTurn('', 'eos'), { kind: 'none' });
  assert.deepEqual(classifyTurn('blah blah', 'length'), { kind: 'none' });
  // Code before </think> in the same turn, ended by EOS: the answer wins (the code was abandoned).
  assert.deepEqual(classifyTurn('<start_code>\n```python\nx=1\n```\nno need.\n</think>\nAnswer', 'eos'), { kind: 'answer' });
});

test('cleanAnswer drops code written after </think> and the end-of-turn token', () => {
  assert.equal(cleanAnswer('\n\nParis [a](https://a.example).<|im_end|>\n'), 'Paris [a](https://a.example).');
  assert.equal(cleanAnswer('\nParis.\n<start_code>\n```python\nprint(1)'), 'Paris.');
  assert.equal(extractCode('\n```python\nx = "```"\nprint(x)\n```\n'), 'x = "```"\nprint(x)');
});
