// /research and mentions end to end: fake Discord (REST + gateway) <-> real adapter <-> real chat
// service <-> scripted engine.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScriptedEngine } from '../fakes/scripted-engine.ts';
import { botMessages, latch, startRig, waitForBotText } from './helpers.ts';
import { MANAGE_MESSAGES, MEMBER_PERMISSIONS } from '../fakes/discord.ts';

const citations = [
  { n: 1, url: 'https://example.org/a', title: 'Alpha page', verified: true, status: 'read' as const },
  { n: 2, url: 'https://example.org/b', title: 'Beta [results]', verified: false, status: 'seen' as const },
];

function engine() {
  return new ScriptedEngine({
    steps: [
      { code: 'print(web_search("alpha"))', output: 'result 1: https://example.org/a', tools: [{ name: 'web_search', arg: 'alpha' }] },
      { code: 'print(web_visit("https://example.org/a"))', output: 'Alpha is the first letter.', tools: [{ name: 'web_visit', arg: 'https://example.org/a' }] },
    ],
    answer: 'Alpha is first [1]. Beta follows [2].',
    citations,
  });
}

test('/research: ack, thread on the reply, steps, answer with sources, trace, buttons', async () => {
  const eng = engine();
  const hold = latch();
  eng.gate = async (n) => {
    if (n === 2) await hold.promise;
  };
  const rig = await startRig({ engine: eng });
  const { fake } = rig;
  try {
    const it = fake.slashCommand({ question: 'What is alpha?' });
    const callback = await fake.waitFor(() => fake.requests.find((r) => r.path.startsWith(`/interactions/${it.id}/`)), 'ack');
    assert.equal(callback.body.type, 4, 'acknowledged with a channel message (the thread starter)');
    assert.match(callback.body.data.content, /What is alpha\?/);

    const starter = fake.channelMessages(fake.channelId).find((m) => m.webhook_id)!;
    const threadId = await fake.waitFor(() => fake.threadFor(starter.id), 'thread on the reply');
    // While running, the status message carries a Stop button.
    const running = await fake.waitFor(() => botMessages(fake, threadId).find((m) => m.components.length), 'Stop button');
    assert.match(running.components[0].components[0].custom_id, /^cir:stop:/);
    assert.match(running.content, /🔎 \*\*Researching: step 1/);
    hold.open();
    const trace = await fake.waitFor(() => botMessages(fake, threadId).find((m) => m.attachments.length), 'trace upload', 20000);
    assert.match(trace.attachments[0].filename, /\.(md|txt)$/);
    const upload = fake.requests.find((r) => r.files.length)!;
    assert.ok(upload.files[0].content.includes('Alpha'), 'the trace file holds the session');
    assert.equal(upload.auth, `Bot ${fake.token}`);

    const msgs = botMessages(fake, threadId);
    const status = msgs[0];
    assert.match(status.content, /✅ \*\*Done\*\*/);
    assert.match(status.content, /```py\nprint\(web_search\("alpha"\)\)\n```/);
    assert.deepEqual(status.components, [], 'the Stop button is gone when done');
    const answer = msgs.find((m) => m.content.includes('Alpha is first'))!;
    assert.ok(answer.content.startsWith(`<@${fake.user.id}>`), 'the asker is mentioned');
    assert.deepEqual(answer.allowed_mentions_sent.users, [fake.user.id]);
    assert.match(answer.content, /\[Alpha page\]\(<https:\/\/example\.org\/a>\) · example\.org · \*read\*/);
    assert.match(answer.content, /only seen in search results/);
    assert.ok(answer.flags & 4, 'embeds suppressed');
    const fb = answer.components[0].components.map((b: { custom_id: string }) => b.custom_id);
    assert.ok(fb[0].startsWith('cir:fb:up:'));

    // Progress went through the bot token only; the interaction token was used once (the ack).
    const webhookCalls = fake.requests.filter((r) => r.path.startsWith('/webhooks/'));
    assert.equal(webhookCalls.length, 0);
    for (const r of fake.requests.filter((r) => r.path.startsWith(`/channels/${threadId}`))) assert.equal(r.auth, `Bot ${fake.token}`);

    // Feedback button.
    const click = fake.clickButton({ messageId: answer.id, customId: fb[0] });
    const reply = await fake.waitFor(() => fake.requests.find((r) => r.path.startsWith(`/interactions/${click.id}/`)), 'feedback ack');
    assert.match(reply.body.data.content, /Thanks/);
    assert.equal(reply.body.data.flags & 64, 64, 'ephemeral');
  } finally {
    hold.open();
    await rig.close();
  }
});

