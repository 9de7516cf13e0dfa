// The thread status line, per-thread streaming errors, fresh block ids, suggested prompts, thread
// titles and rate tiers, against the fake Slack (its documented behaviours: test/fakes/slack-agent.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WebClient } from '@slack/web-api';
import type { ResearchEvent, ResearchInput } from '../../src/engine/events.ts';
import { RateTiers, StatusBoard } from '../fakes/slack-agent.ts';
import { startFakeSlack } from '../fakes/slack.ts';
import { answerMessages } from './answers.ts';
import { eventEngine, researchScript, ScriptedEngine, scriptEvents } from '../fakes/scripted-engine.ts';
import { eventBody, mention, newTs, startHarness } from './harness.ts';

const CHAN = 'C00FAKECHAN1';
const traces = (h: { fake: { files: { completed: boolean }[] } }) => h.fake.files.filter((f) => f.completed).length;

test('fake Slack: a status is removed by the next reply of the app and after its timeout', async () => {
  const board = new StatusBoard(120_000);
  board.set('C1', '1.1', 'is researching…', ['Step 1'], 0);
  assert.equal(board.shown('C1', '1.1', 119_999), 'is researching…');
  assert.equal(board.shown('C1', '1.1', 120_000), '', 'two minutes without a message');
  assert.equal(board.set('C1', '1.1', 'x', Array.from({ length: 11 }, () => 'm')), 'invalid_arguments', 'at most 10 loading messages');
  const tiers = new RateTiers(60_000, { 'chat.startStream': 2 });
  assert.deepEqual([tiers.retryAfter('chat.startStream', 0), tiers.retryAfter('chat.startStream', 1), tiers.retryAfter('chat.startStream', 2) > 0], [0, 0, true]);
  assert.equal(tiers.retryAfter('chat.startStream', 60_001), 0, 'a new window');

  const fake = await startFakeSlack();
  try {
    const client = new WebClient(fake.botToken, { slackApiUrl: fake.apiUrl });
    await client.assistant.threads.setStatus({ channel_id: CHAN, thread_ts: '5.5', status: 'is researching…' });
    assert.equal(fake.statusShown(CHAN, '5.5'), 'is researching…');
    await client.chat.postMessage({ channel: CHAN, thread_ts: '5.5', text: 'a reply' });
    assert.equal(fake.statusShown(CHAN, '5.5'), '', 'cleared by the reply');
  } finally {
    await fake.close();
  }
});

test('the status line is set in a channel thread, put back after each post, refreshed while a step waits, cleared at the end', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let h!: Awaited<ReturnType<typeof startHarness>>;
  let during = '';
  const script = async function* (input: ResearchInput): AsyncIterable<ResearchEvent> {
    yield { type: 'started', sessionId: input.sessionId ?? 's', question: input.question, maxSteps: 8, at: Date.now() };
    yield { type: 'code', step: 1, code: 'print("slow")' };
    await gate;
    yield { type: 'observation', step: 1, output: 'done', error: null, stateLost: false, durationMs: 5 };
    for await (const e of scriptEvents(researchScript(0), input)) if (e.type !== 'started') yield e;
  };
  h = await startHarness({ engine: eventEngine(script), timing: { statusRefreshMs: 20 } });
  const ts = newTs();
  try {
    await h.post(mention('slow question', { ts }));
    await h.fake.waitFor(() => h.fake.callsOf('chat.startStream').length === 1, 10_000, 'the step streamed');
    // While the step waits, with no new render, the status keeps being refreshed.
    const before = h.fake.callsOf('assistant.threads.setStatus').length;
    await h.fake.waitFor(() => h.fake.callsOf('assistant.threads.setStatus').length >= before + 3, 10_000, 'refreshes');
    during = h.fake.statusShown(CHAN, ts);
    release();
    await h.fake.waitFor(() => traces(h) === 1, 10_000, 'answer');
    await h.chat.idle();
    assert.equal(during, 'is researching…');
    const calls = h.fake.calls.map((c) => c.method);
    const firstPost = calls.indexOf('chat.postMessage');
    assert.ok(calls.indexOf('assistant.threads.setStatus') < firstPost, 'set before the status message');
    assert.ok(calls.indexOf('assistant.threads.setStatus', firstPost) > firstPost, 'put back after our post cleared it');
    const status = h.fake.callsOf('assistant.threads.setStatus');
    assert.ok(status.some((c) => (c.args.loading_messages as string[] | undefined)?.some((m) => m.startsWith('Step 1'))), 'rotating texts');
    assert.equal(status.at(-1)!.args.status, '');
    assert.equal(h.fake.statusShown(CHAN, ts), '');
  } finally {
    release();
    await h.close();
  }
});

