// Model servers for machines without a big GPU: llama.cpp's llama-server and Ollama next to vLLM
// and SGLang, each against a local fake of its dialect (test/fakes/llm.ts): stop reporting, the
// tokenizer endpoint (or the local fallback), the served context, and a research end to end.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLlmClient } from '../../src/engine/llm.ts';
import { createTokenCounter } from '../../src/engine/tokens.ts';
import type { Sandbox } from '../../src/sandbox/index.ts';
import { silentLogger } from '../../src/util/log.ts';
import { startFakeLlm } from '../fakes/llm.ts';
import { codeTurn, collect, harness, last, only, testSandbox } from './helpers.ts';

const MODEL = 'Intelligent-Internet/II-Search-CIR-4B';
let sandbox: Sandbox;
before(async () => {
  sandbox = await testSandbox();
});
after(async () => {
  await sandbox.close();
});

for (const flavour of ['llama.cpp', 'ollama'] as const) {
  test(`${flavour}: stop at <end_code> / eos / length, the served context, and the tokenizer it offers`, async () => {
    const llm = await startFakeLlm(['a <start_code>\nx=1\n<end_code> never', 'done.', 'one two three four five'], { flavour, servedContext: 16384 });
    try {
      const client = createLlmClient({ baseUrl: llm.baseUrl, model: MODEL, apiKey: 'k', temperature: 0.6, topP: 0.95, topK: -1, timeoutMs: 5000, logger: silentLogger });
      const stop = await client.generate({ prompt: 'p', maxTokens: 100, stop: ['<end_code>'] });
      // llama-server names the stop string (stop_type "word"); Ollama says only "stop", so the turn reads as an end.
      assert.equal(stop.text, 'a <start_code>\nx=1\n');
      assert.deepEqual([stop.finish, stop.matchedStop], flavour === 'llama.cpp' ? ['stop', '<end_code>'] : ['eos', null]);
      const eos = await client.generate({ prompt: 'p', maxTokens: 100, stop: ['<end_code>'] });
      assert.deepEqual([eos.text, eos.finish], ['done.', 'eos']);
      const cut = await client.generate({ prompt: 'p', maxTokens: 2, stop: ['<end_code>'] });
      assert.deepEqual([cut.text, cut.finish], ['one two', 'length']);
      assert.equal(await client.servedContext(), 16384, 'the context the server was started with (-c / num_ctx)');

      const tokens = createTokenCounter({ baseUrl: llm.baseUrl, model: MODEL, apiKey: 'k', logger: silentLogger });
      // The fake's toy tokenizer makes 3 tokens of this; the local Qwen3 tokenizer also 3 (one per word).
      assert.equal(await tokens.count('one two three'), 3);
      assert.equal(tokens.source, flavour === 'llama.cpp' ? 'llama.cpp' : 'local');
      if (flavour === 'llama.cpp') {
        const cutText = await tokens.truncate('one two three four five six seven eight nine ten', 4);
        assert.deepEqual([cutText.text, cutText.truncated], ['one two three four', true]);
        assert.ok(llm.requests.some((r) => r.path === '/tokenize' && r.body.content === 'one two three'), 'llama-server is asked with {content}');
      }
    } finally {
      await llm.close();
    }
  });

  test(`${flavour}: a research runs its code and answers end to end`, async () => {
    const h = await harness(sandbox, [codeTurn('print(6 * 7)'), 'Done.\n</think>\n\nIt is 42.'], { llm: { flavour, servedContext: 32768 } });
    try {
      const events = await collect(h.engine, { question: 'What is six times seven?' });
      assert.equal(only(events, 'observation')[0].output, '42');
      const a = last(events);
      assert.equal(a.type, 'answer');
      if (a.type === 'answer') assert.equal(a.text, 'It is 42.');
      // The stop string is written back once whatever the dialect reported.
      const p = h.llm.prompts()[1];
      assert.equal(p.slice(p.lastIndexOf('<|im_start|>assistant')).split('<end_code>').length - 1, 1);
    } finally {
      await h.close();
    }
  });
}
