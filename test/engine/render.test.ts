// The terminal renderer with hostile text: escape sequences from web pages or the model are shown
// as plain text, never obeyed; without colour nothing but plain text reaches the terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResearchEvent } from '../../src/engine/events.ts';
import { humanRenderer, jsonRenderer, plain } from '../../src/platforms/terminal/render.ts';

const ESC = '\x1b';
const hostile: ResearchEvent[] = [
  { type: 'started', sessionId: 's', question: `Why?${ESC}]0;pwned title\x07`, maxSteps: 3, at: 0 },
  { type: 'thinking', text: `Let me look.${ESC}[2J${ESC}[H` },
  { type: 'code', step: 1, code: 'print(web_visit("https://a.example"))' },
  { type: 'tool', step: 1, name: 'web_visit', arg: `https://a.example/${ESC}[31m` },
  {
    type: 'observation',
    step: 1,
    output: `Title\r\nreal text${ESC}]52;c;ZXZpbA==\x07 more\x9b31m red\x07 bell\x00`,
    error: null,
    stateLost: false,
    durationMs: 5,
  },
  {
    type: 'answer',
    text: `Paris [1].${ESC}[8m hidden`,
    citations: [{ n: 1, url: 'https://a.example/', title: `A${ESC}[5m page`, verified: true, status: 'read' }],
    steps: 1,
    usage: { promptTokens: 1, completionTokens: 1 },
    durationMs: 10,
  },
];

test('plain() strips CSI, OSC (terminated or not), C1 and other controls, keeps newlines and tabs', () => {
  assert.equal(plain(`a${ESC}[1;31mb${ESC}]8;;https://x\x07c${ESC}\\d\x9be\r\n\tf${ESC}]2;open`), 'ab' + 'c' + 'de\n\tf');
});

test('human output without colour holds no control characters at all, and keeps the readable text', () => {
  let out = '';
  const r = humanRenderer({ write: (s: string) => (out += s) }, { color: false });
  hostile.forEach(r);
  assert.ok(!/[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(out), JSON.stringify(out));
  assert.match(out, /Researching: Why\?\n/);
  assert.match(out, /│ real text more31m red bell\n/);
  assert.match(out, /\[1\] A page — https:\/\/a\.example\/ \(read\)/);
  assert.match(out, /Paris \[1\]\. hidden/);
});

test('human output with colour: only the renderer\'s own SGR codes', () => {
  let out = '';
  const r = humanRenderer({ write: (s: string) => (out += s) }, { color: true });
  hostile.forEach(r);
  const escapes = out.match(/\x1b[^m]*m/g) ?? [];
  assert.ok(escapes.length > 0);
  for (const esc of escapes) assert.match(esc, /^\x1b\[(?:0|1|2|31|32|33|36)m$/);
  assert.ok(!out.includes('\x07') && !out.includes('\r') && !out.includes('\x9b'));
});

test('--json keeps the exact text (escaped by JSON), one event per line', () => {
  let out = '';
  const r = jsonRenderer({ write: (s: string) => (out += s) });
  hostile.forEach(r);
  const lines = out.trimEnd().split('\n');
  assert.equal(lines.length, hostile.length);
  lines.forEach((l, i) => assert.deepEqual(JSON.parse(l), hostile[i]));
  assert.ok(!out.includes(ESC), 'control characters are escaped');
});
