// Chat layer overhead: sessions through createChatService (admission, bottleneck scheduling,
// SQLite store, view reducer, render pacing) against the same engine consumed directly with the
// same concurrency. Also splitMessage against plain fixed-size slicing.
import type { ResearchEngine, ResearchEvent, ResearchInput } from '../src/engine/events.ts';
import { createChatService } from '../src/chat/service.ts';
import { openSessionStore } from '../src/chat/store.ts';
import { DEFAULT_CHAT_LIMITS } from '../src/chat/limits.ts';
import { splitMessage } from '../src/chat/text.ts';
import type { ThreadSurface } from '../src/chat/types.ts';

const engine: ResearchEngine = {
  async *research(input: ResearchInput): AsyncIterable<ResearchEvent> {
    yield { type: 'started', sessionId: input.sessionId ?? '', question: input.question, maxSteps: 32, at: 0 };
    for (let step = 1; step <= 5; step++) {
      yield { type: 'code', step, code: `print(web_search("q${step}"))` };
      await new Promise((r) => setImmediate(r));
      yield { type: 'observation', step, output: 'result line\n'.repeat(200), error: null, stateLost: false, durationMs: 1 };
    }
    yield {
      type: 'answer',
      text: 'An answer [1] with [2] sources.',
      citations: [
        { n: 1, url: 'https://a.example/', title: 'A', verified: true, status: 'read' },
        { n: 2, url: 'https://b.example/', title: 'B', verified: false, status: 'unseen' },
      ],
      steps: 5,
      usage: { promptTokens: 1, completionTokens: 1 },
      durationMs: 1,
    };
  },
};

const surface: ThreadSurface = { render: async () => {}, notify: async () => {}, attachTrace: async () => {} };

async function direct(n: number, concurrency: number): Promise<number> {
  const t = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next += 1;
        for await (const _ of engine.research({ question: 'q' })) void _;
      }
    }),
  );
  return performance.now() - t;
}

async function viaChat(n: number, concurrency: number): Promise<number> {
  const store = openSessionStore(':memory:');
  const chat = createChatService({
    engine,
    store,
    limits: { ...DEFAULT_CHAT_LIMITS, maxConcurrent: concurrency, userQuota: n, workspaceQuota: n, queueMax: n },
  });
  const t = performance.now();
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      chat.submit({ platform: 'slack', workspaceId: 'T', channelId: 'C', threadId: `t${i}`, userId: `U${i % 50}`, question: `q${i}` }, surface, {
        minIntervalMs: 50,
      }),
    ),
  );
  await chat.idle();
  const ms = performance.now() - t;
  store.close();
  return ms;
}

export default async function (): Promise<void> {
  const n = 300;
  await direct(20, 4);
  await viaChat(20, 4); // warm-up
  const base = await direct(n, 4);
  const chat = await viaChat(n, 4);
  console.log(`sessions: ${n} (5 steps each), concurrency 4`);
  console.log(`  direct engine:   ${(base / n).toFixed(2)} ms/session`);
  console.log(`  via chat layer:  ${(chat / n).toFixed(2)} ms/session (x${(chat / base).toFixed(1)} of direct; overhead ${((chat - base) / n).toFixed(2)} ms/session)`);

  const text = Array.from({ length: 400 }, (_, i) => (i % 10 === 9 ? '```python\nprint(1)\n```\n\n' : `Sentence ${i} of the answer. `)).join('');
  const rounds = 300;
  let t = performance.now();
  for (let i = 0; i < rounds; i++) for (let j = 0; j < text.length; j += 1900) void text.slice(j, j + 1900);
  const slice = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < rounds; i++) splitMessage(text, 2000);
  const split = performance.now() - t;
  console.log(`splitMessage (${text.length} chars into 2000): ${((split / rounds) * 1000).toFixed(0)} µs/call (x${(split / slice).toFixed(0)} of plain slicing)`);
}
