import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createChatService } from '../../src/chat/service.ts';
import { openSessionStore } from '../../src/chat/store.ts';
import { gatedEngine, instantEngine } from '../fakes/scripted-engine.ts';
import { limits, RecordingSurface, request, tick } from './helpers.ts';

const waitFor = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 2));
};

test('quota: the 21st question in an hour is refused with the exact time the next one frees', async () => {
  let now = Date.UTC(2026, 10, 25, 13, 5, 0);
  const store = openSessionStore(':memory:');
  const chat = createChatService({ engine: instantEngine(), store, limits: limits({ userQuota: 20 }), now: () => now });
  for (let i = 0; i < 20; i++) {
    const o = await chat.submit(request('U1', `t${i}`), new RecordingSurface(), { minIntervalMs: 0 });
    assert.equal(o.accepted, true);
    await chat.idle();
    now += 60_000; // one question a minute: 13:05 .. 13:24
  }
  const refused = await chat.submit(request('U1', 'more'), new RecordingSurface());
  assert.equal(refused.accepted, false);
  assert.ok(!refused.accepted && refused.reason === 'quota');
  assert.equal(refused.retryAt, Date.UTC(2026, 10, 25, 14, 5, 0));
  assert.equal(refused.message, 'You have used your 20 questions this hour; the next one frees at 14:05 UTC.');
  // Another user is not affected; at 14:05 exactly the first use has left the window.
  assert.equal((await chat.submit(request('U2', 'other'), new RecordingSurface(), { minIntervalMs: 0 })).accepted, true);
  now = Date.UTC(2026, 10, 25, 14, 5, 0);
  assert.equal((await chat.submit(request('U1', 'more'), new RecordingSurface(), { minIntervalMs: 0 })).accepted, true);
  const again = await chat.submit(request('U1', 'more2'), new RecordingSurface());
  assert.ok(!again.accepted && again.reason === 'quota' && again.retryAt === Date.UTC(2026, 10, 25, 14, 6, 0));
  await chat.idle();
  store.close();
});

test('quota: per workspace, and a withdrawn queued question gives its use back', async () => {
  const now = Date.UTC(2026, 0, 1, 9, 0, 0);
  const store = openSessionStore(':memory:');
  const engine = gatedEngine();
  const chat = createChatService({ engine, store, limits: limits({ workspaceQuota: 3, userQuota: 5 }), now: () => now });
  const s = () => new RecordingSurface();
  const a = await chat.submit(request('U1', 'a', 'qa'), s(), { minIntervalMs: 0 });
  const b = await chat.submit(request('U1', 'b', 'qb'), s(), { minIntervalMs: 0 });
  assert.ok(a.accepted && b.accepted);
  assert.equal(b.ahead, 1);
  assert.equal(await chat.cancel(request('U1', 'b'), 'U1'), 'stopped', 'withdrawn while queued');
  assert.ok((await chat.submit(request('U2', 'c', 'qc'), s(), { minIntervalMs: 0 })).accepted);
  assert.ok((await chat.submit(request('U3', 'd', 'qd'), s(), { minIntervalMs: 0 })).accepted);
  const full = await chat.submit(request('U4', 'e', 'qe'), s());
  assert.ok(!full.accepted && full.reason === 'quota');
  assert.match(full.message, /^This workspace has used its 3 questions this hour; the next one frees at 10:00 UTC\.$/);
  // Another workspace has its own quota.
  assert.ok((await chat.submit(request('U4', 'e', 'qe', { workspaceId: 'T2' }), s(), { minIntervalMs: 0 })).accepted);
  await waitFor(() => engine.started.length === 4);
  for (const q of ['qa', 'qc', 'qd', 'qe']) engine.release(q);
  await chat.idle();
  store.close();
});

test('cancel while queued: never reaches the engine; the thread shows who stopped it', async () => {
  const store = openSessionStore(':memory:');
  const engine = gatedEngine();
  const chat = createChatService({ engine, store, limits: limits({ maxConcurrent: 1 }) });
  const first = new RecordingSurface();
  const second = new RecordingSurface();
  const o1 = await chat.submit(request('U1', 't1', 'first'), first, { minIntervalMs: 0 });
  const o2 = await chat.submit(request('U2', 't2', 'second'), second, { minIntervalMs: 0 });
  assert.ok(o1.accepted && o2.accepted && o2.ahead === 1);
  await waitFor(() => engine.started.length === 1);
  // A bystander is refused politely in the thread; a moderator the platform vouches for may withdraw it.
  assert.equal(await chat.cancel(request('U2', 't2'), 'U8'), 'refused');
  assert.match(second.notes.at(-1) ?? '', /only the person who asked.*keeps running/i);
  assert.equal(chat.activeSession(request('U2', 't2')), o2.sessionId, 'still queued after the refusal');
  assert.equal(await chat.cancel(request('U2', 't2'), 'U7', { moderator: true }), 'stopped');
  assert.equal(await chat.cancel(request('U2', 't2'), 'U7', { moderator: true }), 'inactive', 'nothing left to cancel');
  engine.release('first');
  await chat.idle();
  assert.deepEqual(engine.started, ['first']);
  assert.deepEqual(second.last()!.status, { state: 'cancelled', by: 'U7' });
  assert.equal(first.last()!.status.state, 'done');
  assert.equal(store.getSession(o2.sessionId)!.status, 'cancelled');
  store.close();
});