test('the status line comes back after each message the bot starts (posts and streams clear it)', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let h!: Awaited<ReturnType<typeof startHarness>>;
  const script = async function* (input: ResearchInput): AsyncIterable<ResearchEvent> {
    yield { type: 'started', sessionId: input.sessionId ?? 's', question: input.question, maxSteps: 8, at: Date.now() };
    yield { type: 'code', step: 1, code: 'print("slow")' };
    await gate;
    yield { type: 'observation', step: 1, output: 'done', error: null, stateLost: false, durationMs: 5 };
    for await (const e of scriptEvents(researchScript(0), input)) if (e.type !== 'started') yield e;
  };
  // The default refresh (90 s) never fires here: only re-setting after a post can bring it back.
  h = await startHarness({ engine: eventEngine(script) });
  const ts = newTs();
  try {
    await h.post(mention('slow question', { ts }));
    await h.fake.waitFor(() => h.fake.thread(CHAN, ts).some((m) => m.streaming === 'open'), 10_000, 'the step stream');
    await h.fake.waitFor(() => h.fake.statusShown(CHAN, ts) === 'is researching…', 10_000, 'status after the stream started');
    const methods = h.fake.calls.map((c) => c.method);
    assert.ok(methods.lastIndexOf('assistant.threads.setStatus') > methods.indexOf('chat.startStream'));
  } finally {
    release();
    await h.close();
  }
});

test('an answer stream Slack refuses at the end is replaced by the rendered answer, not left streaming', async () => {
  const h = await startHarness({ engine: new ScriptedEngine(researchScript(1)) });
  try {
    const ts = newTs();
    h.fake.fail('chat.stopStream', { error: 'invalid_blocks' }, { when: (a) => a.blocks !== undefined });
    await h.post(mention('refuse my answer', { ts }));
    await h.fake.waitFor(() => traces(h) === 1, 10_000, 'answer');
    await h.chat.idle();
    const thread = h.fake.thread(CHAN, ts);
    assert.ok(thread.every((m) => h.fake.streamStateOf(m) !== 'open'), 'nothing left streaming');
    const answers = answerMessages(thread);
    assert.equal(answers.length, 1);
    assert.ok(answers[0].edits >= 1, 'the stream message was edited into the answer');
    assert.match(JSON.stringify(answers[0].blocks), /Node 24 ships V8 13\.6 <https:\/\/nodejs\.org\/en\/blog\/release\/v24\.0\.0\|\[1\]>/);
  } finally {
    await h.close();
  }
});

test('a per-thread streaming error stays in that thread; only feature_not_enabled turns streaming off for the workspace', async () => {
  const h = await startHarness({ engine: new ScriptedEngine(researchScript(2)) });
  try {
    const ask = async (n: number) => {
      const ts = newTs();
      await h.post(mention(`question ${n}`, { ts }));
      await h.fake.waitFor(() => traces(h) === n, 10_000, `answer ${n}`);
      await h.chat.idle();
      return h.fake.thread(CHAN, ts);
    };
    h.fake.fail('chat.startStream', { error: 'restricted_action_thread_locked' });
    const locked = await ask(1);
    assert.equal(locked.filter((m) => m.streaming).length, 0);
    assert.match(JSON.stringify(locked[0].blocks), /search “node 24 step 2”/, 'steps in the status message instead');
    assert.equal(answerMessages(locked).length, 1);
    const next = await ask(2);
    assert.ok(next.some((m) => m.streaming === 'stopped'), 'the next thread streams again');
    h.fake.fail('chat.startStream', { error: 'feature_not_enabled' });
    await ask(3);
    const starts = h.fake.callsOf('chat.startStream').length;
    const after = await ask(4);
    assert.equal(h.fake.callsOf('chat.startStream').length, starts, 'no more attempts in this workspace');
    assert.equal(answerMessages(after).length, 1);
  } finally {
    await h.close();
  }
});

