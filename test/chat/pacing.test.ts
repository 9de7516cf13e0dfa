import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResearchEvent, ResearchInput } from '../../src/engine/events.ts';
import { createChatService, type ChatEvent } from '../../src/chat/service.ts';
import { openSessionStore } from '../../src/chat/store.ts';
import type { ThreadView } from '../../src/chat/types.ts';
import { gatedEngine, instantEngine } from '../fakes/scripted-engine.ts';
import { limits, RecordingSurface, request } from './helpers.ts';

/**
 * 40 steps in 4 bursts of 10, then an answer. Within a burst the events follow each other in
 * microtasks, so no timer (hence no paced render) can run in between, however slow the machine:
 * a render can only ever show whole bursts.
 */
const burstEngine = {
  async *research(input: ResearchInput): AsyncIterable<ResearchEvent> {
    yield { type: 'started', sessionId: input.sessionId ?? '', question: input.question, maxSteps: 40, at: 0 };
    for (let step = 1; step <= 40; step++) {
      yield { type: 'code', step, code: `print(${step})` };
      yield { type: 'observation', step, output: String(step), error: null, stateLost: false, durationMs: 0 };
      if (step % 10 === 0) await new Promise((r) => setTimeout(r, 20));
    }
    yield { type: 'answer', text: 'done', citations: [], steps: 40, usage: { promptTokens: 1, completionTokens: 1 }, durationMs: 1 };
  },
};

test('renders are coalesced and paced per thread; the final state always arrives', async () => {
  const store = openSessionStore(':memory:');
  const chat = createChatService({ engine: burstEngine, store, limits: limits() });
  const starts: number[] = [];
  const surface = new RecordingSurface();
  const render = surface.render.bind(surface);
  surface.render = (v: ThreadView) => {
    starts.push(performance.now());
    return render(v);
  };
  const o = await chat.submit(request('U1', 't1'), surface, { minIntervalMs: 50 });
  assert.ok(o.accepted);
  await chat.idle();
  // 80+ events, few renders: each shows whole bursts (coalesced), so at most one per burst and the final one.
  const stepCounts = surface.renders.map((v) => v.steps.length);
  assert.ok(stepCounts.every((n) => n % 10 === 0), `renders of ${stepCounts.join(', ')} steps`);
  assert.ok(surface.renders.length <= 6, `${surface.renders.length} renders`);
  assert.equal(surface.maxInflight, 1, 'never two renders of one thread at once');
  const last = surface.last()!;
  assert.equal(last.status.state, 'done');
  assert.equal(last.steps.length, 40);
  assert.deepEqual(stepCounts, [...stepCounts].sort((a, b) => a - b), 'views never go backwards');
  // Launches follow the interval (bottleneck minTime); a job's own start latency varies with the
  // machine's load, so allow one interval of jitter.
  assert.ok(starts.at(-1)! - starts[0] >= (starts.length - 2) * 50, `${starts.length} renders in ${starts.at(-1)! - starts[0]} ms`);
  store.close();
});

test('a surface that is rate limited at first still receives the final view', async () => {
  const store = openSessionStore(':memory:');
  const chat = createChatService({ engine: instantEngine(), store, limits: limits() });
  const errors: ChatEvent[] = [];
  chat.onEvent((e) => e.kind === 'render-error' && errors.push(e));
  const surface = new RecordingSurface(4);
  const o = await chat.submit(request('U1', 't1'), surface, { minIntervalMs: 5 });
  assert.ok(o.accepted);
  await chat.idle();
  assert.equal(surface.failures, 4);
  assert.equal(errors.length, 4);
  assert.equal(surface.last()!.status.state, 'done');
  assert.equal(surface.renders.filter((v) => v.status.state === 'done').length, 1);
  store.close();
});

test('a surface that never accepts a render is given up on after the final attempts', async () => {
  const store = openSessionStore(':memory:');
  const chat = createChatService({ engine: instantEngine(), store, limits: limits() });
  const surface = new RecordingSurface(1_000_000);
  const o = await chat.submit(request('U1', 't1'), surface, { minIntervalMs: 1, finalAttempts: 3 });
  assert.ok(o.accepted);
  await chat.idle();
  assert.equal(surface.renders.length, 0);
  assert.ok(surface.failures >= 3);
  assert.equal(chat.stats().pendingRenders, 0);
  assert.equal(store.getSession(o.sessionId)!.status, 'done', 'the answer is kept even if it could not be shown');
  store.close();
});

test('threads sharing a pacing key (one Discord channel) are paced together', async () => {
  const store = openSessionStore(':memory:');
  const chat = createChatService({ engine: instantEngine(), store, limits: limits({ maxConcurrent: 4 }) });
  const starts: number[] = [];
  const surfaces = [0, 1, 2].map(() => {
    const s = new RecordingSurface();
    const render = s.render.bind(s);
    s.render = (v: ThreadView) => {
      starts.push(performance.now());
      return render(v);
    };
    return s;
  });
  await Promise.all(
    surfaces.map((s, i) => chat.submit(request(`U${i}`, `t${i}`), s, { minIntervalMs: 25, pacingKey: 'channel-1' })),
  );
  await chat.idle();
  starts.sort((a, b) => a - b);
  assert.ok(starts.length >= 3);
  assert.ok(starts.at(-1)! - starts[0] >= (starts.length - 2) * 25, `${starts.length} renders in ${starts.at(-1)! - starts[0]} ms`);
  for (const s of surfaces) assert.equal(s.last()!.status.state, 'done');
  store.close();
});

test('under a shared pacing key an answer goes out before queue-position updates of other threads', async () => {
  const store = openSessionStore(':memory:');
  const engine = gatedEngine();
  const chat = createChatService({ engine, store, limits: limits({ maxConcurrent: 1 }) });
  const order: string[] = [];
  const surfaceFor = (name: string) => {
    const s = new RecordingSurface();
    const render = s.render.bind(s);
    s.render = (v: ThreadView) => {
      order.push(`${name}:${v.status.state}`);
      return render(v);
    };
    return s;
  };
  const opts = { minIntervalMs: 100, pacingKey: 'workspace' };
  await chat.submit(request('U0', 'ta', 'a'), surfaceFor('a'), opts);
  while (!order.includes('a:researching')) await new Promise((r) => setTimeout(r, 1));
  // Five threads queue behind a (five queue-position renders to pace), then a's answer arrives.
  for (const n of ['b', 'c', 'd', 'e', 'f']) await chat.submit(request(`U${n}`, `t${n}`, n), surfaceFor(n), opts);
  // On a slow machine some queue renders fall due while the threads are still being submitted;
  // only what is still pending when the answer arrives must wait for it.
  const pendingFrom = order.length;
  engine.release('a');
  while (!order.includes('a:done')) await new Promise((r) => setTimeout(r, 5));
  // At most one queue render already due goes between the answer's arrival and its render.
  const between = order.slice(pendingFrom, order.indexOf('a:done'));
  assert.ok(between.length <= 1, `the answer overtakes pending queue updates: ${order.join(' ')} (released after ${pendingFrom})`);
  await chat.shutdown(0);
  store.close();
});
