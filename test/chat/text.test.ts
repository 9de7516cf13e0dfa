import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitMessage, trimObservation } from '../../src/chat/text.ts';

/** Every part is balanced: an even number of fence lines. */
function fencesBalanced(part: string): boolean {
  return part.split('\n').filter((l) => /^\s*```/.test(l)).length % 2 === 0;
}

test('short text is one part', () => {
  assert.deepEqual(splitMessage('hello', 100), ['hello']);
});

test('splits at paragraph boundaries first', () => {
  const p = (c: string) => `${c.repeat(30)} ${c.repeat(30)}.`;
  const text = [p('a'), p('b'), p('c')].join('\n\n');
  const parts = splitMessage(text, 140);
  assert.deepEqual(parts, [`${p('a')}\n\n${p('b')}`, p('c')]);
});

test('falls back to sentences, then words, then hard cuts; nothing is lost', () => {
  const sentences = Array.from({ length: 40 }, (_, i) => `Sentence number ${i} is here.`).join(' ');
  const parts = splitMessage(sentences, 100);
  for (const part of parts) assert.ok(part.length <= 100, part);
  assert.ok(parts.slice(0, -1).every((p) => p.endsWith('.')), 'cuts at sentence ends');
  assert.equal(parts.join(' '), sentences);
  const word = 'x'.repeat(250);
  const hard = splitMessage(word, 100);
  assert.equal(hard.join(''), word);
  assert.ok(hard.every((p) => p.length <= 100));
});

test('a code fence cut in two is closed and reopened with its language', () => {
  const code = Array.from({ length: 30 }, (_, i) => `print("line ${i}")`).join('\n');
  const text = `Intro paragraph.\n\n\`\`\`python\n${code}\n\`\`\`\n\nAfter the code.`;
  const parts = splitMessage(text, 200);
  assert.ok(parts.length > 2);
  for (const part of parts) {
    assert.ok(part.length <= 200, `${part.length}`);
    assert.ok(fencesBalanced(part), part);
  }
  assert.ok(parts.slice(1, -1).every((p) => p.startsWith('```python\n')));
  // Rejoining the code lines gives back every line, in order.
  const lines = parts.join('\n').split('\n').filter((l) => l.startsWith('print('));
  assert.equal(lines.join('\n'), code);
  assert.match(parts.at(-1)!, /After the code\.$/);
});

test('never splits a surrogate pair', () => {
  const text = '😀'.repeat(120);
  const parts = splitMessage(text, 51);
  assert.equal(parts.join(''), text);
  for (const p of parts) assert.ok(!/[\uD800-\uDBFF]$/.test(p) && !/^[\uDC00-\uDFFF]/.test(p));
});

test('trimObservation keeps short text and says how much it cut', () => {
  assert.equal(trimObservation('short\n', 50), 'short');
  const long = Array.from({ length: 100 }, (_, i) => `row ${i}`).join('\n');
  const t = trimObservation(long, 120);
  assert.ok(t.length <= 120);
  assert.match(t, /^row 0\n/);
  assert.match(t, /… \(\d+ more characters\)$/);
});
