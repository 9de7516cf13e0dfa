// Protocol fidelity (DESIGN.md section 1): the exact bytes of every prompt, with an operator's own
// prompt folder, servers that keep or drop the stop string, retries, nudges and the conclude step.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sandbox } from '../../src/sandbox/index.ts';
import { loadPrompts } from '../../src/engine/prompts.ts';
import { codeTurn, collect, harness, last, only, promptsDir, testSandbox } from './helpers.ts';

let sandbox: Sandbox;
let altDir: string;
before(async () => {
  sandbox = await testSandbox();
  // Another wording altogether: no trailing newlines, a conclude text without </think>.
  altDir = mkdtempSync(join(tmpdir(), 'cir-prompts-'));
  const files: Record<string, string> = {
    'system.md': 'SYSTEM RULES as of {date}. Use web_search and web_visit.\n\n',
    'hint.md': 'HINT: I research first.',
    'nudge.md': ' NUDGE.',
    'conclude.md': ' CONCLUDE NOW.',
    'followup.md': 'FOLLOW-UP ({date}): {question}\n',
    'report.md': 'REPORT {question}\n{research}',
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(altDir, name), text);
});
after(async () => {
  await sandbox.close();
  rmSync(altDir, { recursive: true, force: true });
});

const HEAD = '<|im_start|>system\nSYSTEM RULES as of 25 November 2026. Use web_search and web_visit.<|im_end|>\n';
const OPEN = '<|im_start|>assistant\n<think>\nHINT: I research first.';
const block = (code: string) => `<start_code>\n\`\`\`python\n${code}\n\`\`\`\n`;

test("an operator's prompt folder with other wording: exact prompt bytes through nudge and conclude", async () => {
  const turns = [
    `\nSearch.\n${block('print(6 * 7)')}<end_code>never`,
    ' Hmm.',
    ' Still unsure.',
    ' Enough.\n</think>\n\nIt is 42 [calc](https://example.org/paris).',
  ];
  const h = await harness(sandbox, turns, { deps: { promptsDir: altDir } });
  try {
    const events = await collect(h.engine, { question: '  What is six times seven?  ' });
    const a = last(events);
    assert.equal(a.type, 'answer', JSON.stringify(a));
    if (a.type === 'answer') assert.equal(a.text, 'It is 42 [1].');
    assert.deepEqual(only(events, 'concluding').map((e) => e.reason), ['stalled']);
    const p = h.llm.prompts();
    const p0 = `${HEAD}<|im_start|>user\nWhat is six times seven?<|im_end|>\n${OPEN}`;
    const p1 = `${p0}\nSearch.\n${block('print(6 * 7)')}<end_code>\n\`\`\`output\n42\n\`\`\`\n`;
    const p2 = `${p1} Hmm. NUDGE.`;
    const p3 = `${p2} Still unsure. CONCLUDE NOW.`;
    assert.deepEqual(p, [p0, p1, p2, p3]);
  } finally {
    await h.close();
  }
  // A follow-up: earlier turns as plain user/assistant messages (answer only), then the wrapped question.
  const f = await harness(sandbox, ['Known.\n</think>\n\nStill 42.'], { deps: { promptsDir: altDir } });
  try {
    const events = await collect(f.engine, { question: 'And 6 * 8?', history: [{ question: 'Six times seven?', answer: 'It is 42 [1].' }] });
    assert.equal(last(events).type, 'answer');
    assert.equal(
      f.llm.prompts()[0],
      `${HEAD}<|im_start|>user\nSix times seven?<|im_end|>\n<|im_start|>assistant\nIt is 42 [1].<|im_end|>\n` +
        `<|im_start|>user\nFOLLOW-UP (25 November 2026): And 6 * 8?<|im_end|>\n${OPEN}`,
    );
  } finally {
    await f.close();
  }
});

