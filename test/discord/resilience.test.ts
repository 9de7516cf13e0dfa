// What Discord does to a long research: the interaction token expires, permissions are missing,
// edits are rate limited, answers and step lists outgrow 2000 characters.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DISCORD_LIMITS } from '../../src/platforms/discord/limits.ts';
import { ScriptedEngine, type Step } from '../fakes/scripted-engine.ts';
import { botMessages, latch, startRig, waitForBotText } from './helpers.ts';

const twoSteps: Step[] = [
  { code: 'print(web_search("alpha"))', output: 'result: https://example.org/a' },
  { code: 'print(web_visit("https://example.org/a"))', output: 'Alpha is the first letter.' },
];

test('a /research that outlives the 15-minute interaction token still completes in its thread', async () => {
  const eng = new ScriptedEngine({ steps: twoSteps, answer: 'Done after a long time.' });
  const hold = latch();
  eng.gate = async (n) => {
    if (n === 2) await hold.promise;
  };
  const rig = await startRig({ engine: eng });
  const { fake } = rig;
  try {
    const it = fake.slashCommand({ question: 'slow question' });
    const starter = await fake.waitFor(() => fake.channelMessages(fake.channelId).find((m) => m.webhook_id), 'starter');
    const threadId = await fake.waitFor(() => fake.threadFor(starter.id), 'thread');
    await waitForBotText(fake, threadId, 'print(web_search');
    fake.advance(DISCORD_LIMITS.interactionTokenMs + 60_000);
    // The token is dead now: Discord answers 401 for webhook calls with it.
    const res = await fetch(`${fake.apiUrl}/v10/webhooks/${fake.applicationId}/${it.token}/messages/@original`);
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { code: number }).code, 50027);
    hold.open();
    await waitForBotText(fake, threadId, 'Done after a long time.');
    const webhookCalls = fake.requests.filter((r) => r.path.startsWith('/webhooks/'));
    assert.equal(webhookCalls.length, 1, 'only the probe above used the interaction token after the ack');
  } finally {
    hold.open();
    await rig.close();
  }
});