test('mention in a channel opens a thread on the message; own echoes and role/everyone mentions are ignored', async () => {
  const eng = engine();
  const rig = await startRig({ engine: eng });
  const { fake } = rig;
  try {
    fake.userMessage({ content: `<@&${'1457473602180878604'}> AI Still there?`, mentionRoles: ['1457473602180878604'] });
    fake.userMessage({ content: '@everyone look', mentionEveryone: true });
    const other = { ...fake.user, id: '1033044521375760001', username: 'otherbot', bot: true };
    fake.userMessage({ content: `<@${fake.applicationId}> bots talk`, mentionBot: true, author: other });
    const msg = fake.userMessage({ content: `<@${fake.applicationId}> What is alpha?`, mentionBot: true });
    const threadId = await fake.waitFor(() => fake.threadFor(msg.id), 'thread on the mention');
    await waitForBotText(fake, threadId, 'Alpha is first');
    assert.equal(eng.inputs.length, 1, 'only the direct mention started research');
    assert.equal(eng.inputs[0].question, 'What is alpha?');
    const threadReq = fake.requests.find((r) => r.path === `/channels/${fake.channelId}/messages/${msg.id}/threads`)!;
    assert.equal(threadReq.body.name, 'What is alpha?');

    // A mention inside the thread is a follow-up with the thread's history.
    fake.userMessage({ channelId: threadId, content: `<@${fake.applicationId}> and beta?`, mentionBot: true });
    await fake.waitFor(() => eng.inputs.length === 2, 'follow-up research');
    assert.equal(eng.inputs[1].question, 'and beta?');
    assert.equal(eng.inputs[1].history?.length, 1);
    await fake.waitFor(() => botMessages(fake, threadId).filter((m) => m.content.includes('Alpha is first')).length === 2, 'second answer');

    // An empty mention gets short help.
    fake.userMessage({ content: `<@${fake.applicationId}>`, mentionBot: true });
    await waitForBotText(fake, fake.channelId, '/research');
    assert.equal(eng.inputs.length, 2);
  } finally {
    await rig.close();
  }
});

