// Token counting back-ends, the context limit, the optional report call, the terminal renderer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLlmClient } from '../../src/engine/llm.ts';
import { createTokenCounter } from '../../src/engine/tokens.ts';
import type { ResearchEvent } from '../../src/engine/events.ts';
import { silentLogger } from '../../src/util/log.ts';
import { humanRenderer, jsonRenderer } from '../../src/platforms/terminal/render.ts';
import type { Sandbox } from '../../src/sandbox/index.ts';
import { startFakeLlm } from '../fakes/llm.ts';
import { codeTurn, collect, harness, last, only, testSandbox } from './helpers.ts';

let sandbox: Sandbox;
before(async () => {
  sandbox = await testSandbox();
});
after(async () => {
  await sandbox.close();
});

test('token counter: vLLM /tokenize at the root, local Qwen3 tokenizer when the server has none', async () => {
  const vllm = await startFakeLlm([]);
  const none = await startFakeLlm([], { tokenize: false });
  try {
    const a = createTokenCounter({ baseUrl: vllm.baseUrl, model: 'm', apiKey: 'k', logger: silentLogger });
    const cut = await a.truncate('one two three four five six', 3);
    assert.deepEqual(cut, { text: 'one two three', tokens: 6, truncated: true });
    assert.equal(a.source, 'vllm');
    const req = vllm.requests.find((r) => r.path === '/tokenize');
    assert.equal(req?.body.add_special_tokens, false);
    assert.equal((await a.truncate('short', 100)).truncated, false);

    const b = createTokenCounter({ baseUrl: none.baseUrl, model: 'm', apiKey: 'k', logger: silentLogger });
    const text = 'Hello world, this is the Qwen3 tokenizer speaking. '.repeat(20);
    const n = await b.count(text);
    assert.equal(b.source, 'local');
    assert.ok(n > 100 && n < 400, `plausible Qwen3 count: ${n}`);
    const c = await b.truncate(text, 50);
    assert.equal(c.truncated, true);
    assert.ok(text.startsWith(c.text) && c.text.length > 100);
    assert.equal(await b.count('<|im_end|>'), 1, 'special tokens are single ids');
  } finally {
    await Promise.all([vllm.close(), none.close()]);
  }
});

test('the context limit (the server\'s max_model_len, below the configured one) asks the model to conclude', async () => {
  // A tiny served context: a few observations (cut to 100 tokens) fill it up.
  const h = await harness(
    sandbox,
    ({ prompt }) => (prompt.includes('budget') && prompt.trimEnd().endsWith('</think>') ? 'Best guess: 7.' : codeTurn('print("x " * 3000)')),
    { llm: { maxModelLen: 5000 }, llmSettings: { contextTokens: 32768 }, deps: { observationTokens: 100 } },
  );
  try {
    const events = await collect(h.engine, { question: 'q' });
    assert.deepEqual(only(events, 'concluding').map((e) => e.reason), ['context']);
    const a = last(events);
    assert.equal(a.type, 'answer');
    if (a.type === 'answer') assert.equal(a.text, 'Best guess: 7.');
    for (const r of h.llm.requests.filter((x) => x.path === '/v1/completions')) assert.ok((r.body.max_tokens as number) <= 5000);
  } finally {
    await h.close();
  }
});

test('CIR_REPORT: a second call writes the report that replaces the answer', async () => {
  const h = await harness(
    sandbox,
    [codeTurn('print(web_visit("https://example.org/paris"))'), 'ok\n</think>\n\nParis.', '<think>\nplan\n</think>\n\n# Report\nParis is the capital [Paris](https://example.org/paris).'],
    { deps: { report: true } },
  );
  try {
    const events = await collect(h.engine, { question: 'Capital?' });
    const a = last(events);
    assert.equal(a.type, 'answer');
    if (a.type !== 'answer') return;
    assert.equal(a.text, '# Report\nParis is the capital [1].');
    assert.equal(a.citations[0].verified, true);
    const reportPrompt = h.llm.prompts()[2];
    assert.ok(reportPrompt.startsWith('<|im_start|>user\n'));
    assert.ok(reportPrompt.includes('Paris is the capital of France'), 'the research is in the report prompt');
    assert.ok(!reportPrompt.includes('<start_code>'), 'protocol tags are defused inside the report prompt');
    assert.deepEqual(h.llm.requests.filter((r) => r.path === '/v1/completions')[2].body.stop, []);
  } finally {
    await h.close();
  }
});

