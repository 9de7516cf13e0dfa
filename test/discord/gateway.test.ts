// The gateway side: intents, heartbeats, replays of fixture traffic, dedupe of replayed events,
// follow-ups with and without the Message Content intent, DMs and "stop" text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CHAT_LIMITS } from '../../src/chat/limits.ts';
import { createChatService } from '../../src/chat/service.ts';
import { openSessionStore } from '../../src/chat/store.ts';
import { parseConfig } from '../../src/config.ts';
import { silentLogger } from '../../src/util/log.ts';
import { createDiscordAdapter } from '../../src/platforms/discord/index.ts';
import { startFakeDiscord } from '../fakes/discord.ts';
import * as DiscordFixtures from '../fixtures/discord/gateway.ts';
import { ScriptedEngine, type Step } from '../fakes/scripted-engine.ts';
import { botMessages, latch, startRig, waitForBotText } from './helpers.ts';

const steps: Step[] = [{ code: 'print(1 + 1)', output: '2' }];

test('IDENTIFY asks for Guilds, GuildMessages and DirectMessages only; heartbeats are acknowledged', async () => {
  const rig = await startRig({ engine: new ScriptedEngine({ steps, answer: 'x' }), beforeStart: (f) => (f.heartbeatIntervalMs = 200) });
  const { fake } = rig;
  try {
    const identify = fake.gatewayIn.find((p) => p.op === 2)!;
    assert.equal(identify.d.intents, (1 << 0) | (1 << 9) | (1 << 12));
    assert.equal(identify.d.token, fake.token);
    await fake.waitFor(() => fake.gatewayIn.filter((p) => p.op === 1).length >= 2, 'two heartbeats');
    assert.ok(fake.gatewayOut.filter((p) => p.op === 11).length >= 2, 'ACKed');
    assert.deepEqual(rig.adapter.status().connected, true);
  } finally {
    await rig.close();
  }
  assert.equal(rig.adapter.status().connected, false);
});

test('a wrong token fails start() with a message naming DISCORD_TOKEN', async () => {
  const fake = await startFakeDiscord();
  const store = openSessionStore(':memory:');
  const chat = createChatService({ engine: new ScriptedEngine({ steps, answer: 'x' }), store, limits: DEFAULT_CHAT_LIMITS });
  try {
    const env = parseConfig({ DISCORD_TOKEN: 'OTk5.WRONG.not-the-real-token-at-all', DISCORD_API_URL: fake.apiUrl });
    const adapter = createDiscordAdapter({ env, chat, logger: silentLogger });
    await assert.rejects(adapter.start(), /Discord login failed \(check DISCORD_TOKEN\)/);
    assert.equal(adapter.status().connected, false);
    assert.match(adapter.status().detail ?? '', /login failed/);
  } finally {
    store.close();
    await fake.close();
  }
});

test('replay of a channel\'s traffic: mention -> thread, thread reply -> follow-up, the rest ignored', async () => {
  const eng = new ScriptedEngine({ steps, answer: 'Replayed answer.' });
  const rig = await startRig({ engine: eng, env: { DISCORD_MESSAGE_CONTENT: 'true' } });
  const { fake } = rig;
  try {
    // Role mention, another bot's post, a click on its button, a reaction, then the mention.
    for (const p of DiscordFixtures.replay) fake.replay(p.t, structuredClone(p.d));
    const threadId = await fake.waitFor(() => fake.threadFor(DiscordFixtures.mention.id), 'thread on the mention');
    assert.equal(threadId, DiscordFixtures.threadCreate.id, 'a thread started on a message has the message id');
    await waitForBotText(fake, threadId, 'Replayed answer.');
    assert.deepEqual(eng.inputs.map((i) => i.question), ['What is the tallest tree species?']);
    for (const p of DiscordFixtures.replayInThread) fake.replay(p.t, structuredClone(p.d));
    await fake.waitFor(() => eng.inputs.length === 2, 'follow-up from the thread reply');
    assert.equal(eng.inputs[1].question, 'And which one is the oldest?');
    assert.equal(eng.inputs[1].history?.length, 1);
    await fake.waitFor(() => botMessages(fake, threadId).filter((m) => m.content.includes('Replayed answer.')).length === 2, 'second answer');
    // Nothing answered the other app's button, and only the two questions were researched.
    assert.ok(!fake.requests.some((r) => r.path.startsWith(`/interactions/${DiscordFixtures.foreignButtonClick.id}/`)));
    assert.equal(eng.inputs.length, 2);
  } finally {
    await rig.close();
  }
});