test('the stop string is written back exactly once, whether the server drops it (vLLM) or keeps it', async () => {
  // The second turn stops at <end_code> without a block (the model forgot it).
  const turns = [codeTurn('print("a")'), 'Hmm, no block here.<end_code>', codeTurn('print("b")'), 'Done.\n</think>\n\nOK.'];
  const runs: string[][] = [];
  for (const llm of [{ flavour: 'vllm' as const }, { flavour: 'vllm' as const, includeStop: true }, { flavour: 'sglang' as const, includeStop: true }]) {
    const h = await harness(sandbox, turns, { llm });
    try {
      const events = await collect(h.engine, { question: 'q' });
      assert.equal(last(events).type, 'answer');
      assert.deepEqual(only(events, 'code').map((c) => c.code), ['print("a")', '', 'print("b")']);
      const thinking = only(events, 'thinking').map((e) => e.text).join('');
      assert.ok(thinking.includes('Hmm, no block here.') && !thinking.includes('<end_code>'), thinking);
      runs.push(h.llm.prompts());
    } finally {
      await h.close();
    }
  }
  assert.deepEqual(runs[1], runs[0]);
  assert.deepEqual(runs[2], runs[0]);
  const final = runs[0][3];
  const turn = final.slice(final.lastIndexOf('<|im_start|>assistant'));
  assert.equal(turn.split('<end_code>').length - 1, 3, 'one <end_code> per step');
  assert.ok(final.endsWith('```\n<end_code>\n```output\nb\n```\n'));
  // Our own "no code block" message reaches the model legible: no defaced tags in it.
  const formatError = final.slice(final.indexOf('Hmm, no block here.'), final.lastIndexOf('print("b")'));
  assert.match(formatError, /no code block found/);
  assert.ok(!formatError.includes('\u2039'), formatError);
});

test('prefix cache: every prompt extends the previous one byte for byte, across a mid-stream retry, a nudge and the conclusion', async () => {
  const conclude = readFileSync(join(promptsDir, 'conclude.md'), 'utf8');
  const nudge = readFileSync(join(promptsDir, 'nudge.md'), 'utf8');
  const t0 = codeTurn('print("x")', 'First I compute something rather long to be cut.\n');
  const gen0 = t0.slice(0, t0.indexOf('<end_code>'));
  const h = await harness(sandbox, [{ text: t0, errorAfter: 20 }, t0.slice(20), codeTurn('print("y")'), 'Hmm.', 'Still hmm.', 'Final: x and y.'], {
    deps: { maxSteps: 5 },
  });
  try {
    const events = await collect(h.engine, { question: 'q' });
    const a = last(events);
    assert.equal(a.type, 'answer');
    if (a.type === 'answer') assert.equal(a.text, 'Final: x and y.');
    const p = h.llm.prompts();
    assert.equal(p.length, 6);
    for (let i = 1; i < p.length; i++) assert.ok(p[i].startsWith(p[i - 1]), `prompt ${i} extends prompt ${i - 1}`);
    const out = (s: string) => `<end_code>\n\`\`\`output\n${s}\n\`\`\`\n`;
    const gen1 = codeTurn('print("y")').slice(0, codeTurn('print("y")').indexOf('<end_code>'));
    assert.equal(p[1], p[0] + gen0.slice(0, 20));
    assert.equal(p[2], p[0] + gen0 + out('x'));
    assert.equal(p[3], p[2] + gen1 + out('y'));
    assert.equal(p[4], `${p[3]}Hmm.${nudge}`);
    assert.equal(p[5], `${p[4]}Still hmm.${conclude}`);
  } finally {
    await h.close();
  }
});

test('configured sampling reaches the server in the JSON body of every turn (top_k included), with max_tokens per turn', async () => {
  const h = await harness(sandbox, [codeTurn('print(1)'), 'ok\n</think>\n\nDone.'], {
    llmSettings: { temperature: 0.7, topP: 0.8, topK: 20, maxTokens: 1000 },
  });
  try {
    assert.equal(last(await collect(h.engine, { question: 'q' })).type, 'answer');
    const calls = h.llm.requests.filter((r) => r.path === '/v1/completions');
    assert.equal(calls.length, 2);
    for (const c of calls) {
      assert.deepEqual(
        [c.body.temperature, c.body.top_p, c.body.top_k, c.body.max_tokens, c.body.stream, c.body.stop],
        [0.7, 0.8, 20, 1000, true, ['<end_code>']],
      );
      assert.equal(typeof c.body.prompt, 'string', 'a raw prompt, not chat messages');
      assert.equal(c.body.messages, undefined);
    }
  } finally {
    await h.close();
  }
});

test('a prompt folder with only system.md and hint.md takes the bundled texts for the rest', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cir-prompts-min-'));
  try {
    writeFileSync(join(dir, 'system.md'), 'ONLY SYSTEM {date}');
    writeFileSync(join(dir, 'hint.md'), 'ONLY HINT\n');
    const texts = await loadPrompts(dir);
    assert.equal(texts.system, 'ONLY SYSTEM {date}');
    assert.equal(texts.hint, 'ONLY HINT\n');
    assert.equal(texts.conclude, readFileSync(join(promptsDir, 'conclude.md'), 'utf8'));
    assert.equal(texts.nudge, readFileSync(join(promptsDir, 'nudge.md'), 'utf8'));
    rmSync(join(dir, 'hint.md'));
    await assert.rejects(loadPrompts(dir), /hint\.md cannot be read/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
