import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitMessage, trimObservation } from '../../src/chat/text.ts';

/** No code fence is left open at the end (a fence with an info string cannot close one). */
function fencesBalanced(part: string): boolean {
  let open = false;
  for (const line of part.split('\n')) {
    if (!open && /^\s*```/.test(line)) open = true;
    else if (open && /^\s*```\s*$/.test(line)) open = false;
  }
  return !open;
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

test('fuzz: parts fit, fences balance, and no content is lost', () => {
  let seed = 42;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  // Fences at line starts, as Markdown writes them.
  const pieces = ['word', 'longerword', 'x'.repeat(70), '.', '\n', '\n\n', '\n```python\n', '\n```\n', ' ', '😀', 'a, b;'];
  for (let round = 0; round < 300; round++) {
    let text = '';
    const len = rnd(120);
    for (let i = 0; i < len; i++) text += pieces[rnd(pieces.length)] + (rnd(3) ? ' ' : '');
    const limit = 40 + rnd(260);
    const parts = splitMessage(text, limit);
    // Content modulo fence markers (added when a fence is closed and reopened) and blanks.
    const strip = (s: string) => s.replace(/```\w*/g, '').replace(/\s+/g, '');
    assert.equal(strip(parts.join('\n')), strip(text), `round ${round}`);
    for (const p of parts) {
      assert.ok(p.length <= limit, `round ${round}: ${p.length} > ${limit}`);
      if (fencesBalanced(text)) assert.ok(fencesBalanced(p), `round ${round}: unbalanced part`);
    }
  }
});
