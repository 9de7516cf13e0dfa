// The Slack adapter end to end over real HTTP: signed events in, Web API calls out to the fake
// Slack, with the real chat service and a scripted research engine.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatService } from '../../src/chat/service.ts';
import { openSessionStore } from '../../src/chat/store.ts';
import { parseConfig } from '../../src/config.ts';
import { silentLogger } from '../../src/util/log.ts';
import { createSlackAdapter } from '../../src/platforms/slack/index.ts';
import { signRequest, startFakeSlack } from '../fakes/slack.ts';
import { answerMessages, feedbackValues } from './answers.ts';
import { ScriptedEngine, researchScript } from '../fakes/scripted-engine.ts';
import { SIGNING_SECRET, eventBody, mention, newTs, startHarness } from './harness.ts';

const CHAN = 'C00FAKECHAN1';

test('mention -> status message, streamed steps, cited answer, trace file (native streaming)', async () => {
  const engine = new ScriptedEngine(researchScript(2));
  const h = await startHarness({ engine });
  try {
    const ts = newTs();
    assert.equal(await h.post(mention('what is new in Node 24?', { ts })), 200);
    await h.fake.waitFor(() => h.fake.files.some((f) => f.completed), 15000, 'trace upload');
    await h.chat.idle();

    assert.equal(engine.inputs.length, 1);
    assert.equal(engine.inputs[0].question, 'what is new in Node 24?');
    const thread = h.fake.thread(CHAN, ts);
    // status message first, then the stream, then the answer
    const [status, stream, answer] = thread;
    assert.ok(status && stream && answer, `thread has ${thread.length} messages`);
    assert.match(JSON.stringify(status.blocks), /Done: 2 steps/);
    assert.doesNotMatch(JSON.stringify(status.blocks), /cir_stop/, 'Stop button removed at the end');
    assert.equal(stream.streaming, 'stopped');
    const tasks = stream.chunks.filter((c) => c.type === 'task_update');
    assert.ok(tasks.some((t) => t.id === 'step-1' && t.status === 'complete'));
    assert.ok(tasks.some((t) => t.id === 'step-2' && t.status === 'complete'));
    const start = h.fake.callsOf('chat.startStream')[0].args;
    assert.equal(start.recipient_user_id, 'U00FAKEUSER1');
    assert.equal(start.recipient_team_id, 'T00FAKE00AA');

    // The answer is streamed as Markdown, then stopped with the sources and native feedback buttons.
    assert.equal(answer.streaming, 'stopped');
    assert.ok(answer.text.includes('Node 24 ships V8 13.6 [[1](https://nodejs.org/en/blog/release/v24.0.0)]'), answer.text);
    assert.ok(answer.chunks.filter((c) => c.type === 'markdown_text').length >= 1);
    assert.match(JSON.stringify(answer.blocks), /only seen in search results/);
    assert.equal(feedbackValues(answer)?.up.startsWith('up:'), true);
    const post = h.fake.callsOf('chat.postMessage')[0];
    assert.equal(post?.args.unfurl_links, 'false');
    assert.equal(post?.args.unfurl_media, 'false');

    const file = h.fake.files[0];
    assert.equal(file.channel, CHAN);
    assert.equal(file.thread_ts, ts);
    assert.match(file.content, /node 24 step 2/);
  } finally {
    await h.close();
  }
});

test('without native streaming: one status message edited with chat.update, steps inside it', async () => {
  const h = await startHarness({ engine: new ScriptedEngine(researchScript(3)), streaming: false });
  try {
    const ts = newTs();
    await h.post(mention('q', { ts }));
    await h.fake.waitFor(() => h.fake.files.some((f) => f.completed), 15000, 'trace upload');
    await h.chat.idle();
    const thread = h.fake.thread(CHAN, ts);
    assert.equal(thread.filter((m) => m.streaming).length, 0);
    const status = thread[0];
    assert.ok(status.edits >= 1, 'status message edited');
    assert.match(JSON.stringify(status.blocks), /Done: 3 steps/);
    assert.match(JSON.stringify(status.blocks), /search “node 24 step 3”/);
    // The workspace is remembered as non-streaming: one failed startStream only.
    await h.post(mention('another', { ts: newTs() }));
    await h.fake.waitFor(() => h.fake.files.filter((f) => f.completed).length === 2, 15000, 'second trace');
    assert.equal(h.fake.callsOf('chat.startStream').length, 1);
    // The answer is posted whole, without link previews.
    const answerPost = h.fake.callsOf('chat.postMessage').find((c) => String(c.args.text).startsWith('Answer'));
    assert.equal(answerPost?.args.unfurl_links, 'false');
    assert.equal(answerPost?.args.unfurl_media, 'false');
  } finally {
    await h.close();
  }
});

