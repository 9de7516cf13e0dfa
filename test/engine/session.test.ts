// Scripted research sessions over real HTTP (fake model server) with the real Pyodide sandbox.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sandbox } from '../../src/sandbox/index.ts';
import { codeTurn, collect, harness, last, only, promptsDir, testSandbox } from './helpers.ts';

let sandbox: Sandbox;
before(async () => {
  sandbox = await testSandbox();
});
after(async () => {
  await sandbox.close();
});

const conclude = readFileSync(join(promptsDir, 'conclude.md'), 'utf8');
const nudge = readFileSync(join(promptsDir, 'nudge.md'), 'utf8');

test('search -> visit -> answer: events, sources ledger, request parameters, prefix-identical prompts', async () => {
  const turns = [
    codeTurn('r = web_search("capital of France", num_result=5)\nprint(r)', 'I should search first.\n'),
    codeTurn('page = web_visit("https://example.org/paris")\nprint(page[:200])'),
    'The page says Paris.\n</think>\n\nThe capital of France is Paris [Paris](https://example.org/paris), ' +
      'see also [news](https://news.example.com/france) and [this](https://made-up.example.com/x).',
  ];
  const h = await harness(sandbox, turns);
  try {
    const events = await collect(h.engine, { question: 'What is the capital of France?' });
    assert.equal(events[0].type, 'started');
    const codes = only(events, 'code');
    assert.deepEqual(codes.map((c) => c.step), [1, 2]);
    assert.equal(codes[0].code, 'r = web_search("capital of France", num_result=5)\nprint(r)');
    const tools = only(events, 'tool');
    assert.deepEqual(tools.map((t) => [t.step, t.name, t.arg]), [
      [1, 'web_search', 'capital of France'],
      [2, 'web_visit', 'https://example.org/paris'],
    ]);
    const obs = only(events, 'observation');
    assert.match(obs[0].output, /^Index: 0\nURL: https:\/\/example\.org\/paris\nTitle: Paris - Example Encyclopedia/);
    assert.match(obs[1].output, /Paris is the capital of France/);
    assert.equal(obs[1].error, null);
    const thinking = only(events, 'thinking').map((e) => e.text).join('');
    assert.ok(thinking.startsWith('I should search first.\n'));
    assert.ok(!thinking.includes('<start_code>') && !thinking.includes('</think>') && !thinking.includes('capital of France is'));
    assert.ok(only(events, 'writing').length === 1);

    const answer = last(events);
    assert.equal(answer.type, 'answer');
    if (answer.type !== 'answer') return;
    assert.equal(answer.text, 'The capital of France is Paris [1], see also news [2] and [3].');
    assert.deepEqual(
      answer.citations.map((c) => [c.n, c.url, c.status, c.verified]),
      [
        [1, 'https://example.org/paris', 'read', true],
        [2, 'https://news.example.com/france', 'seen', false],
        [3, 'https://made-up.example.com/x', 'unseen', false],
      ],
    );
    assert.equal(answer.steps, 2);
    assert.ok(answer.usage.completionTokens > 0);

    // The wire: raw prompts, sampling defaults, stop string, streaming.
    const calls = h.llm.requests.filter((r) => r.path === '/v1/completions');
    assert.equal(calls.length, 3);
    for (const c of calls) {
      assert.equal(c.body.temperature, 0.6);
      assert.equal(c.body.top_p, 0.95);
      assert.equal(c.body.top_k, -1);
      assert.deepEqual(c.body.stop, ['<end_code>']);
      assert.equal(c.body.stream, true);
      assert.equal(c.body.model, 'Intelligent-Internet/II-Search-CIR-4B');
    }
    const prompts = h.llm.prompts();
    assert.ok(prompts[0].startsWith('<|im_start|>system\n'));
    assert.ok(prompts[0].includes('<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n<think>\n'));
    for (let i = 1; i < prompts.length; i++) assert.ok(prompts[i].startsWith(prompts[i - 1]), `prompt ${i} extends prompt ${i - 1}`);
    // Exactly: previous prompt + the model's text + <end_code> + the output block.
    const gen0 = turns[0].slice(0, turns[0].indexOf('<end_code>'));
    assert.equal(prompts[1], `${prompts[0]}${gen0}<end_code>\n\`\`\`output\n${obs[0].output}\n\`\`\`\n`);
  } finally {
    await h.close();
  }
});

test('variables persist across steps; code errors come back as a short traceback', async () => {
  const h = await harness(sandbox, [
    codeTurn('x = 41'),
    codeTurn('print(x + 1)'),
    codeTurn('print("before")\n1/0'),
    codeTurn('web_visit("https://example.org/missing")'),
    'Done.\n</think>\n\n42.',
  ]);
  try {
    const events = await collect(h.engine, { question: 'q' });
    const obs = only(events, 'observation');
    assert.equal(obs[1].output, '42');
    assert.equal(obs[2].error !== null, true);
    assert.match(obs[2].output, /^before\nTraceback \(most recent call last\):[\s\S]*ZeroDivisionError/);
    assert.ok(obs[2].output.split('\n').length < 12, 'traceback is short');
    assert.match(obs[3].output, /HTTP 404/);
    const a = last(events);
    assert.equal(a.type, 'answer');
    if (a.type === 'answer') assert.equal(a.text, '42.');
  } finally {
    await h.close();
  }
});