test('cannot create threads: answers in the channel, replying to the question, and says why', async () => {
  const eng = new ScriptedEngine({ steps: twoSteps, answer: 'Channel answer.' });
  const rig = await startRig({ engine: eng, beforeStart: (f) => f.deny(f.channelId, 'CreatePublicThreads') });
  const { fake } = rig;
  try {
    const msg = fake.userMessage({ content: `<@${fake.applicationId}> where?`, mentionBot: true });
    await waitForBotText(fake, fake.channelId, 'Channel answer.');
    const refused = fake.requests.find((r) => r.path.endsWith(`/messages/${msg.id}/threads`))!;
    assert.equal(refused.status, 403);
    const notice = botMessages(fake, fake.channelId)[0];
    assert.match(notice.content, /couldn't open a thread.*Create Public Threads/);
    assert.equal(notice.message_reference?.message_id, msg.id, 'replies to the question');
    // "stop" mentioned in the channel reaches the channel-level research (nothing running now).
    fake.userMessage({ content: `<@${fake.applicationId}> stop`, mentionBot: true });
    await waitForBotText(fake, fake.channelId, 'Nothing is running here.');
  } finally {
    await rig.close();
  }
});

test('cannot send in threads: the thread is abandoned for the channel', async () => {
  const eng = new ScriptedEngine({ steps: twoSteps, answer: 'Fallback answer.' });
  const rig = await startRig({ engine: eng, beforeStart: (f) => f.deny(f.channelId, 'SendMessagesInThreads') });
  const { fake } = rig;
  try {
    fake.slashCommand({ question: 'threads are closed' });
    await waitForBotText(fake, fake.channelId, 'Fallback answer.');
    assert.ok(botMessages(fake, fake.channelId).some((m) => /Send Messages in Threads/.test(m.content)));
  } finally {
    await rig.close();
  }
});

test('no access at all: the user is told which permissions are missing (DM for mentions, reply for /research)', async () => {
  const eng = new ScriptedEngine({ steps: twoSteps, answer: 'never' });
  const rig = await startRig({ engine: eng, beforeStart: (f) => f.deny(f.channelId, 'SendMessages', 'SendMessagesInThreads') });
  const { fake } = rig;
  try {
    fake.userMessage({ content: `<@${fake.applicationId}> hello?`, mentionBot: true });
    const dm = await fake.waitFor(
      () => [...fake.messages.values()].find((m) => fake.channels.get(m.channel_id)?.type === 1 && /Send Messages/.test(m.content)),
      'DM naming the permissions',
    );
    assert.match(dm.content, /I'm missing the \*\*Send Messages\*\* permission\. Ask a server admin/);
    assert.match(dm.content, new RegExp(`<#${fake.channelId}>`));

    fake.deny(fake.channelId, 'ViewChannel');
    const it = fake.slashCommand({ question: 'anyone?' });
    const ack = await fake.waitFor(() => fake.requests.find((r) => r.path.startsWith(`/interactions/${it.id}/`)), 'ack');
    assert.match(ack.body.data.content, /View Channel/);
    assert.equal(ack.body.data.flags & 64, 64, 'ephemeral');
    assert.equal(eng.inputs.length, 0, 'no research was started');
  } finally {
    await rig.close();
  }
});

test('429 on edits: discord.js waits and retries; the final state is delivered', async () => {
  const eng = new ScriptedEngine({ steps: twoSteps, answer: 'Rate limited but delivered.' });
  const rig = await startRig({ engine: eng });
  const { fake } = rig;
  try {
    const waits: number[] = [];
    rig.adapter.onRateLimit?.((ms) => waits.push(ms));
    fake.failNext({ method: 'PATCH', path: /^\/channels\/\d+\/messages\/\d+$/, status: 429, retryAfter: 0.3, times: 2 });
    const msg = fake.userMessage({ content: `<@${fake.applicationId}> limits`, mentionBot: true });
    const threadId = await fake.waitFor(() => fake.threadFor(msg.id), 'thread');
    await waitForBotText(fake, threadId, 'Rate limited but delivered.');
    const patches = fake.requests.filter((r) => r.method === 'PATCH');
    assert.equal(patches.filter((r) => r.status === 429).length, 2);
    assert.ok(waits.length >= 1 && waits.every((w) => w > 0), 'waits reported for the metrics');
    const status = botMessages(fake, threadId)[0];
    assert.match(status.content, /✅ \*\*Done\*\*/);
  } finally {
    await rig.close();
  }
});

test('many long steps and a long answer: every message <= 2000, steps in order, answer split', async () => {
  const steps: Step[] = Array.from({ length: 9 }, (_, i) => ({
    code: `# step ${i + 1}\n` + `x${i} = compute(${i})\n`.repeat(40),
    output: `observation ${i + 1}\n` + 'data '.repeat(200),
  }));
  const answer = Array.from({ length: 10 }, (_, i) => `Paragraph ${i}: ` + 'text '.repeat(90).trim() + '.').join('\n\n');
  const eng = new ScriptedEngine({ steps, answer });
  const rig = await startRig({ engine: eng });
  const { fake } = rig;
  try {
    const msg = fake.userMessage({ content: `<@${fake.applicationId}> long`, mentionBot: true });
    const threadId = await fake.waitFor(() => fake.threadFor(msg.id), 'thread');
    await fake.waitFor(() => botMessages(fake, threadId).find((m) => m.attachments.length), 'trace', 30000);
    const msgs = botMessages(fake, threadId);
    for (const m of msgs) assert.ok(m.content.length <= 2000, `message of ${m.content.length} chars`);
    // Step numbers appear once each, in increasing order across the messages.
    const order = msgs.flatMap((m) => [...m.content.matchAll(/\*\*Step (\d+)\*\*/g)].map((x) => Number(x[1])));
    assert.deepEqual(order, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const answerParts = msgs.filter((m) => m.content.includes('Paragraph'));
    assert.ok(answerParts.length >= 2, 'answer split');
    assert.equal(answerParts.map((m) => m.content).join('\n\n').match(/Paragraph \d+/g)?.length, 10);
    assert.ok(answerParts[answerParts.length - 1].components.length, 'feedback buttons on the last part');
  } finally {
    await rig.close();
  }
});

test('status edits in one channel are paced at the Discord limit', async () => {
  const steps: Step[] = Array.from({ length: 3 }, (_, i) => ({ code: `print(${i})`, output: String(i) }));
  const eng = new ScriptedEngine({ steps, answer: 'Paced.' });
  eng.gate = (_step, _input, at) => (at === 'code' ? new Promise((r) => setTimeout(r, 300)) : undefined);
  const rig = await startRig({ engine: eng, editIntervalMs: DISCORD_LIMITS.editIntervalMs });
  const { fake } = rig;
  try {
    const msg = fake.userMessage({ content: `<@${fake.applicationId}> pace`, mentionBot: true });
    const threadId = await fake.waitFor(() => fake.threadFor(msg.id), 'thread');
    await waitForBotText(fake, threadId, 'Paced.');
    const edits = fake.requests.filter((r) => r.method === 'PATCH' && r.path.startsWith(`/channels/${threadId}/`));
    assert.ok(edits.length >= 2);
    for (let i = 1; i < edits.length; i++) assert.ok(edits[i].at - edits[i - 1].at >= DISCORD_LIMITS.editIntervalMs - 50, 'spacing');
  } finally {
    await rig.close();
  }
});

test('without Attach Files the answer is delivered and the missing trace explained', async () => {
  const eng = new ScriptedEngine({ steps: twoSteps, answer: 'Answer without file.' });
  const rig = await startRig({ engine: eng, beforeStart: (f) => f.deny(f.channelId, 'AttachFiles') });
  const { fake } = rig;
  try {
    const msg = fake.userMessage({ content: `<@${fake.applicationId}> files?`, mentionBot: true });
    const threadId = await fake.waitFor(() => fake.threadFor(msg.id), 'thread');
    await waitForBotText(fake, threadId, 'Attach Files');
    assert.ok(botMessages(fake, threadId).some((m) => m.content.includes('Answer without file.')));
    assert.equal(fake.requests.filter((r) => r.files.length && r.status === 403).length, 1);
  } finally {
    await rig.close();
  }
});

test('without Read Message History the channel fallback posts without replying', async () => {
  const eng = new ScriptedEngine({ steps: twoSteps, answer: 'Plain channel answer.' });
  const rig = await startRig({ engine: eng, beforeStart: (f) => f.deny(f.channelId, 'CreatePublicThreads', 'ReadMessageHistory') });
  const { fake } = rig;
  try {
    fake.userMessage({ content: `<@${fake.applicationId}> history?`, mentionBot: true });
    await waitForBotText(fake, fake.channelId, 'Plain channel answer.');
    const refusedReply = fake.requests.find((r) => r.status === 400 && r.body?.message_reference)!;
    assert.ok(refusedReply, 'the reply was refused once');
    assert.match(botMessages(fake, fake.channelId)[0].content, /couldn't open a thread/);
    assert.equal(botMessages(fake, fake.channelId)[0].message_reference, undefined);
  } finally {
    await rig.close();
  }
});

test('a deleted status message is replaced, and the research still ends with its answer', async () => {
  const eng = new ScriptedEngine({ steps: twoSteps, answer: 'Still here.' });
  const hold = latch();
  eng.gate = async (n) => {
    if (n === 2) await hold.promise;
  };
  const rig = await startRig({ engine: eng });
  const { fake } = rig;
  try {
    const msg = fake.userMessage({ content: `<@${fake.applicationId}> delete me`, mentionBot: true });
    const threadId = await fake.waitFor(() => fake.threadFor(msg.id), 'thread');
    const status = await fake.waitFor(() => botMessages(fake, threadId).find((m) => m.content.includes('print(web_search')), 'status');
    fake.messages.delete(status.id); // a moderator deleted it
    hold.open();
    await waitForBotText(fake, threadId, 'Still here.');
    assert.match(botMessages(fake, threadId)[0].content, /✅ \*\*Done\*\*/, 'a new status message holds the final state');
    assert.ok(fake.requests.some((r) => r.method === 'PATCH' && r.status === 404));
  } finally {
    hold.open();
    await rig.close();
  }
});
