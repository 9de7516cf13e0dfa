// Chat layer overhead: sessions through createChatService (admission, quotas, bottleneck
// scheduling, SQLite store, view reducer, render pacing, trace) against a baseline doing the same
// necessary work without the chat layer's machinery: each session's row, every event stored, the
// view reduced from each event and rendered once at the end, the trace built, with the same
// concurrency by a plain worker loop. The difference is what scheduling, admission and pacing
// cost. Also splitMessage against plain fixed-size slicing. Wall time and CPU time (this process;
// nothing here runs elsewhere) for each.
import { randomUUID } from 'node:crypto';
import type { ResearchEngine, ResearchEvent, ResearchInput } from '../src/engine/events.ts';
import { createChatService } from '../src/chat/service.ts';
import { openSessionStore } from '../src/chat/store.ts';
import { DEFAULT_CHAT_LIMITS } from '../src/chat/limits.ts';
import { splitMessage } from '../src/chat/text.ts';
import { renderTrace } from '../src/chat/trace.ts';
import type { ThreadSurface } from '../src/chat/types.ts';
import { initialThreadView, reduceThreadView } from '../src/chat/view.ts';

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

interface Cost {
  ms: number;
  cpuMs: number;
}

async function cost(fn: () => Promise<void> | void): Promise<Cost> {
  const c0 = process.cpuUsage();
  const t = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { ms: performance.now() - t, cpuMs: (c.user + c.system) / 1000 };
}

/** The same records, view, render and trace, straight from the engine loop. */
async function direct(n: number, concurrency: number): Promise<Cost> {
  const store = openSessionStore(':memory:');
  let next = 0;
  const c = await cost(async () => {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) {
          const i = next++;
          const id = randomUUID();
          const req = { platform: 'slack' as const, workspaceId: 'T', channelId: 'C', threadId: `t${i}`, userId: `U${i % 50}`, question: `q${i}` };
          const rec = { id, ref: { platform: req.platform, workspaceId: 'T', channelId: 'C', threadId: req.threadId }, userId: req.userId, question: req.question, status: 'queued' as const, createdAt: Date.now(), startedAt: null, finishedAt: null, answer: null, citations: null, error: null, cancelledBy: null, sourceEventId: null, steps: null };
          store.createSession(rec);
          store.updateSession(id, { status: 'running', startedAt: Date.now() });
          let view = initialThreadView(id, req, 32, Date.now());
          let seq = 0;
          for await (const ev of engine.research({ question: req.question, sessionId: id })) {
            store.appendEvent(id, seq++, Date.now(), ev);
            view = reduceThreadView(view, ev, Date.now());
          }
          store.updateSession(id, { status: 'done', finishedAt: Date.now(), steps: view.steps.length });
          await surface.render(view);
          const done = store.getSession(id)!;
          await surface.attachTrace(`t-${id}.md`, renderTrace(done, store.events(id)));
        }
      }),
    );
  });
  store.close();
  return c;
}

async function viaChat(n: number, concurrency: number): Promise<Cost> {
  const store = openSessionStore(':memory:');
  const chat = createChatService({
    engine,
    store,
    limits: { ...DEFAULT_CHAT_LIMITS, maxConcurrent: concurrency, userQuota: n, workspaceQuota: n, queueMax: n },
  });
  const c = await cost(async () => {
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        chat.submit({ platform: 'slack', workspaceId: 'T', channelId: 'C', threadId: `t${i}`, userId: `U${i % 50}`, question: `q${i}` }, surface, {
          minIntervalMs: 50,
        }),
      ),
    );
    await chat.idle();
  });
  store.close();
  return c;
}

const perSession = (c: Cost, n: number) => `${(c.ms / n).toFixed(2)} ms/session wall, ${(c.cpuMs / n).toFixed(2)} ms/session CPU`;

export default async function (): Promise<void> {
  const n = 300;
  await direct(20, 4);
  await viaChat(20, 4); // warm-up
  const chat = await viaChat(n, 4);
  const base = await direct(n, 4);
  console.log(`sessions: ${n} (5 steps each), concurrency 4, render pacing 50 ms`);
  console.log(`  same work without the chat layer: ${perSession(base, n)}`);
  console.log(`  via the chat layer:               ${perSession(chat, n)}`);
  console.log(
    `  overhead: ${((chat.ms - base.ms) / n).toFixed(2)} ms/session wall (x${(chat.ms / base.ms).toFixed(1)}), ${((chat.cpuMs - base.cpuMs) / n).toFixed(2)} ms/session CPU (x${(chat.cpuMs / base.cpuMs).toFixed(1)})`,
  );
  console.log('  (wall time includes the render pacing: the final render waits for its 50 ms slot)');

  const text = Array.from({ length: 400 }, (_, i) => (i % 10 === 9 ? '```python\nprint(1)\n```\n\n' : `Sentence ${i} of the answer. `)).join('');
  const rounds = 300;
  const slice = await cost(() => {
    for (let i = 0; i < rounds; i++) for (let j = 0; j < text.length; j += 1900) void text.slice(j, j + 1900);
  });
  const split = await cost(() => {
    for (let i = 0; i < rounds; i++) splitMessage(text, 2000);
  });
  console.log(
    `splitMessage (${text.length} chars into 2000): ${((split.ms / rounds) * 1000).toFixed(0)} µs/call wall, ${((split.cpuMs / rounds) * 1000).toFixed(0)} µs/call CPU (x${(split.ms / slice.ms).toFixed(0)} of plain slicing, which does not respect code fences)`,
  );
}