test('terminal: human rendering shows steps, trimmed output and marked sources; --json is one event per line', () => {
  const events: ResearchEvent[] = [
    { type: 'started', sessionId: 's', question: 'Capital?', maxSteps: 32, at: 0 },
    { type: 'thinking', text: 'Let me check.' },
    { type: 'code', step: 1, code: 'print(web_visit("https://a.example"))' },
    { type: 'tool', step: 1, name: 'web_visit', arg: 'https://a.example' },
    { type: 'observation', step: 1, output: Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n'), error: null, stateLost: false, durationMs: 120 },
    { type: 'writing' },
    {
      type: 'answer',
      text: 'Paris [1], maybe [2].',
      citations: [
        { n: 1, url: 'https://a.example', title: 'A', verified: true, status: 'read' },
        { n: 2, url: 'https://b.example', title: 'b.example', verified: false, status: 'unseen' },
      ],
      steps: 1,
      usage: { promptTokens: 10, completionTokens: 5 },
      durationMs: 1500,
    },
  ];
  let human = '';
  const r = humanRenderer({ write: (s: string) => (human += s) }, { color: false, observationLines: 5 });
  events.forEach(r);
  assert.match(human, /Researching: Capital\?/);
  assert.match(human, /Let me check\.\n── step 1\/32/);
  assert.match(human, /→ web_visit\("https:\/\/a\.example"\)/);
  assert.match(human, /│ line 4\n  │ … 25 more lines/);
  assert.ok(!human.includes('line 5\n'));
  assert.match(human, /\[1\] A — https:\/\/a\.example \(read\)/);
  assert.match(human, /\[2\] b\.example — https:\/\/b\.example \(NOT SEEN in the research: unverified\)/);
  let json = '';
  const j = jsonRenderer({ write: (s: string) => (json += s) });
  events.forEach(j);
  const lines = json.trimEnd().split('\n');
  assert.equal(lines.length, events.length);
  assert.deepEqual(JSON.parse(lines[6]), events[6]);
});

test('a sandbox that cannot start ends the research with a clear error', async () => {
  const broken: Sandbox = {
    open: async () => Promise.reject(new Error('wasm missing')),
    status: () => ({ ready: 0, busy: 0, idle: 0, starting: 0, saved: 0, savedChars: 0, live: 0, maxLive: 1, isolation: { network: 'none', fsPermission: false } }),
    close: async () => {},
  };
  const h = await harness(broken, [codeTurn('print(1)')]);
  try {
    const e = last(await collect(h.engine, { question: 'q' }));
    assert.equal(e.type, 'error');
    if (e.type === 'error') assert.match(e.message, /Python sandbox could not start: wasm missing/);
  } finally {
    await h.close();
  }
});

test('model client: vLLM stop_reason and SGLang matched_stop both map to stop / eos / length', async () => {
  for (const flavour of ['vllm', 'sglang'] as const) {
    const llm = await startFakeLlm(['a <start_code>\nx=1\n<end_code> never', 'done.', 'one two three four five'], { flavour });
    try {
      const client = createLlmClient({ baseUrl: llm.baseUrl, model: 'Intelligent-Internet/II-Search-CIR-4B', apiKey: 'k', temperature: 0.6, topP: 0.95, topK: -1, timeoutMs: 5000, logger: silentLogger });
      const stop = await client.generate({ prompt: 'p', maxTokens: 100, stop: ['<end_code>'] });
      assert.deepEqual([stop.text, stop.finish, stop.matchedStop], ['a <start_code>\nx=1\n', 'stop', '<end_code>'], flavour);
      const eos = await client.generate({ prompt: 'p', maxTokens: 100, stop: ['<end_code>'] });
      assert.deepEqual([eos.text, eos.finish], ['done.', 'eos'], flavour);
      const cut = await client.generate({ prompt: 'p', maxTokens: 2, stop: ['<end_code>'] });
      assert.deepEqual([cut.text, cut.finish, cut.finishReason], ['one two', 'length', 'length'], flavour);
      assert.ok(cut.usage && cut.usage.completionTokens === 2);
      assert.equal(await client.servedContext(), 131072);
    } finally {
      await llm.close();
    }
  }
});