test('cancel while running aborts the engine promptly and frees the thread', async () => {
  const store = openSessionStore(':memory:');
  const engine = gatedEngine();
  const chat = createChatService({ engine, store, limits: limits() });
  const surface = new RecordingSurface();
  const o = await chat.submit(request('U1', 't1', 'long one'), surface, { minIntervalMs: 0 });
  assert.ok(o.accepted);
  await waitFor(() => engine.holding.length === 1);
  const busy = await chat.submit(request('U1', 't1', 'another'), new RecordingSurface());
  assert.ok(!busy.accepted && busy.reason === 'busy' && busy.activeSessionId === o.sessionId);
  assert.equal(chat.activeSession(request('U1', 't1')), o.sessionId);
  assert.equal(await chat.cancelSession(o.sessionId, 'U1'), 'stopped');
  assert.equal(engine.aborted, 1);
  assert.equal(chat.activeSession(request('U1', 't1')), null);
  await chat.idle();
  assert.deepEqual(surface.last()!.status, { state: 'cancelled', by: 'U1' });
  const rec = store.getSession(o.sessionId)!;
  assert.equal(rec.status, 'cancelled');
  assert.equal(rec.cancelledBy, 'U1');
  assert.equal(chat.stats().finished.cancelled, 1);
  store.close();
});

test('an engine that ignores the abort signal is still stopped at once', async () => {
  const store = openSessionStore(':memory:');
  const stubborn = {
    async *research() {
      yield { type: 'started' as const, sessionId: '', question: 'q', maxSteps: 3, at: 0 };
      await new Promise(() => {}); // never ends, never looks at the signal
    },
  };
  const chat = createChatService({ engine: stubborn, store, limits: limits() });
  const surface = new RecordingSurface();
  const o = await chat.submit(request('U1', 't'), surface, { minIntervalMs: 0 });
  assert.ok(o.accepted);
  await waitFor(() => chat.stats().running === 1);
  assert.equal(await chat.cancelSession(o.sessionId, 'U2', { moderator: true }), 'stopped');
  await chat.idle();
  assert.deepEqual(surface.last()!.status, { state: 'cancelled', by: 'U2' });
  store.close();
});

test('follow-up: a reply in a research thread carries the earlier questions and answers', async () => {
  const store = openSessionStore(':memory:');
  const engine = instantEngine();
  const chat = createChatService({ engine, store, limits: limits() });
  const ref = request('U1', 't1');
  assert.equal((await chat.isResearchThread(ref)), false);
  await chat.submit(request('U1', 't1', 'What is X?'), new RecordingSurface(), { minIntervalMs: 0 });
  await chat.idle();
  assert.equal((await chat.isResearchThread(ref)), true);
  assert.equal((await chat.isResearchThread(request('U1', 'elsewhere'))), false);
  assert.equal(chat.followupWithoutMention(), true);
  const o = await chat.submit(request('U2', 't1', 'And Y?'), new RecordingSurface(), { minIntervalMs: 0 });
  assert.ok(o.accepted);
  await chat.idle();
  assert.equal(engine.inputs[0].history?.length ?? 0, 0);
  const history = engine.inputs[1].history!;
  assert.equal(history.length, 1);
  assert.equal(history[0].question, 'What is X?');
  // The answer as the thread showed it: the invented source is gone, the real one renumbered.
  assert.equal(history[0].answer, 'Answer to What is X? and [1].\n\nSources:\n[1] Real page — https://www.real.example/page');
  assert.equal((await chat.history(ref)).length, 2);
  store.close();
});

test('dedupe: platform event ids and source events are answered once', async () => {
  const store = openSessionStore(':memory:');
  const engine = instantEngine();
  const chat = createChatService({ engine, store, limits: limits() });
  assert.equal((await chat.markEventSeen('slack', 'Ev1')), true);
  assert.equal((await chat.markEventSeen('slack', 'Ev1')), false);
  assert.equal((await chat.markEventSeen('discord', 'Ev1')), true);
  const first = await chat.submit(request('U1', 't1', 'q', { sourceEventId: 'm1' }), new RecordingSurface(), { minIntervalMs: 0 });
  await chat.idle();
  const replay = await chat.submit(request('U1', 't1', 'q', { sourceEventId: 'm1' }), new RecordingSurface());
  assert.ok(first.accepted);
  assert.ok(!replay.accepted && replay.reason === 'duplicate');
  assert.equal(engine.inputs.length, 1);
  store.close();
});

