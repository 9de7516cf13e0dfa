// What the chat layer drives on a ThreadSurface besides render(): every refusal goes to notify(),
// the trace is attached once after the final view of a session that ran code; and retry() of a
// session a dead process interrupted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResearchEngine, ResearchEvent } from '../../src/engine/events.ts';
import { createChatService } from '../../src/chat/service.ts';
import { openSessionStore, type SessionStore } from '../../src/chat/store.ts';
import type { ThreadView } from '../../src/chat/types.ts';
import { instantEngine } from '../fakes/scripted-engine.ts';
import { limits, RecordingSurface, request } from './helpers.ts';

test('refusals are posted through notify(), accepted requests are not', async () => {
  const store = openSessionStore(':memory:');
  const chat = createChatService({ engine: instantEngine(), store, limits: limits({ userQuota: 1 }) });
  const ok = new RecordingSurface();
  assert.equal((await chat.submit(request('U1', 't1'), ok, { minIntervalMs: 0 })).accepted, true);
  const refused = new RecordingSurface();
  const out = await chat.submit(request('U1', 't2'), refused, { minIntervalMs: 0 });
  assert.ok(!out.accepted && out.reason === 'quota');
  assert.deepEqual(refused.notes, [out.message]);
  assert.deepEqual(refused.renders, []);
  const empty = new RecordingSurface();
  await chat.submit(request('U2', 't3', '   '), empty);
  assert.equal(empty.notes.length, 1);
  await chat.idle();
  assert.deepEqual(ok.notes, []);
  store.close();
});

test('the trace is attached once, after the final view, for sessions with steps only', async () => {
  const noSteps: ResearchEngine = {
    async *research(input): AsyncIterable<ResearchEvent> {
      yield { type: 'answer', text: `plain answer to ${input.question}`, citations: [], steps: 0, usage: { promptTokens: 1, completionTokens: 1 }, durationMs: 1 };
    },
  };
  for (const [engine, steps] of [[instantEngine(), 1], [noSteps, 0]] as const) {
    const store = openSessionStore(':memory:');
    const chat = createChatService({ engine, store, limits: limits() });
    const order: string[] = [];
    const surface = new RecordingSurface();
    const render = surface.render.bind(surface);
    surface.render = async (v: ThreadView) => {
      await render(v);
      order.push(`render:${v.status.state}`);
    };
    const attach = surface.attachTrace.bind(surface);
    surface.attachTrace = async (f: string, c: string) => {
      await attach(f, c);
      order.push('trace');
    };
    const o = await chat.submit(request('U1', 't1'), surface, { minIntervalMs: 0 });
    assert.ok(o.accepted);
    await chat.idle();
    if (steps === 0) {
      assert.deepEqual(surface.traces, []);
    } else {
      assert.equal(surface.traces.length, 1);
      assert.equal(surface.traces[0].filename, chat.traceFilename(o.sessionId));
      assert.match(surface.traces[0].content, /## Step 1/);
      assert.equal(order.at(-1), 'trace');
      assert.equal(order.at(-2), 'render:done');
    }
    store.close();
  }
});

/** A store holding one session a dead process left running (in thread `thread` of user U1). */
function storeWithOrphan(createdAt = 1000): SessionStore {
  const store = openSessionStore(':memory:');
  store.createSession({
    id: 'orphan',
    ref: { platform: 'slack', workspaceId: 'T1', channelId: 'C1', threadId: 'thread' },
    userId: 'U1',
    question: 'the interrupted question',
    status: 'running',
    createdAt,
    startedAt: createdAt,
    finishedAt: null,
    answer: null,
    citations: null,
    error: null,
    cancelledBy: null,
    sourceEventId: 'ev-1',
    steps: null,
  });
  return store;
}

test('retry: the asker gets the question asked again in its thread, once', async () => {
  const store = storeWithOrphan();
  const engine = instantEngine(0, () => 'U1');
  const chat = createChatService({ engine, store, limits: limits() });
  const views: ThreadView[] = [];
  assert.equal(await chat.recoverInterrupted(async (v) => void views.push(v)), 1);
  assert.equal(views[0].status.state, 'interrupted');

  const bystander = new RecordingSurface();
  const refused = await chat.retry('orphan', 'U2', bystander, { minIntervalMs: 0 });
  assert.ok(!refused.accepted && refused.reason === 'invalid');
  assert.match(bystander.notes[0], /Only the person who asked can retry/);

  const surface = new RecordingSurface();
  const out = await chat.retry('orphan', 'U1', surface, { minIntervalMs: 0 });
  assert.ok(out.accepted);
  await chat.idle();
  assert.deepEqual(engine.inputs.map((i) => i.question), ['the interrupted question']);
  const rec = store.getSession(out.sessionId)!;
  assert.deepEqual([rec.userId, rec.ref.threadId, rec.status], ['U1', 'thread', 'done']);
  assert.equal(surface.last()!.status.state, 'done');

  const twice = new RecordingSurface();
  const again = await chat.retry('orphan', 'U1', twice, { minIntervalMs: 0 });
  assert.ok(!again.accepted && again.reason === 'duplicate');
  assert.match(twice.notes[0], /already been asked again/);
  // Only interrupted sessions can be retried (the retried one finished).
  const done = await chat.retry(out.sessionId, 'U1', new RecordingSurface());
  assert.ok(!done.accepted && done.reason === 'invalid');
  assert.equal(engine.inputs.length, 1);
  store.close();
});

test('retry: the asker\'s quota applies as to any question', async () => {
  const now = Date.UTC(2026, 10, 25, 13, 5, 0);
  // The interrupted question itself counts (it started within the window), so a quota of 1 is used up.
  const store = storeWithOrphan(now - 60_000);
  const chat = createChatService({ engine: instantEngine(), store, limits: limits({ userQuota: 1 }), now: () => now });
  const surface = new RecordingSurface();
  const out = await chat.retry('orphan', 'U1', surface);
  assert.ok(!out.accepted && out.reason === 'quota');
  assert.deepEqual(surface.notes, ['You have used your 1 question this hour; the next one frees at 14:04 UTC.']);
  assert.deepEqual(surface.renders, []);
  store.close();
});