test('each edit of the status message carries new block ids', async () => {
  const h = await startHarness({ engine: new ScriptedEngine(researchScript(3)), streaming: false });
  try {
    await h.post(mention('ids', { ts: newTs() }));
    await h.fake.waitFor(() => traces(h) === 1, 10_000, 'answer');
    await h.chat.idle();
    const versions = [...h.fake.callsOf('chat.postMessage').slice(0, 1), ...h.fake.callsOf('chat.update')].map((c) =>
      (c.args.blocks as { block_id?: string }[]).map((b) => b.block_id).filter(Boolean),
    );
    const ids = versions.flat();
    assert.ok(ids.length >= 2, `${ids.length} block ids`);
    assert.equal(new Set(ids).size, ids.length, 'no block_id reused across iterations');
  } finally {
    await h.close();
  }
});

test('opening the agent shows suggested prompts; a DM question titles its thread', async () => {
  const h = await startHarness({ engine: new ScriptedEngine(researchScript(1)) });
  try {
    const opened = (tab: string) => eventBody({ type: 'app_home_opened', user: 'U00FAKEUSER1', channel: 'D00FAKEDM001', tab, event_ts: newTs() });
    assert.equal(await h.post(opened('home')), 200);
    assert.equal(await h.post(opened('messages')), 200);
    await h.fake.waitFor(() => h.fake.suggestedPrompts.length === 1, 10_000, 'prompts');
    const [set] = h.fake.suggestedPrompts;
    assert.equal(set.channel, 'D00FAKEDM001');
    assert.ok(set.prompts.length >= 1 && set.prompts.length <= 4);
    assert.equal(h.fake.callsOf('assistant.threads.setSuggestedPrompts').length, 1, 'not for the Home tab');
    assert.equal(h.fake.callsOf('assistant.threads.setSuggestedPrompts')[0].args.thread_ts, undefined);

    const ts = newTs();
    const dm = eventBody({ type: 'message', user: 'U00FAKEUSER1', text: 'why is the sky blue?', ts, channel: 'D00FAKEDM001', channel_type: 'im', event_ts: ts });
    assert.equal(await h.post(dm), 200);
    await h.fake.waitFor(() => traces(h) === 1, 10_000, 'answer');
    await h.chat.idle();
    assert.equal(h.fake.titles.get(`D00FAKEDM001/${ts}`), 'why is the sky blue?');
    assert.equal(answerMessages(h.fake.thread('D00FAKEDM001', ts)).length, 1);
  } finally {
    await h.close();
  }
});

test('over a rate tier Slack answers 429 and the research still shows every step and the answer', async () => {
  let h!: Awaited<ReturnType<typeof startHarness>>;
  const seen = (method: string, n: number) => () => h.fake.callsOf(method).length >= n;
  // Step 2 waits for the stream to start, step 3 for the first append: the second append is sure
  // to come within the (shortened) window, over the tier of one.
  const waits: Record<number, () => boolean> = { 2: seen('chat.startStream', 1), 3: seen('chat.appendStream', 1) };
  const script = async function* (input: ResearchInput): AsyncIterable<ResearchEvent> {
    yield { type: 'started', sessionId: input.sessionId ?? 's', question: input.question, maxSteps: 8, at: Date.now() };
    for (let n = 1; n <= 3; n++) {
      if (waits[n]) await h.fake.waitFor(waits[n], 10_000, `before step ${n}`);
      yield { type: 'code', step: n, code: `print(${n})` };
      yield { type: 'observation', step: n, output: `out ${n}`, error: null, stateLost: false, durationMs: 1 };
    }
    for await (const e of scriptEvents(researchScript(0), input)) if (e.type !== 'started') yield e;
  };
  h = await startHarness({ engine: eventEngine(script), fake: { rateWindowMs: 2000, rateLimits: { 'chat.appendStream': 1 } } });
  try {
    const ts = newTs();
    await h.post(mention('rate me', { ts }));
    await h.fake.waitFor(() => traces(h) === 1, 20_000, 'answer');
    await h.chat.idle();
    const thread = h.fake.thread(CHAN, ts);
    const ids = new Set(thread.flatMap((m) => m.chunks.filter((c) => c.type === 'task_update').map((c) => c.id)));
    assert.deepEqual([...ids].sort(), ['step-1', 'step-2', 'step-3']);
    assert.ok(h.fake.callsOf('chat.appendStream').some((c) => c.failed), 'an append was rate limited (and retried)');
    assert.equal(answerMessages(thread).length, 1);
    assert.ok(thread.every((m) => h.fake.streamStateOf(m) !== 'open'));
  } finally {
    await h.close();
  }
});