test('dedupe: a refused request\'s redelivery is dropped silently; a Retry press after a refusal is not', async () => {
  const store = openSessionStore(':memory:');
  const engine = instantEngine();
  const chat = createChatService({ engine, store, limits: limits({ userQuota: 1 }) });
  const ok = await chat.submit(request('U1', 't1', 'q1', { sourceEventId: 'm1' }), new RecordingSurface(), { minIntervalMs: 0 });
  assert.ok(ok.accepted);
  await chat.idle();
  assert.equal((await chat.alreadySubmitted('slack', 'm1')), true);
  assert.equal((await chat.alreadySubmitted('slack', 'm2')), false);
  const surface = new RecordingSurface();
  const over = await chat.submit(request('U1', 't2', 'q2', { sourceEventId: 'm2' }), surface);
  assert.ok(!over.accepted && over.reason === 'quota');
  assert.equal((await chat.alreadySubmitted('slack', 'm2')), true, 'the refusal is remembered');
  const again = await chat.submit(request('U1', 't2', 'q2', { sourceEventId: 'm2' }), surface);
  assert.ok(!again.accepted && again.reason === 'duplicate');
  assert.equal(surface.notes.length, 2, 'the quota refusal, then the duplicate notice (adapters ask alreadySubmitted first and drop it silently)');
  assert.equal(engine.inputs.length, 1);
  store.close();
});

test('stop: only the asker or a platform-vouched moderator; Retry stays the asker\'s', async () => {
  const store = openSessionStore(':memory:');
  const engine = gatedEngine();
  const chat = createChatService({ engine, store, limits: limits() });
  const surface = new RecordingSurface();
  const o = await chat.submit(request('U1', 't1', 'long one'), surface, { minIntervalMs: 0 });
  assert.ok(o.accepted);
  await waitFor(() => engine.holding.length === 1);
  assert.equal(await chat.cancelSession(o.sessionId, 'U2'), 'refused');
  assert.equal(await chat.cancel(request('U1', 't1'), 'U2', { moderator: false }), 'refused');
  assert.equal(surface.notes.length, 2);
  assert.match(surface.notes[0], /^Sorry, only the person who asked can stop this research; it keeps running\.$/);
  assert.equal(engine.aborted, 0);
  assert.equal(chat.activeSession(request('U1', 't1')), o.sessionId);
  assert.equal(await chat.cancelSession(o.sessionId, 'U3', { moderator: true }), 'stopped');
  assert.equal(engine.aborted, 1);
  await chat.idle();
  assert.deepEqual(surface.last()!.status, { state: 'cancelled', by: 'U3' });
  assert.equal(await chat.cancelSession(o.sessionId, 'U1'), 'inactive');
  store.close();
});

test('invalid input is refused with a clear message and nothing is stored', async () => {
  const store = openSessionStore(':memory:');
  const chat = createChatService({ engine: instantEngine(), store, limits: limits(), maxQuestionChars: 50 });
  const empty = await chat.submit(request('U1', 't', '   '), new RecordingSurface());
  assert.ok(!empty.accepted && empty.reason === 'invalid' && /ask a question/.test(empty.message));
  const long = await chat.submit(request('U1', 't', 'x'.repeat(51)), new RecordingSurface());
  assert.ok(!long.accepted && long.reason === 'invalid' && /too long/.test(long.message));
  assert.equal(store.sessionsSince(0).length, 0);
  store.close();
});

