// The agent experience against a fake Slack that behaves as documented (test/fakes/slack-agent.ts):
// streams Slack closes after their lifetime, the thread status line, per-thread streaming errors,
// fresh block ids, suggested prompts, thread titles and rate tiers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ResearchEvent, ResearchInput } from '../../src/engine/events.ts';
import type { FakeMessage, FakeSlack } from '../fakes/slack.ts';
import { answerMessages, shown } from './answers.ts';
import { eventEngine } from '../fakes/scripted-engine.ts';
import { type Harness, mention, newTs, startHarness } from './harness.ts';

const CHAN = 'C00FAKECHAN1';

/** Polls `predicate` (the research waits on the fake's state, not on a clock). */
async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** `steps` search steps; before each observation the research waits for `pause(n)`. */
function pausingScript(steps: number, pause: (n: number) => Promise<void>) {
  return async function* (input: ResearchInput): AsyncIterable<ResearchEvent> {
    yield { type: 'started', sessionId: input.sessionId ?? 's', question: input.question, maxSteps: 16, at: Date.now() };
    for (let n = 1; n <= steps; n++) {
      yield { type: 'code', step: n, code: `r = web_search("topic ${n}")\nprint(r)` };
      yield { type: 'tool', step: n, name: 'web_search', arg: `topic ${n}` };
      await pause(n);
      yield { type: 'observation', step: n, output: `Result ${n}`, error: null, stateLost: false, durationMs: 5 };
    }
    yield { type: 'writing' };
    yield {
      type: 'answer',
      text: 'The long answer [1].',
      citations: [{ n: 1, url: 'https://example.org/a', title: 'A', verified: true, status: 'read' }],
      steps,
      usage: { promptTokens: 1, completionTokens: 1 },
      durationMs: 5,
    };
  };
}

/** The step numbers a message shows, as a person reads it once the research is over. */
function stepsShown(fake: FakeSlack, m: FakeMessage): number[] {
  if (fake.streamStateOf(m) === 'stopped') return [...new Set(m.chunks.filter((c) => c.type === 'task_update').map((c) => Number(String(c.id).slice(5))))];
  return [...JSON.stringify(m.blocks).matchAll(/\*Step (\d+)\*/g)].map((x) => Number(x[1]));
}

/** Every step once, in order, each finished; the answer once, after them; nothing left streaming. */
function assertTidyThread(h: Harness, ts: string, steps: number): void {
  const thread = h.fake.thread(CHAN, ts);
  for (const m of thread) assert.ok(!['open', 'expired'].includes(h.fake.streamStateOf(m) ?? ''), `message ${m.ts} left ${h.fake.streamStateOf(m)}`);
  const answers = answerMessages(thread);
  assert.equal(answers.length, 1, 'the answer once');
  const answerAt = thread.indexOf(answers[0]);
  const order = thread.slice(0, answerAt).flatMap((m) => stepsShown(h.fake, m));
  assert.deepEqual(order, Array.from({ length: steps }, (_, i) => i + 1), 'each step once, in order, before the answer');
  assert.equal(thread.slice(answerAt + 1).flatMap((m) => stepsShown(h.fake, m)).length, 0);
  for (const m of thread.slice(0, answerAt)) {
    if (h.fake.streamStateOf(m) === 'stopped') {
      const last = new Map(m.chunks.filter((c) => c.type === 'task_update').map((c) => [c.id, c.status]));
      assert.ok([...last.values()].every((s) => s === 'complete'), 'streamed steps end complete');
    } else assert.doesNotMatch(JSON.stringify(m.blocks), /running…/, 'repaired steps show their results');
  }
  assert.match(shown(answers[0]), /The long answer/);
}

test('research outliving the stream lifetime: closed streams are repaired, every step and the answer shown once', async () => {
  let h: Harness;
  // Steps 1 and 3 wait until Slack has closed the stream they are shown in.
  const closedOver = (n: number) => () =>
    h.fake.thread(CHAN, ts).some((m) => h.fake.streamStateOf(m) === 'expired' && m.chunks.some((c) => c.id === `step-${n}`));
  const engine = eventEngine(pausingScript(4, (n) => (n % 2 === 1 ? until(closedOver(n), `stream expiry at step ${n}`) : Promise.resolve())));
  h = await startHarness({ engine, fake: { streamLifetimeMs: 150 }, timing: { streamRotateAfterMs: 60 * 60_000 } });
  const ts = newTs();
  try {
    await h.post(mention('a long question', { ts }));
    await h.fake.waitFor(() => h.fake.files.some((f) => f.completed), 20_000, 'trace');
    await h.chat.idle();
    // The repair: chat.update on the ts of a stream Slack had closed.
    const repaired = h.fake.thread(CHAN, ts).filter((m) => h.fake.streamStateOf(m) === 'repaired');
    assert.ok(repaired.length >= 2, 'both closed streams were repaired');
    assertTidyThread(h, ts, 4);
  } finally {
    await h.close();
  }
});

test('research longer than the rotation age: steps move to fresh streams, the old ones stopped properly', async () => {
  let h: Harness;
  let started = 0;
  // Each step waits until its stream is older than the rotation age (the fake never closes them).
  const engine = eventEngine(
    pausingScript(4, async () => {
      const t0 = Date.now();
      await until(() => Date.now() - t0 > 120, 'rotation age');
      started = h.fake.callsOf('chat.startStream').length;
    }),
  );
  h = await startHarness({ engine, fake: { streamLifetimeMs: 60 * 60_000 }, timing: { streamRotateAfterMs: 100 } });
  const ts = newTs();
  try {
    await h.post(mention('another long question', { ts }));
    await h.fake.waitFor(() => h.fake.files.some((f) => f.completed), 20_000, 'trace');
    await h.chat.idle();
    assert.ok(started >= 2, `${started} streams for the steps`);
    assert.ok(h.fake.thread(CHAN, ts).every((m) => h.fake.streamStateOf(m) !== 'repaired'), 'no stream needed a repair');
    assertTidyThread(h, ts, 4);
  } finally {
    await h.close();
  }
});
