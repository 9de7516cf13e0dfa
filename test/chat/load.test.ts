// Hundreds of requests from dozens of users against an instant engine: the limits hold exactly,
// nothing is lost or answered twice, and the queue drains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createChatService } from '../../src/chat/service.ts';
import { openSessionStore } from '../../src/chat/store.ts';
import type { SubmitOutcome } from '../../src/chat/types.ts';
import { InstantEngine, limits, RecordingSurface, request } from './helpers.ts';

test('load: 400 requests from 40 users keep every limit and are each answered once', async () => {
  const engine = new InstantEngine(25);
  const store = openSessionStore(':memory:');
  const chat = createChatService({
    engine,
    store,
    limits: limits({ maxConcurrent: 4, userConcurrent: 1, userQuota: 8, workspaceQuota: 10_000, queueMax: 1000 }),
  });
  let maxRunningSeen = 0;
  chat.onEvent((e) => {
    if (e.kind === 'session') maxRunningSeen = Math.max(maxRunningSeen, chat.stats().running);
  });
  const surfaces = new Map<string, RecordingSurface>();
  const submits: Promise<SubmitOutcome>[] = [];
  const users = Array.from({ length: 40 }, (_, i) => `U${i}`);
  // Interleaved: every user asks their i-th question before anyone asks an (i+1)-th.
  for (let round = 0; round < 10; round++) {
    for (const user of users) {
      const thread = `${user}-t${round}`;
      const surface = new RecordingSurface();
      surfaces.set(thread, surface);
      submits.push(chat.submit(request(user, thread), surface, { minIntervalMs: 300 }));
    }
  }
  const outcomes = await Promise.all(submits);
  await chat.idle();

  const accepted = outcomes.filter((o) => o.accepted);
  const rejected = outcomes.filter((o) => !o.accepted);
  assert.equal(accepted.length, 40 * 8, 'exactly the quota of each user is accepted');
  assert.equal(rejected.length, 40 * 2);
  assert.ok(rejected.every((o) => !o.accepted && o.reason === 'quota' && typeof o.retryAt === 'number'));
  // Concurrency: the global cap was never exceeded (and sessions did overlap); never two of one user.
  assert.ok(engine.maxRunning <= 4 && engine.maxRunning >= 2, `max running ${engine.maxRunning}`);
  assert.ok(maxRunningSeen <= 4);
  assert.equal(engine.maxPerUser, 1);
  // Nothing lost, nothing answered twice.
  assert.equal(engine.inputs.length, accepted.length);
  assert.equal(new Set(engine.inputs.map((i) => i.sessionId)).size, accepted.length);
  const ids = new Set(accepted.map((o) => (o.accepted ? o.sessionId : '')));
  let finals = 0;
  for (const surface of surfaces.values()) {
    const done = surface.renders.filter((v) => v.status.state === 'done');
    if (!surface.renders.length) continue;
    assert.equal(done.length, 1, 'one final render per accepted thread');
    assert.ok(ids.has(done[0].sessionId));
    assert.match(done[0].answer!.text, /\[1\]\.$/);
    assert.deepEqual(done[0].answer!.sources.map((s) => s.domain), ['real.example']);
    finals += 1;
  }
  assert.equal(finals, accepted.length);
  // The queue drained.
  const stats = chat.stats();
  assert.equal(stats.running, 0);
  assert.equal(stats.queued, 0);
  assert.equal(stats.finished.done, accepted.length);
  assert.equal(stats.rejected.quota, 80);
  assert.equal(store.sessionsSince(0).filter((s) => s.status === 'done').length, accepted.length);
  store.close();
});

test('load: the queue bound turns away exactly the overflow with the capacity message', async () => {
  const engine = new InstantEngine();
  const store = openSessionStore(':memory:');
  const chat = createChatService({ engine, store, limits: limits({ maxConcurrent: 4, queueMax: 10 }) });
  const outcomes = await Promise.all(
    Array.from({ length: 50 }, (_, i) => chat.submit(request(`U${i}`, `t${i}`), new RecordingSurface(), { minIntervalMs: 0 })),
  );
  const accepted = outcomes.filter((o) => o.accepted);
  assert.equal(accepted.length, 4 + 10);
  const rejected = outcomes.filter((o) => !o.accepted);
  assert.ok(rejected.every((o) => !o.accepted && o.reason === 'capacity' && /at capacity/.test(o.message)));
  assert.deepEqual(
    accepted.map((o) => (o.accepted ? o.ahead : -1)),
    Array.from({ length: 14 }, (_, i) => i),
  );
  await chat.idle();
  assert.equal(engine.inputs.length, 14);
  // Drained: new work is accepted again.
  const again = await chat.submit(request('U99', 'later'), new RecordingSurface(), { minIntervalMs: 0 });
  assert.equal(again.accepted, true);
  await chat.idle();
  store.close();
});