test('an empty mention gets a short help reply, not a research', async () => {
  const engine = new ScriptedEngine(researchScript(1));
  const h = await startHarness({ engine });
  try {
    const ts = newTs();
    const body = eventBody({ type: 'app_mention', user: 'U00FAKEUSER1', text: '<@U00FAKEBOT01>', ts, channel: CHAN, event_ts: ts });
    await h.post(body);
    await h.fake.waitFor(() => h.fake.thread(CHAN, ts).length === 1, 5000, 'help reply');
    assert.match(h.fake.thread(CHAN, ts)[0].text, /mentioning me/);
    assert.equal(engine.inputs.length, 0);
  } finally {
    await h.close();
  }
});

test('invalid signature -> 401 and nothing runs; a stale timestamp is refused too', async () => {
  const engine = new ScriptedEngine(researchScript(1));
  const h = await startHarness({ engine });
  try {
    assert.equal(await h.post(mention('forged'), { secret: 'wrong-secret' }), 401);
    assert.equal(await h.post(mention('replayed'), { timestamp: Math.floor(Date.now() / 1000) - 600 }), 401);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(engine.inputs.length, 0);
    assert.equal(h.fake.callsOf('chat.postMessage').length, 0);
  } finally {
    await h.close();
  }
});

test('retries and the app_mention/message twins are one research; the only delivery is never dropped', async () => {
  const engine = new ScriptedEngine(researchScript(1));
  const h = await startHarness({ engine });
  try {
    const ts = newTs();
    const first = mention('dedupe me', { ts });
    assert.equal(await h.post(first), 200);
    assert.equal(await h.post(first, { retryNum: 1 }), 200);
    // The same message as a message.channels event (another event id).
    const twin = eventBody({ type: 'message', user: 'U00FAKEUSER1', text: '<@U00FAKEBOT01> dedupe me', ts, channel: CHAN, event_ts: ts, channel_type: 'channel' });
    assert.equal(await h.post(twin), 200);
    // A retry whose first delivery never arrived is processed.
    const lost = mention('first delivery lost', { ts: newTs() });
    assert.equal(await h.post(lost, { retryNum: 2 }), 200);
    await h.fake.waitFor(() => h.fake.files.filter((f) => f.completed).length === 2, 15000, 'two traces');
    await h.chat.idle();
    assert.deepEqual(engine.inputs.map((i) => i.question).sort(), ['dedupe me', 'first delivery lost']);
  } finally {
    await h.close();
  }
});

test('a question whose first processing died before its session existed is answered on Slack\'s retry; a refusal is posted once', async () => {
  const engine = new ScriptedEngine(researchScript(1));
  const store = openSessionStore(':memory:');
  const ts = newTs();
  // The first process got as far as marking the delivery seen (what the adapter once did before
  // submitting), then died: no session was recorded.
  assert.equal(store.markEventSeen('slack', `msg:T00FAKE00AA:${CHAN}:${ts}`, Date.now()), true);
  const h = await startHarness({ engine, store, limits: { userQuota: 1 } });
  try {
    const body = mention('asked before the crash', { ts });
    assert.equal(await h.post(body, { retryNum: 1 }), 200);
    await h.fake.waitFor(() => h.fake.files.filter((f) => f.completed).length === 1, 15000, 'answered');
    assert.equal(await h.post(body, { retryNum: 2 }), 200, 'a true duplicate after the session exists');
    await h.chat.idle();
    assert.deepEqual(engine.inputs.map((i) => i.question), ['asked before the crash']);
    assert.equal(store.findBySourceEvent('slack', `msg:T00FAKE00AA:${CHAN}:${ts}`)?.question, 'asked before the crash');
    // A refused question (quota used up) delivered twice is refused once, and not as "already being answered".
    const ts2 = newTs();
    const refused = mention('over quota', { ts: ts2 });
    assert.equal(await h.post(refused), 200);
    await h.fake.waitFor(() => h.fake.thread(CHAN, ts2).length === 1, 15000, 'quota refusal');
    assert.equal(await h.post(refused, { retryNum: 1 }), 200);
    // A later question's refusal arrives after the retry was handled (and dropped).
    const ts3 = newTs();
    assert.equal(await h.post(mention('later', { ts: ts3 })), 200);
    await h.fake.waitFor(() => h.fake.thread(CHAN, ts3).length === 1, 15000, 'later refusal');
    await h.chat.idle();
    assert.equal(h.fake.thread(CHAN, ts2).length, 1, 'one refusal for one question');
    assert.ok(!h.fake.callsOf('chat.postMessage').some((c) => /already being answered/.test(JSON.stringify(c))));
    assert.equal(engine.inputs.length, 1);
  } finally {
    await h.close();
  }
});

test('Slack\'s URL verification is answered; after stop() events get 503', async () => {
  const engine = new ScriptedEngine(researchScript(1));
  const h = await startHarness({ engine });
  try {
    const res = await fetch(h.eventsUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signRequest(SIGNING_SECRET, '{"type":"url_verification","challenge":"c-123"}') },
      body: '{"type":"url_verification","challenge":"c-123"}',
    });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /c-123/);
    assert.equal(h.adapter.status().connected, true);
    await h.adapter.stop();
    assert.equal(await h.post(mention('too late')), 503);
    assert.equal(h.adapter.status().connected, false);
    assert.equal(engine.inputs.length, 0);
  } finally {
    await h.close();
  }
});

