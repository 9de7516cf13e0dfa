// The chat service over the REAL engine (real Pyodide sandbox, fake model server over HTTP):
// a cited answer reaches the thread with only verified sources, a follow-up carries the thread's
// history into the model's prompt, and stop cancels a session mid-stream.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createChatService } from '../../src/chat/service.ts';
import { openSessionStore } from '../../src/chat/store.ts';
import type { Sandbox } from '../../src/sandbox/index.ts';
import { codeTurn, harness, testSandbox } from '../engine/helpers.ts';
import { limits, RecordingSurface, request } from './helpers.ts';

// The shared test machine can be very busy: generous timeouts so that load does not fail the test.
const SLOW_MACHINE = { llmSettings: { timeoutMs: 90_000 }, deps: { stepTimeoutMs: 90_000 } };

let sandbox: Sandbox;
before(async () => {
  sandbox = await testSandbox();
});
after(async () => {
  await sandbox.close();
});

test('question, cited answer, follow-up with history, over the real engine', async () => {
  const h = await harness(sandbox, [
    codeTurn('print(web_search("capital of France"))'),
    codeTurn('print(web_visit("https://example.org/paris")[:200])'),
    'Paris it is.\n</think>\n\nMade up [x](https://made-up.example.com/x). The capital is Paris ' +
      '[Paris](https://example.org/paris); see [news](https://news.example.com/france).',
    'Follow-up answer.\n</think>\n\nAbout 2.1 million people live there [Paris](https://example.org/paris).',
  ], SLOW_MACHINE);
  const store = openSessionStore(':memory:');
  const chat = createChatService({ engine: h.engine, store, limits: limits() });
  try {
    const surface = new RecordingSurface();
    const o = await chat.submit(request('U1', 't1', 'What is the capital of France?'), surface, { minIntervalMs: 10 });
    assert.ok(o.accepted);
    await chat.idle();
    const v = surface.last()!;
    assert.equal(v.status.state, 'done');
    assert.equal(v.steps.length, 2);
    assert.match(v.steps[0].observation ?? '', /example\.org\/paris/);
    assert.deepEqual(
      v.answer!.sources.map((s) => [s.n, s.domain, s.status]),
      [
        [1, 'example.org', 'read'],
        [2, 'news.example.com', 'seen'],
      ],
    );
    assert.doesNotMatch(v.answer!.text, /made-up/);
    for (const m of v.answer!.text.matchAll(/\[(\d+)\]/g)) assert.ok(Number(m[1]) <= v.answer!.sources.length, m[0]);

    const follow = new RecordingSurface();
    const o2 = await chat.submit(request('U2', 't1', 'How many people live there?'), follow, { minIntervalMs: 10 });
    assert.ok(o2.accepted);
    await chat.idle();
    assert.equal(follow.last()!.status.state, 'done');
    const lastPrompt = h.llm.prompts().at(-1)!;
    assert.ok(lastPrompt.includes('What is the capital of France?'), 'the earlier question is in the prompt');
    assert.ok(lastPrompt.includes('How many people live there?'));
    assert.equal((await chat.history(request('U1', 't1'))).length, 2);
    assert.match((await chat.trace(o.sessionId))!, /## Step 2/);
  } finally {
    store.close();
    await h.close();
  }
});

test('stop cancels a session while the model is streaming', async () => {
  const h = await harness(sandbox, [{ text: 'Thinking for a long time', hang: true, chunk: 4 }], SLOW_MACHINE);
  const store = openSessionStore(':memory:');
  const chat = createChatService({ engine: h.engine, store, limits: limits() });
  try {
    const surface = new RecordingSurface();
    const o = await chat.submit(request('U1', 't1', 'A slow question?'), surface, { minIntervalMs: 5 });
    assert.ok(o.accepted);
    while (chat.stats().running === 0 || h.llm.prompts().length === 0) await new Promise((r) => setTimeout(r, 5));
    assert.equal(await chat.cancel(request('U1', 't1'), 'U1'), 'stopped');
    await chat.idle();
    assert.deepEqual(surface.last()!.status, { state: 'cancelled', by: 'U1' });
    assert.equal(store.getSession(o.sessionId)!.status, 'cancelled');
    // The engine let go of the model stream.
    while (h.llm.disconnects === 0) await new Promise((r) => setTimeout(r, 5));
    assert.equal(h.llm.disconnects, 1);
  } finally {
    store.close();
    await h.close();
  }
});