test('Stop button cancels a running research and the button disappears', async () => {
  const eng = engine();
  const hold = latch();
  eng.gate = async (n) => {
    if (n === 2) await hold.promise;
  };
  const rig = await startRig({ engine: eng });
  const { fake } = rig;
  try {
    const msg = fake.userMessage({ content: `<@${fake.applicationId}> long one`, mentionBot: true });
    const threadId = await fake.waitFor(() => fake.threadFor(msg.id), 'thread');
    const status = await fake.waitFor(
      () => botMessages(fake, threadId).find((m) => m.content.includes('print(web_search') && m.components.length),
      'status with step 1 and Stop',
    );
    const stopId = status.components[0].components[0].custom_id as string;
    assert.match(stopId, /^cir:stop:/);
    // A second question in the same thread while it runs is turned away, in place of "Starting…".
    fake.userMessage({ channelId: threadId, content: `<@${fake.applicationId}> another one`, mentionBot: true });
    const busy = await waitForBotText(fake, threadId, 'still working on the previous question');
    assert.match(busy.content, /^⚠️ /);
    assert.ok(!botMessages(fake, threadId).some((m) => m.content.includes('Starting…')));
    // Someone else may not stop it (neither by button nor by typing stop).
    const other = { ...fake.user, id: '1033044521375760002', username: 'bystander' };
    const refused = fake.clickButton({ messageId: status.id, customId: stopId, user: other });
    const ack = await fake.waitFor(() => fake.requests.find((r) => r.path.startsWith(`/interactions/${refused.id}/`)), 'acknowledged');
    assert.equal(ack.body.type, 5, 'acknowledged at once (a deferred, private reply)');
    // The chat layer refuses in the thread, politely, naming who may.
    const refusals = () =>
      botMessages(fake, threadId).filter((m) => m.content === '⚠️ Sorry, only the person who asked, or a member who can manage messages here, can stop this research; it keeps running.').length;
    await fake.waitFor(() => refusals() === 1 || undefined, 'refusal of the button');
    fake.userMessage({ channelId: threadId, content: `<@${fake.applicationId}> stop`, mentionBot: true, author: other });
    await fake.waitFor(() => refusals() === 2 || undefined, 'refusal of the text');
    assert.ok(!/Stopped/.test(fake.messages.get(status.id)!.content));
    assert.ok(rig.chat.activeSession({ platform: 'discord', workspaceId: fake.guildId, channelId: fake.channelId, threadId }) !== null, 'still running');
    // The asker may.
    fake.clickButton({ messageId: status.id, customId: stopId });
    await fake.waitFor(() => /Stopped by/.test(fake.messages.get(status.id)!.content), 'stopped status');
    assert.deepEqual(fake.messages.get(status.id)!.components, []);
    hold.open();
    assert.ok(!botMessages(fake, threadId).some((m) => m.content.includes('Alpha is first')), 'no answer after stop');
  } finally {
    hold.open();
    await rig.close();
  }
});

test('a moderator may stop anyone\'s research; research running at shutdown still delivers its answer', async () => {
  const eng = engine();
  const hold = latch();
  eng.gate = async (n) => {
    if (n === 2) await hold.promise;
  };
  const rig = await startRig({ engine: eng });
  const { fake } = rig;
  try {
    const first = fake.userMessage({ content: `<@${fake.applicationId}> one`, mentionBot: true });
    const t1 = await fake.waitFor(() => fake.threadFor(first.id), 'thread 1');
    const s1 = await fake.waitFor(() => botMessages(fake, t1).find((m) => m.components.length), 'Stop 1');
    const mod = { ...fake.user, id: '1033044521375760003', username: 'mod' };
    fake.clickButton({ messageId: s1.id, customId: s1.components[0].components[0].custom_id, user: mod, memberPermissions: MEMBER_PERMISSIONS | MANAGE_MESSAGES });
    await fake.waitFor(() => /Stopped by <@1033044521375760003>/.test(fake.messages.get(s1.id)!.content), 'stopped by the moderator');

    const second = fake.userMessage({ content: `<@${fake.applicationId}> two`, mentionBot: true });
    const t2 = await fake.waitFor(() => fake.threadFor(second.id), 'thread 2');
    await fake.waitFor(() => botMessages(fake, t2).find((m) => m.components.length), 'running');
    await rig.adapter.stop();
    hold.open();
    await rig.chat.idle();
    assert.ok(botMessages(fake, t2).some((m) => m.content.includes('Alpha is first')), 'answer delivered after the gateway stopped');
  } finally {
    hold.open();
    await rig.close();
  }
});