test('gateway replays of the same message or interaction are answered once', async () => {
  const eng = new ScriptedEngine({ steps, answer: 'Once.' });
  const rig = await startRig({ engine: eng });
  const { fake } = rig;
  try {
    const d = fake.userMessage({ content: `<@${fake.applicationId}> once?`, mentionBot: true });
    fake.dispatch('MESSAGE_CREATE', d);
    const threadId = await fake.waitFor(() => fake.threadFor(d.id), 'thread');
    await waitForBotText(fake, threadId, 'Once.');
    const it = fake.slashCommand({ question: 'also once?' });
    const replayed = fake.gatewayOut.find((p) => p.t === 'INTERACTION_CREATE' && p.d.id === it.id)!;
    fake.dispatch('INTERACTION_CREATE', replayed.d);
    await fake.waitFor(() => eng.inputs.length === 2, 'second research');
    await fake.waitFor(() => botMessages(fake, fake.channelId).length >= 1, 'starter');
    assert.equal(fake.requests.filter((r) => r.path.includes(`/interactions/${it.id}/`)).length, 1);
    assert.equal(fake.requests.filter((r) => r.path.endsWith(`/messages/${d.id}/threads`)).length, 1);
    assert.deepEqual(eng.inputs.map((i) => i.question), ['once?', 'also once?']);
  } finally {
    await rig.close();
  }
});

test('a mention whose first processing died before its session existed is answered when replayed', async () => {
  const eng = new ScriptedEngine({ steps, answer: 'Answered after all.' });
  const store = openSessionStore(':memory:');
  const id = '1033044521375799001';
  // The previous process marked the message seen (as the adapter once did first), then died.
  assert.equal(store.markEventSeen('discord', `message:${id}`, Date.now()), true);
  const rig = await startRig({ engine: eng, store });
  const { fake } = rig;
  try {
    const d = fake.userMessage({ id, content: `<@${fake.applicationId}> lost?`, mentionBot: true });
    const threadId = await fake.waitFor(() => fake.threadFor(d.id), 'thread');
    await waitForBotText(fake, threadId, 'Answered after all.');
    assert.deepEqual(eng.inputs.map((i) => i.question), ['lost?']);
    assert.equal(store.findBySourceEvent('discord', id)?.question, 'lost?');
  } finally {
    await rig.close();
  }
});

test('without the Message Content intent, un-mentioned thread replies (blank content) are ignored', async () => {
  const eng = new ScriptedEngine({ steps, answer: 'First.' });
  const rig = await startRig({ engine: eng });
  const { fake } = rig;
  try {
    const d = fake.userMessage({ content: `<@${fake.applicationId}> first`, mentionBot: true });
    const threadId = await fake.waitFor(() => fake.threadFor(d.id), 'thread');
    await waitForBotText(fake, threadId, 'First.');
    fake.userMessage({ channelId: threadId, content: 'and then?' });
    // A mention afterwards is answered: the un-mentioned reply before it was not.
    fake.userMessage({ channelId: threadId, content: `<@${fake.applicationId}> and then, really?`, mentionBot: true });
    await fake.waitFor(() => eng.inputs.length === 2, 'mentioned follow-up');
    assert.deepEqual(eng.inputs.map((i) => i.question), ['first', 'and then, really?']);
  } finally {
    await rig.close();
  }
});

test('DMs work without threads; "stop" in a research thread cancels', async () => {
  const eng = new ScriptedEngine({ steps: [...steps, { code: 'print(2)', output: '2' }], answer: 'DM answer.' });
  const rig = await startRig({ engine: eng, env: { DISCORD_MESSAGE_CONTENT: 'true' } });
  const { fake } = rig;
  try {
    const dm = fake.addChannel({ type: 1 });
    fake.userMessage({ channelId: dm.id, content: 'what is in a DM?' });
    await waitForBotText(fake, dm.id, 'DM answer.');
    assert.equal(fake.requests.filter((r) => r.path.includes('/threads')).length, 0);

    const hold = latch();
    eng.gate = async (n) => {
      if (n === 2) await hold.promise;
    };
    const d = fake.userMessage({ content: `<@${fake.applicationId}> stoppable`, mentionBot: true });
    const threadId = await fake.waitFor(() => fake.threadFor(d.id), 'thread');
    await waitForBotText(fake, threadId, 'print(1 + 1)');
    fake.userMessage({ channelId: threadId, content: 'stop' });
    await waitForBotText(fake, threadId, 'Stopped by');
    hold.open();
    assert.ok(!botMessages(fake, threadId).some((m) => m.content.includes('DM answer.')));
  } finally {
    await rig.close();
  }
});