test('step budget: after CIR_MAX_STEPS code steps the model is asked to conclude', async () => {
  const h = await harness(
    sandbox,
    ({ prompt }) => (prompt.endsWith(conclude) ? 'Paris, probably.' : codeTurn('print("again")')),
    { deps: { maxSteps: 3 } },
  );
  try {
    const events = await collect(h.engine, { question: 'q' });
    assert.equal(only(events, 'code').length, 3);
    assert.ok(!only(events, 'thinking').some((e) => e.text.includes('Paris')), 'the answer is not shown as thinking');
    const c = only(events, 'concluding');
    assert.deepEqual(c.map((e) => e.reason), ['steps']);
    const a = last(events);
    assert.equal(a.type, 'answer');
    if (a.type === 'answer') assert.equal(a.text, 'Paris, probably.');
    assert.equal(h.llm.prompts().length, 4);
  } finally {
    await h.close();
  }
});

test('a model that keeps writing code after being asked to conclude still ends with a clear outcome', async () => {
  const h = await harness(sandbox, () => codeTurn('print(1)', ''), { deps: { maxSteps: 1 } });
  try {
    const events = await collect(h.engine, { question: 'q' });
    const end = last(events);
    assert.equal(end.type, 'error');
    if (end.type === 'error') assert.match(end.message, /without writing an answer/);
    assert.equal(only(events, 'code').length, 1, 'no code runs after concluding');
    assert.ok(h.llm.prompts()[2].includes('no more code can run'));
  } finally {
    await h.close();
  }
});

test('a turn with neither code nor </think> is nudged once, then concluded', async () => {
  const h = await harness(sandbox, ['Hmm, I think I know this.', '', 'Still thinking...', 'Berlin.']);
  try {
    const events = await collect(h.engine, { question: 'q' });
    const prompts = h.llm.prompts();
    assert.ok(prompts[1].endsWith(`Hmm, I think I know this.${nudge}`));
    // The empty completion after the nudge counts as a second stall: conclude.
    assert.deepEqual(only(events, 'concluding').map((e) => e.reason), ['stalled']);
    assert.ok(prompts[2].endsWith(conclude));
    const a = last(events);
    assert.equal(a.type, 'answer');
    if (a.type === 'answer') assert.equal(a.text, 'Still thinking...');
  } finally {
    await h.close();
  }
});

test('a code block cut by the length limit is not run and the model is told', async () => {
  const long = Array.from({ length: 200 }, (_, i) => `v${i} = ${i}`).join('\n');
  const h = await harness(sandbox, [`Let me compute.\n<start_code>\n\`\`\`python\n${long}\n\`\`\`\n<end_code>`, 'OK.\n</think>\n\nDone.'], {
    llmSettings: { maxTokens: 50 },
  });
  try {
    const events = await collect(h.engine, { question: 'q' });
    const obs = only(events, 'observation');
    assert.equal(obs.length, 1);
    assert.match(obs[0].output, /cut off by the length limit/);
    assert.equal(only(events, 'code')[0].code.startsWith('v0 = 0'), true);
    assert.equal(last(events).type, 'answer');
  } finally {
    await h.close();
  }
});

test('observations are cut to the token budget (server /tokenize, SGLang flavour) and web text is defused', async () => {
  const h = await harness(
    sandbox,
    [codeTurn('print(" ".join(["word"] * 5000))'), codeTurn('print(web_visit("https://evil.example.net/"))'), 'ok\n</think>\n\nfine'],
    { llm: { flavour: 'sglang' }, deps: { observationTokens: 100 } },
  );
  try {
    const events = await collect(h.engine, { question: 'q' });
    const obs = only(events, 'observation');
    assert.match(obs[0].output, /output cut at 100 of 5000 tokens/);
    assert.equal(obs[0].output.split('word').length - 1, 100);
    assert.ok(h.llm.requests.some((r) => r.path === '/v1/tokenize'), 'SGLang tokenizer endpoint used');
    for (const bad of ['<|im_end|>', '<|im_start|>', '</think>', '<end_code>']) assert.ok(!obs[1].output.includes(bad), bad);
    const p = h.llm.prompts()[2];
    assert.equal(p.split('<|im_start|>').length - 1, 3, 'no injected ChatML turn');
    assert.equal(last(events).type, 'answer');
  } finally {
    await h.close();
  }
});

test('follow-up: history is framed as earlier turns', async () => {
  const h = await harness(sandbox, ['Known.\n</think>\n\nStill Paris.']);
  try {
    const events = await collect(h.engine, { question: 'And in 1900?', history: [{ question: 'Capital of France?', answer: 'Paris.' }] });
    assert.equal(last(events).type, 'answer');
    const p = h.llm.prompts()[0];
    assert.ok(p.includes('<|im_start|>user\nCapital of France?<|im_end|>\n<|im_start|>assistant\nParis.<|im_end|>\n'));
    assert.ok(p.includes('And in 1900?'));
  } finally {
    await h.close();
  }
});
