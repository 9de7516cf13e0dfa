// Cancellation and model-server failures: mid-stream errors, dropped connections, 503s,
// an unreachable server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ResearchEvent } from '../../src/engine/events.ts';
import type { Sandbox } from '../../src/sandbox/index.ts';
import { codeTurn, collect, harness, last, only, testSandbox } from './helpers.ts';

let sandbox: Sandbox;
before(async () => {
  sandbox = await testSandbox();
});
after(async () => {
  await sandbox.close();
});

const ANSWER = 'Sure.\n</think>\n\nThe answer.';

async function until(events: AsyncIterable<ResearchEvent>, stopAt: (e: ResearchEvent) => boolean, onStop: () => void): Promise<ResearchEvent[]> {
  const out: ResearchEvent[] = [];
  let fired = false;
  for await (const e of events) {
    out.push(e);
    if (!fired && stopAt(e)) {
      fired = true;
      onStop();
    }
  }
  return out;
}

test('cancel during generation stops the stream and ends with `cancelled`', async () => {
  const h = await harness(sandbox, [{ text: 'Thinking about it at length...', hang: true }]);
  try {
    const ac = new AbortController();
    const events = await until(h.engine.research({ question: 'q', signal: ac.signal }), (e) => e.type === 'thinking', () => ac.abort());
    assert.equal(last(events).type, 'cancelled');
    assert.equal(only(events, 'answer').length, 0);
    for (let i = 0; i < 50 && h.llm.disconnects === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(h.llm.disconnects, 1, 'the HTTP stream was abandoned');
  } finally {
    await h.close();
  }
});

test('cancel during a runaway code block interrupts it and ends with `cancelled`', async () => {
  const h = await harness(sandbox, [codeTurn('while True:\n    pass'), ANSWER]);
  try {
    const ac = new AbortController();
    const events = await until(h.engine.research({ question: 'q', signal: ac.signal }), (e) => e.type === 'code', () => ac.abort());
    assert.equal(last(events).type, 'cancelled');
    assert.equal(only(events, 'observation').length, 0);
    assert.equal(h.llm.prompts().length, 1, 'no further model call');
  } finally {
    await h.close();
  }
});

test('a consumer that stops reading stops the session', async () => {
  const h = await harness(sandbox, [{ text: 'Thinking slowly and at great length about everything.', delayMs: 30, chunk: 2, hang: true }]);
  try {
    for await (const e of h.engine.research({ question: 'q' })) if (e.type === 'thinking') break;
    for (let i = 0; i < 50 && h.llm.disconnects === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(h.llm.disconnects, 1);
  } finally {
    await h.close();
  }
});

test('a 500 in the middle of a stream is retried, continuing from the text received', async () => {
  const first = 'I will answer from memory, carefully.\n</think>\n\nParis.';
  const h = await harness(sandbox, [{ text: first, errorAfter: 12 }, first.slice(12)]);
  try {
    const events = await collect(h.engine, { question: 'q' });
    const a = last(events);
    assert.equal(a.type, 'answer');
    if (a.type === 'answer') assert.equal(a.text, 'Paris.');
    const [p0, p1] = h.llm.prompts();
    assert.equal(p1, p0 + first.slice(0, 12));
    assert.equal(only(events, 'thinking').map((e) => e.text).join(''), 'I will answer from memory, carefully.\n');
  } finally {
    await h.close();
  }
});

test('a dropped connection and a 503 are retried, and the retry log lines carry the session id', async () => {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
  const h = await harness(sandbox, [{ text: ANSWER, dropAfter: 4 }, { text: '', fail: { status: 503 } }, ANSWER.slice(4)], { deps: { logger } });
  try {
    const events = await collect(h.engine, { question: 'q', sessionId: 'sess-42' });
    const a = last(events);
    assert.equal(a.type, 'answer', JSON.stringify(a));
    assert.equal(h.llm.prompts().length, 3);
    const retries = lines.map((l) => JSON.parse(l) as { msg: string; sessionId?: string }).filter((l) => /retrying/.test(l.msg));
    assert.equal(retries.length, 2, lines.join(''));
    assert.ok(retries.every((l) => l.sessionId === 'sess-42'), lines.join(''));
  } finally {
    await h.close();
  }
});

test('persistent server errors end with a retryable error; a 400 is not retried', async () => {
  const h = await harness(sandbox, () => ({ text: '', fail: { status: 500, message: 'boom' } }), { llmSettings: { attempts: 3 } });
  try {
    const events = await collect(h.engine, { question: 'q' });
    const e = last(events);
    assert.equal(e.type, 'error');
    if (e.type === 'error') {
      assert.equal(e.retryable, true);
      assert.match(e.message, /HTTP 500/);
    }
    assert.equal(h.llm.prompts().length, 3);
  } finally {
    await h.close();
  }
  const h2 = await harness(sandbox, []);
  try {
    const e = last(await collect(h2.engine, { question: 'q' }));
    assert.equal(e.type, 'error');
    if (e.type === 'error') {
      assert.equal(e.retryable, false);
      assert.match(e.message, /HTTP 400.*script exhausted/);
    }
    assert.equal(h2.llm.prompts().length, 1);
  } finally {
    await h2.close();
  }
});

test('an unreachable model server gives one clear message with the URL and the vLLM command', async () => {
  // A port that was just free: nothing listens there.
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  const h = await harness(sandbox, [], { llmSettings: { baseUrl: `http://127.0.0.1:${port}/v1` } });
  try {
    const events = await collect(h.engine, { question: 'q' });
    const errors = only(events, 'error');
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, new RegExp(`Cannot reach the model server at http://127\\.0\\.0\\.1:${port}/v1`));
    assert.match(errors[0].message, /vllm serve Intelligent-Internet\/II-Search-CIR-4B --hf-overrides '\{"rope_scaling"/);
  } finally {
    await h.close();
  }
});

test("a generation the server aborted (vLLM finish_reason 'abort') is retried from the text received, not taken as the model's end", async () => {
  const h = await harness(sandbox, [{ text: 'I recall that ', finishReason: 'abort' }, 'it is Paris.\n</think>\n\nParis.']);
  try {
    const events = await collect(h.engine, { question: 'q' });
    const a = last(events);
    assert.equal(a.type, 'answer', JSON.stringify(a));
    if (a.type === 'answer') assert.equal(a.text, 'Paris.');
    const [p0, p1] = h.llm.prompts();
    assert.equal(p1, `${p0}I recall that `);
  } finally {
    await h.close();
  }
});

test('cancel while the model server hangs without answering anything ends with `cancelled`', async () => {
  const seen: string[] = [];
  const srv = createServer((req) => {
    seen.push(req.url ?? ''); // never answers: a server that accepted the connection and hangs
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  const h = await harness(sandbox, [], { llmSettings: { baseUrl: `http://127.0.0.1:${port}/v1` } });
  try {
    const ac = new AbortController();
    const events = await until(h.engine.research({ question: 'q', signal: ac.signal }), (e) => e.type === 'started', () => ac.abort());
    assert.equal(last(events).type, 'cancelled');
    assert.equal(only(events, 'error').length, 0);
  } finally {
    srv.closeAllConnections();
    await new Promise<void>((r) => srv.close(() => r()));
    await h.close();
  }
});