test('nothing the model or a web page writes can ping anyone or unfurl a link', async () => {
  const ping = '@everyone @here <@1033044521375760002> <@&1457469483726600000>';
  const eng = new ScriptedEngine({
    steps: [{ code: `print("${ping} https://evil.example/step")`, output: `${ping} https://evil.example/out`, tools: [{ name: 'web_search', arg: ping }] }],
    answer: `${ping} see https://evil.example/answer and [1].`,
    citations: [{ n: 1, url: 'https://example.org/a', title: `${ping} [click](https://evil.example/title)`, verified: true, status: 'read' }],
  });
  const rig = await startRig({ engine: eng });
  const { fake } = rig;
  try {
    const msg = fake.userMessage({ content: `<@${fake.applicationId}> hostile`, mentionBot: true });
    const threadId = await fake.waitFor(() => fake.threadFor(msg.id), 'thread');
    await fake.waitFor(() => botMessages(fake, threadId).find((m) => m.attachments.length), 'trace upload', 20000);
    await rig.chat.idle();
    const writes = fake.requests.filter((r) => /^\/channels\/\d+\/messages(\/\d+)?$/.test(r.path) && (r.method === 'POST' || r.method === 'PATCH'));
    assert.ok(writes.length >= 4);
    for (const w of writes) {
      // No @everyone/@here/roles ever; the only user ever allowed is the asker, on the answer.
      assert.deepEqual(w.body.allowed_mentions.parse, [], `${w.method} ${w.path}`);
      assert.ok((w.body.allowed_mentions.users ?? []).every((u: string) => u === fake.user.id));
      assert.ok(w.body.flags & 4, `link previews suppressed on ${w.method} ${w.path}`);
    }
    const answer = botMessages(fake, threadId).find((m) => m.content.includes('see'))!;
    // The title is plain text: no masked link of its own, no raw mention syntax.
    const sources = answer.content.slice(answer.content.indexOf('**Sources**'));
    assert.doesNotMatch(sources, /\[click\]\(/);
    assert.doesNotMatch(sources, /(^|[^\\])<@/);
    assert.match(answer.content, /<https:\/\/evil\.example\/answer>/);
  } finally {
    await rig.close();
  }
});

test('where a person stands: "Queued: 2 ahead of you", the quota with the time the next frees, capacity', async () => {
  const eng = engine();
  const hold = latch();
  eng.gate = () => hold.promise;
  const rig = await startRig({ engine: eng, limits: { maxConcurrent: 1, queueMax: 3, userQuota: 1 } });
  const { fake } = rig;
  const ask = (content: string, id: string) =>
    fake.userMessage({ content: `<@${fake.applicationId}> ${content}`, mentionBot: true, author: { ...fake.user, id, username: `u${id}` } });
  const status = async (msg: Record<string, unknown>, text: string) => {
    const threadId = await fake.waitFor(() => fake.threadFor(msg.id as string), 'thread');
    return waitForBotText(fake, threadId, text);
  };
  try {
    await status(ask('first', '1033044521375760001'), 'Researching');
    const waiting = [ask('w1', '1033044521375760002'), ask('w2', '1033044521375760003'), ask('w3', '1033044521375760004')];
    assert.match((await status(waiting[2], 'Queued: 2 ahead of you')).content, /^⏳ \*\*Queued: 2 ahead of you\*\*/);
    await status(waiting[0], 'Queued: you are next');
    await status(waiting[1], 'Queued: 1 ahead of you');
    const full = await status(ask('one too many', '1033044521375760009'), 'at capacity');
    assert.equal(full.content, '⚠️ The bot is at capacity; please try again in a few minutes.');
    const quota = await status(ask('again', '1033044521375760001'), 'frees at');
    // after 23:00 UTC the time is on the next day and says so ("Dec 8, 00:16 UTC")
    assert.match(quota.content, /^⚠️ You have used your 1 question this hour; the next one frees at (?:[A-Z][a-z]{2} \d{1,2}, )?\d\d:\d\d UTC\.$/);
    hold.open();
    for (const m of waiting) await status(m, 'Alpha is first');
    await rig.chat.idle();
    assert.equal(eng.inputs.length, 4);
  } finally {
    hold.open();
    await rig.close();
  }
});