test('a session a dead process left running: its thread is told, and Retry asks the question again once, for the asker only', async () => {
  const threadTs = '1767000000.000100';
  const ref = { platform: 'slack' as const, workspaceId: 'T00FAKE00AA', channelId: CHAN, threadId: threadTs };
  // "The previous process": a session of the thread was running when it died.
  const store = openSessionStore(':memory:');
  store.createSession({
    id: 'old-session',
    ref,
    userId: 'U00FAKEUSER1',
    question: 'from before the restart',
    status: 'running',
    createdAt: Date.now() - 5000,
    startedAt: Date.now() - 5000,
    finishedAt: null,
    answer: null,
    citations: null,
    error: null,
    cancelledBy: null,
    sourceEventId: 'msg:old',
    steps: null,
  });
  store.appendEvent('old-session', 0, Date.now() - 4000, { type: 'code', step: 1, code: 'print(1)' });
  const engine = new ScriptedEngine(researchScript(1));
  const h = await startHarness({ engine, store });
  try {
    // What serve.ts does once the platforms are connected.
    assert.equal(await h.chat.recoverInterrupted((v) => h.adapter.surface!(v.ref).render(v)), 1);
    const [msg] = h.fake.thread(CHAN, threadTs);
    assert.match(JSON.stringify(msg.blocks), /Interrupted: the bot restarted/);
    assert.equal(h.fake.callsOf('chat.startStream').length, 0, 'no stream for a finished view');
    const retry = (msg.blocks as { elements?: { action_id: string; value: string }[] }[])
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === 'cir_retry');
    assert.equal(retry?.value, 'old-session');
    const press = (user: string) =>
      h.post(
        {
          type: 'block_actions',
          user: { id: user, team_id: 'T00FAKE00AA' },
          team: { id: 'T00FAKE00AA' },
          container: { type: 'message', message_ts: msg.ts, channel_id: CHAN, thread_ts: threadTs },
          message: { ts: msg.ts, thread_ts: threadTs, text: msg.text, blocks: msg.blocks },
          actions: [{ type: 'button', action_id: 'cir_retry', value: 'old-session', block_id: 'cir_controls' }],
        },
        { form: true },
      );
    const texts = () => h.fake.thread(CHAN, threadTs).map((m) => m.text);

    // A bystander may not spend the asker's question.
    assert.equal(await press('U00FAKEUSER2'), 200);
    await h.fake.waitFor(() => texts().some((t) => t.includes('Only the person who asked can retry')), 15000, 'refusal');
    assert.equal(engine.inputs.length, 0);

    // The asker: the same question runs again in the same thread and is answered there.
    assert.equal(await press('U00FAKEUSER1'), 200);
    await h.fake.waitFor(() => h.fake.files.some((f) => f.completed), 15000, 'answer and trace');
    await h.chat.idle();
    assert.deepEqual(engine.inputs.map((i) => i.question), ['from before the restart']);
    assert.equal(answerMessages(h.fake.thread(CHAN, threadTs)).length, 1);
    await h.fake.waitFor(() => !JSON.stringify(h.fake.thread(CHAN, threadTs)[0].blocks).includes('cir_retry'), 15000, 'Retry button removed');
    assert.match(JSON.stringify(h.fake.thread(CHAN, threadTs)[0].blocks), /Interrupted: the bot restarted/);

    // Pressing it again (a client that still shows the old button) does not ask a second time.
    await press('U00FAKEUSER1');
    await h.fake.waitFor(() => texts().some((t) => t.includes('already been asked again')), 15000, 'second press refused');
    assert.equal(engine.inputs.length, 1);
  } finally {
    await h.close();
  }
});

test('a wrong bot token or app token fails start() with a message naming the variable', async () => {
  const fake = await startFakeSlack();
  const chat = { followupWithoutMention: () => true } as unknown as ChatService;
  try {
    const badBot = createSlackAdapter({
      env: parseConfig({ SLACK_BOT_TOKEN: 'xoxb-wrong', SLACK_SIGNING_SECRET: 's', SLACK_API_URL: fake.apiUrl }),
      chat,
      logger: silentLogger,
    });
    await assert.rejects(badBot.start(), /SLACK_BOT_TOKEN \(invalid_auth\)/);
    const badApp = createSlackAdapter({
      env: parseConfig({ SLACK_BOT_TOKEN: fake.botToken, SLACK_APP_TOKEN: 'xapp-wrong', SLACK_API_URL: fake.apiUrl }),
      chat,
      logger: silentLogger,
      options: { retryConfig: { retries: 0 } },
    });
    await assert.rejects(badApp.start(), /SLACK_APP_TOKEN/);
    await badApp.stop();
    assert.equal(badApp.status().connected, false);
  } finally {
    await fake.close();
  }
});