test('trace, view and feedback of a finished session', async () => {
  const store = openSessionStore(':memory:');
  const chat = createChatService({ engine: instantEngine(), store, limits: limits() });
  const o = await chat.submit(request('U1', 't', 'traced question'), new RecordingSurface(), { minIntervalMs: 0 });
  assert.ok(o.accepted);
  await chat.idle();
  const trace = (await chat.trace(o.sessionId))!;
  assert.match(trace, /## Step 1/);
  assert.match(trace, /web_search\("x"\)/);
  assert.ok(trace.includes('result '.repeat(50).trim()), 'full observation');
  assert.match(trace, /Citations dropped[^]*https:\/\/invented\.example\/x/);
  assert.match(chat.traceFilename(o.sessionId), /^cir-trace-[0-9a-f-]+\.md$/);
  assert.equal((await chat.trace('nope')), null);
  const view = (await chat.view(o.sessionId))!;
  assert.equal(view.status.state, 'done');
  assert.equal(view.answer!.sources.length, 1);
  assert.equal((await chat.recordFeedback(o.sessionId, 'U3', 'up')), true);
  assert.equal((await chat.recordFeedback(o.sessionId, 'U3', 'down')), true);
  assert.equal((await chat.recordFeedback('nope', 'U3', 'down')), false);
  assert.deepEqual(store.feedback(o.sessionId), [{ userId: 'U3', value: 'down' }]);
  store.close();
});

test('shutdown: queued sessions end interrupted at once, running ones after the grace period', async () => {
  const store = openSessionStore(':memory:');
  const engine = gatedEngine();
  const chat = createChatService({ engine, store, limits: limits({ maxConcurrent: 1 }) });
  const running = new RecordingSurface();
  const queued = new RecordingSurface();
  await chat.submit(request('U1', 't1', 'a'), running, { minIntervalMs: 0 });
  await chat.submit(request('U2', 't2', 'b'), queued, { minIntervalMs: 0 });
  await waitFor(() => engine.holding.length === 1);
  const done = chat.shutdown(20);
  await tick();
  const refused = await chat.submit(request('U3', 't3', 'c'), new RecordingSurface());
  assert.ok(!refused.accepted && /restarting/.test(refused.message));
  await done;
  assert.equal(queued.last()!.status.state, 'interrupted');
  assert.equal(running.last()!.status.state, 'interrupted');
  assert.equal(engine.aborted, 1);
  assert.deepEqual(engine.started, ['a']);
  assert.equal(chat.stats().shuttingDown, true);
  // Read back from the store (as after a restart), both still show as interrupted.
  for (const v of [running.last()!, queued.last()!]) {
    assert.equal(store.getSession(v.sessionId)!.status, 'interrupted');
    assert.equal((await chat.view(v.sessionId))!.status.state, 'interrupted');
  }
  store.close();
});

test('queue positions are kept current; a request that starts at once is never shown as queued', async () => {
  const store = openSessionStore(':memory:');
  const engine = gatedEngine();
  const chat = createChatService({ engine, store, limits: limits({ maxConcurrent: 1 }) });
  const [sa, sb, sc] = [new RecordingSurface(), new RecordingSurface(), new RecordingSurface()];
  const a = await chat.submit(request('U1', 'ta', 'a'), sa, { minIntervalMs: 0 });
  const b = await chat.submit(request('U2', 'tb', 'b'), sb, { minIntervalMs: 0 });
  const c = await chat.submit(request('U3', 'tc', 'c'), sc, { minIntervalMs: 0 });
  // Submitted back to back: a has not started yet, so it still counts ahead of b and c.
  assert.deepEqual([a, b, c].map((o) => (o.accepted ? o.ahead : -1)), [0, 1, 2]);
  await waitFor(() => engine.started.length === 1);
  await waitFor(() => sc.last()?.status.state === 'queued' && (sc.last()!.status as { ahead: number }).ahead === 1);
  engine.release('a');
  await waitFor(() => engine.started.length === 2);
  await waitFor(() => sc.last()?.status.state === 'queued' && (sc.last()!.status as { ahead: number }).ahead === 0);
  engine.release('b');
  await waitFor(() => engine.started.length === 3);
  engine.release('c');
  await chat.idle();
  assert.ok(sa.renders.every((v) => v.status.state !== 'queued'), 'a started at once');
  assert.ok(sb.renders.some((v) => v.status.state === 'queued' && v.status.ahead === 0));
  for (const s of [sa, sb, sc]) assert.equal(s.last()!.status.state, 'done');
  store.close();
});

test('the global cap is filled exactly: the fifth session waits until one of four ends', async () => {
  const store = openSessionStore(':memory:');
  const engine = gatedEngine();
  const chat = createChatService({ engine, store, limits: limits({ maxConcurrent: 4 }) });
  for (let i = 0; i < 6; i++) await chat.submit(request(`U${i}`, `t${i}`, `q${i}`), new RecordingSurface(), { minIntervalMs: 0 });
  await waitFor(() => engine.started.length === 4);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(engine.started.length, 4);
  assert.deepEqual([chat.stats().running, chat.stats().queued], [4, 2]);
  engine.release('q0');
  await waitFor(() => engine.started.length === 5);
  assert.deepEqual(engine.started, ['q0', 'q1', 'q2', 'q3', 'q4'], 'first come, first served');
  for (let i = 1; i < 6; i++) {
    await waitFor(() => engine.started.includes(`q${i}`));
    engine.release(`q${i}`);
  }
  await chat.idle();
  assert.equal(chat.stats().finished.done, 6);
  store.close();
});