test('a session a dead process left running: its thread is told, and Retry asks the question again once, for the asker only', async () => {
  // "The previous process": a session of the thread was running when it died.
  const store = openSessionStore(':memory:');
  const fakeIds = { guild: '', channel: '', thread: '' };
  const engine = new ScriptedEngine({ steps, answer: 'Retried and answered.' });
  let rig: Awaited<ReturnType<typeof startRig>> | undefined;
  try {
    rig = await startRig({
      engine,
      store,
      beforeStart: (f) => {
        const thread = f.addChannel({ type: 11, parentId: f.channelId });
        Object.assign(fakeIds, { guild: f.guildId, channel: f.channelId, thread: thread.id });
        store.createSession({
          id: 'old-session',
          ref: { platform: 'discord', workspaceId: f.guildId, channelId: f.channelId, threadId: thread.id },
          userId: f.user.id,
          question: 'what was the question?',
          status: 'running',
          createdAt: Date.now() - 5000,
          startedAt: Date.now() - 5000,
          finishedAt: null,
          answer: null,
          citations: null,
          error: null,
          cancelledBy: null,
          sourceEventId: 'm-old',
          steps: null,
        });
        store.appendEvent('old-session', 0, Date.now() - 4000, { type: 'code', step: 1, code: 'print(1)' });
      },
    });
    const { fake, chat, adapter } = rig;
    // What serve.ts does once the platforms are connected.
    assert.equal(await chat.recoverInterrupted((v) => adapter.surface!(v.ref).render(v)), 1);
    const [m] = botMessages(fake, fakeIds.thread);
    assert.match(m.content, /Interrupted by a restart; press Retry to ask again/);
    assert.match(m.content, /print\(1\)/);
    const retryId = m.components[0].components[0].custom_id as string;
    assert.equal(retryId, 'cir:retry:old-session');

    // A bystander may not spend the asker's question.
    const other = { ...fake.user, id: '1033044521375760002', username: 'bystander' };
    fake.clickButton({ messageId: m.id, customId: retryId, user: other });
    await waitForBotText(fake, fakeIds.thread, 'Only the person who asked can retry');
    assert.equal(engine.inputs.length, 0);

    // The asker: the same question runs again in the same thread and is answered there.
    fake.clickButton({ messageId: m.id, customId: retryId });
    await waitForBotText(fake, fakeIds.thread, 'Retried and answered.');
    await chat.idle();
    assert.deepEqual(engine.inputs.map((i) => i.question), ['what was the question?']);
    await fake.waitFor(() => (fake.messages.get(m.id)!.components.length === 0 ? true : undefined), 'Retry button removed');

    // Pressing it again (a client that still shows the old button) does not ask a second time.
    fake.clickButton({ messageId: m.id, customId: retryId });
    await waitForBotText(fake, fakeIds.thread, 'already been asked again');
    assert.equal(engine.inputs.length, 1);
  } finally {
    if (rig) await rig.close();
    else store.close();
  }
});

test('after a dropped gateway connection the bot resumes and keeps answering', async () => {
  const eng = new ScriptedEngine({ steps, answer: 'After the blip.' });
  const rig = await startRig({ engine: eng });
  const { fake } = rig;
  try {
    fake.dropGateway();
    await fake.waitFor(() => fake.gatewayIn.some((p) => p.op === 6), 'RESUME', 30000);
    await fake.waitFor(() => fake.gatewayOut.some((p) => p.t === 'RESUMED'), 'RESUMED');
    assert.equal(fake.gatewayIn.filter((p) => p.op === 2).length, 1, 'resumed, not re-identified');
    const d = fake.userMessage({ content: `<@${fake.applicationId}> still there?`, mentionBot: true });
    const threadId = await fake.waitFor(() => fake.threadFor(d.id), 'thread');
    await waitForBotText(fake, threadId, 'After the blip.');
    assert.equal(rig.adapter.status().connected, true);
  } finally {
    await rig.close();
  }
});
