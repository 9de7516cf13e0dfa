// How a session ends when the model misbehaves around </think>, when the context runs out, and when
// it is cancelled while a tool call is in flight.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sandbox } from '../../src/sandbox/index.ts';
import type { SearchProvider } from '../../src/tools/types.ts';
import { codeTurn, collect, harness, last, only, promptsDir, testSandbox } from './helpers.ts';

let sandbox: Sandbox;
before(async () => {
  sandbox = await testSandbox();
});
after(async () => {
  await sandbox.close();
});

const conclude = readFileSync(join(promptsDir, 'conclude.md'), 'utf8');

test('a turn that writes </think>, prose, then code and stops at <end_code> is research in progress: the code runs and research goes on', async () => {
  // Issue 14: the reference harness looks only at the stop reason, and the SFT data never put a
  // </think> before a block; taking the prose as the answer ended research after one step.
  const turn1 = `Sure.\n</think>\n\nLet me double-check this once more.\n${codeTurn('print("checked")', '')}`;
  const h = await harness(sandbox, [turn1, 'It checks out.\n</think>\n\nParis.']);
  try {
    const events = await collect(h.engine, { question: 'q' });
    assert.equal(only(events, 'code').length, 1);
    assert.equal(only(events, 'observation')[0].output, 'checked');
    const a = last(events);
    assert.equal(a.type, 'answer');
    if (a.type === 'answer') assert.equal(a.text, 'Paris.');
    // The model's turn is kept byte for byte, then the observation; the next turn continues from it.
    const p = h.llm.prompts()[1];
    assert.ok(p.endsWith(`Let me double-check this once more.\n<start_code>\n\`\`\`python\nprint("checked")\n\`\`\`\n<end_code>\n\`\`\`output\nchecked\n\`\`\`\n`), p.slice(-200));
  } finally {
    await h.close();
  }
  // A turn that ends without stopping on code still answers at once, and its trailing code never runs.
  const g = await harness(sandbox, [`Sure.\n</think>\n\nParis.\n<start_code>\n\`\`\`python\nprint("late")\n\`\`\``]);
  try {
    const events = await collect(g.engine, { question: 'q' });
    assert.equal(only(events, 'code').length, 0);
    const a = last(events);
    assert.equal(a.type, 'answer');
    if (a.type === 'answer') assert.equal(a.text, 'Paris.');
  } finally {
    await g.close();
  }
});

test('</think> written twice: the answer is what follows the last one; a </think> inside code is code', async () => {
  const h = await harness(sandbox, [
    codeTurn('print("</think> is just text here")'),
    'Maybe Lyon.\n</think>\nWait, let me re-check: no, it is Paris.\n</think>\n\nParis.',
  ]);
  try {
    const events = await collect(h.engine, { question: 'q' });
    assert.equal(only(events, 'code').length, 1, 'the block printing the tag ran');
    assert.equal(only(events, 'observation')[0].output, '‹/think> is just text here');
    const a = last(events);
    assert.equal(a.type, 'answer');
    if (a.type === 'answer') assert.equal(a.text, 'Paris.');
  } finally {
    await h.close();
  }
});

test('an empty answer is asked for once more from the same prompt; twice empty ends with a clear error', async () => {
  const h = await harness(sandbox, ['Done.\n</think>\n\n', 'Paris.']);
  try {
    const events = await collect(h.engine, { question: 'q' });
    const a = last(events);
    assert.equal(a.type, 'answer');
    if (a.type === 'answer') assert.equal(a.text, 'Paris.');
    const [p0, p1] = h.llm.prompts();
    assert.equal(p1, `${p0}Done.\n</think>\n\n`);
  } finally {
    await h.close();
  }
  const g = await harness(sandbox, ['Done.\n</think>', '  ']);
  try {
    const e = last(await collect(g.engine, { question: 'q' }));
    assert.equal(e.type, 'error');
    if (e.type === 'error') assert.match(e.message, /closed its reasoning but wrote no answer/);
    assert.equal(g.llm.prompts().length, 2);
  } finally {
    await g.close();
  }
});

test('a research turn never eats the room kept for concluding: a rambling model still gets to answer', async () => {
  const h = await harness(sandbox, ({ prompt }) => (prompt.endsWith(conclude) ? 'Best guess: 7.' : 'word '.repeat(20000)), {
    llm: { maxModelLen: 8000 },
    llmSettings: { maxTokens: 16384 },
    deps: { observationTokens: 100 },
  });
  try {
    const events = await collect(h.engine, { question: 'q' });
    const a = last(events);
    assert.equal(a.type, 'answer', JSON.stringify(a));
    if (a.type === 'answer') assert.equal(a.text, 'Best guess: 7.');
    assert.deepEqual(only(events, 'concluding').map((e) => e.reason), ['context']);
    const first = h.llm.requests.find((r) => r.path === '/v1/completions')!;
    assert.ok((first.body.max_tokens as number) <= 8000 - 4096 - 100, `first turn max_tokens ${first.body.max_tokens}`);
  } finally {
    await h.close();
  }
});

test('cancel while a tool call is in flight (a search that never returns) ends with `cancelled`', async () => {
  let searching!: () => void;
  const started = new Promise<void>((r) => (searching = r));
  const stuck: SearchProvider = {
    name: 'stuck',
    search: () => {
      searching();
      return new Promise(() => {}); // ignores the signal too: the engine must not wait for it
    },
  };
  const h = await harness(sandbox, [codeTurn('print(web_search("q"))'), 'never'], { deps: { search: stuck } });
  try {
    const ac = new AbortController();
    void started.then(() => ac.abort());
    const events = await collect(h.engine, { question: 'q', signal: ac.signal });
    assert.equal(last(events).type, 'cancelled');
    assert.equal(only(events, 'observation').length, 0);
    assert.equal(h.llm.prompts().length, 1, 'no further model call');
  } finally {
    await h.close();
  }
});
