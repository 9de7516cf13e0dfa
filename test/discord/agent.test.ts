// Discord as it is today: a message that already has a thread (160004) is researched in that
// thread; a mention of the bot's managed role counts as a mention; "is typing…" while a step works.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScriptedEngine } from '../fakes/scripted-engine.ts';
import { botMessages, latch, startRig, waitForBotText } from './helpers.ts';

function engine() {
  return new ScriptedEngine({
    steps: [
      { code: 'print(web_search("alpha"))', output: 'result 1', tools: [{ name: 'web_search', arg: 'alpha' }] },
      { code: 'print(2)', output: 'two' },
    ],
    answer: 'Alpha is first [1].',
    citations: [{ n: 1, url: 'https://example.org/a', title: 'Alpha page', verified: true, status: 'read' }],
  });
}

test('160004: the message already has a thread, so the research happens in it (its id is the message id)', async () => {
  const rig = await startRig({ engine: engine() });
  const { fake } = rig;
  try {
    const id = fake.snowflake();
    fake.userMessage({ id, content: `<@${fake.applicationId}> what is alpha?`, mentionBot: true });
    // Someone opened a thread on the message before the bot got to it.
    const existing = fake.createThread(fake.channelId, 'opened by a person', id);
    assert.equal(existing.id, id);
    await waitForBotText(fake, id, 'Alpha is first');
    const threadPosts = fake.requests.filter((r) => r.method === 'POST' && r.path === `/channels/${fake.channelId}/messages/${id}/threads`);
    assert.equal(threadPosts.length, 1);
    assert.equal(threadPosts[0].status, 400, 'Discord refused a second thread');
    assert.equal(fake.threadFor(id), id, 'no other thread was made');
    const inChannel = botMessages(fake, fake.channelId);
    assert.ok(!inChannel.some((m) => /couldn't open a thread/.test(m.content)), 'not treated as a refusal');
    assert.ok(!inChannel.some((m) => /Alpha is first/.test(m.content)), 'the answer is in the thread, not the channel');
  } finally {
    await rig.close();
  }
});

test("a mention of the bot's managed role is a mention of the bot; other roles are not", async () => {
  const eng = engine();
  const rig = await startRig({ engine: eng, env: { DISCORD_MESSAGE_CONTENT: 'true' } });
  const { fake } = rig;
  try {
    const other = fake.userMessage({ content: '<@&1300000000000000777> ping the mods', mentionRoles: ['1300000000000000777'] });
    const m = fake.userMessage({ content: `<@&${fake.botRoleId}> what is alpha?`, mentionRoles: [fake.botRoleId] });
    const threadId = await fake.waitFor(() => fake.threadFor(m.id), 'a research thread for the role mention');
    await waitForBotText(fake, threadId, 'Alpha is first');
    assert.deepEqual(eng.inputs.map((i) => i.question), ['what is alpha?'], 'the role mention is stripped from the question');
    assert.equal(fake.threadFor(other.id), undefined, 'a role the bot does not own is ignored');
  } finally {
    await rig.close();
  }
});

test('while a step works the thread shows "is typing…", renewed while it waits; no typing follows the answer', async () => {
  const eng = engine();
  const hold = latch();
  eng.gate = async (n) => {
    if (n === 2) await hold.promise;
  };
  const rig = await startRig({ engine: eng, typingRefreshMs: 20 });
  const { fake } = rig;
  try {
    const m = fake.userMessage({ content: `<@${fake.applicationId}> what is alpha?`, mentionBot: true });
    const threadId = await fake.waitFor(() => fake.threadFor(m.id), 'thread');
    const typing = () => fake.requests.filter((r) => r.method === 'POST' && r.path === `/channels/${threadId}/typing`);
    // Step 2 is held: with no new render, the indicator is renewed before Discord's 10 s run out.
    await fake.waitFor(() => typing().length >= 3 || undefined, 'typing renewed while the step waits');
    assert.equal(typing()[0].status, 204);
    hold.open();
    const answer = await waitForBotText(fake, threadId, 'Alpha is first');
    await rig.chat.idle();
    const answeredAt = fake.requests.findIndex((r) => r.method === 'POST' && r.path === `/channels/${threadId}/messages` && r.body?.content?.includes('Alpha is first'));
    assert.ok(answeredAt >= 0 && answer.id);
    assert.equal(fake.requests.slice(answeredAt).filter((r) => r.path === `/channels/${threadId}/typing`).length, 0, 'no typing after the answer');
  } finally {
    hold.open();
    await rig.close();
  }
});
