// Our Slack fixtures (test/fixtures/slack/events.ts, in the shapes Slack documents) through the
// event parser, and through the adapter over signed HTTP into the real chat service. The recorded
// payloads of real workspaces run in the corpus suite (test-corpus/slack-recorded.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMessageEvent, type SlackEventBody } from '../../src/platforms/slack/events.ts';
import * as S from '../fixtures/slack/events.ts';
import { signRequest } from '../fakes/slack.ts';
import { ScriptedEngine, researchScript } from '../fakes/scripted-engine.ts';
import { SIGNING_SECRET, startHarness } from './harness.ts';

const body = (b: unknown) => b as SlackEventBody;
const traces = (h: { fake: { files: { completed: boolean }[] } }) => h.fake.files.filter((f) => f.completed).length;

test('parser: each fixture is classified as Slack means it', () => {
  const ctx = (research: boolean) => ({ botUserId: S.IDS.botUserId, allowBots: false, followup: 'any' as const, isResearchThread: () => research });
  const m = parseMessageEvent(body(S.mention), ctx(false));
  assert.equal(m.kind === 'research' && m.question, 'Which tree species grows tallest?');
  assert.deepEqual(m.kind === 'research' && m.ref, { platform: 'slack', workspaceId: S.IDS.teamId, channelId: S.IDS.channelId, threadId: S.MENTION_TS });
  assert.equal(m.kind === 'research' && m.dm, false);
  // The same message delivered twice (app_mention and message.channels) has one dedupe key.
  const again = parseMessageEvent(body(S.mentionAsMessage), ctx(false));
  assert.equal(again.kind === 'research' && again.dedupeKey, m.kind === 'research' && m.dedupeKey);

  assert.equal(parseMessageEvent(body(S.threadReply), ctx(false)).kind, 'ignore', 'a reply in a thread that is not ours');
  const reply = parseMessageEvent(body(S.threadReply), ctx(true));
  assert.equal(reply.kind === 'research' && reply.question, 'And which one lives longest?');
  assert.equal(reply.kind === 'research' && reply.ref.threadId, S.MENTION_TS);

  const dm = parseMessageEvent(body(S.dm), ctx(false));
  assert.equal(dm.kind === 'research' && dm.dm, true);
  assert.equal(dm.kind === 'research' && dm.question, 'How old is the oldest bristlecone pine?');

  const withFile = parseMessageEvent(body(S.mentionWithFile), ctx(false));
  assert.equal(withFile.kind === 'research' && withFile.question, 'What does this chart show?');

  assert.equal(parseMessageEvent(body(S.reaction), ctx(false)).kind, 'ignore');
  assert.equal(parseMessageEvent(body(S.appHomeOpened), ctx(false)).kind, 'ignore');
});

test('HTTP: url_verification is answered with its challenge', async () => {
  const h = await startHarness({ engine: new ScriptedEngine(researchScript(1)) });
  try {
    const raw = JSON.stringify(S.urlVerification);
    const res = await fetch(h.eventsUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...signRequest(SIGNING_SECRET, raw) }, body: raw });
    assert.equal(res.status, 200);
    assert.match(await res.text(), new RegExp(S.urlVerification.challenge));
  } finally {
    await h.close();
  }
});

test('HTTP: a mention delivered twice is researched once; the thread reply is a follow-up with history', async () => {
  const engine = new ScriptedEngine(researchScript(1));
  const h = await startHarness({ engine });
  try {
    assert.equal(await h.post(S.mention), 200);
    assert.equal(await h.post(S.mentionAsMessage), 200);
    await h.fake.waitFor(() => traces(h) === 1, 15000, 'answer');
    await h.chat.idle();
    assert.equal(await h.post(S.threadReply), 200);
    await h.fake.waitFor(() => traces(h) === 2, 15000, 'follow-up answer');
    await h.chat.idle();
    assert.deepEqual(engine.inputs.map((i) => i.question), ['Which tree species grows tallest?', 'And which one lives longest?']);
    assert.equal(engine.inputs[1].history?.length, 1);
    const thread = h.fake.thread(S.IDS.channelId, S.MENTION_TS);
    assert.equal(thread.filter((msg) => JSON.stringify(msg.blocks).includes('"feedback_buttons"')).length, 2, 'two answers in the thread');
  } finally {
    await h.close();
  }
});

test('HTTP: a DM is answered in its conversation with the assistant status line', async () => {
  const engine = new ScriptedEngine(researchScript(1));
  const h = await startHarness({ engine });
  try {
    // The status line is only set while the research runs: hold it until Slack has seen it (a
    // research that finished before its first render rightly shows none).
    engine.gate = (step, _input, at) => (step === 1 && at === 'code' ? h.fake.waitFor(() => h.fake.callsOf('assistant.threads.setStatus').length > 0, 15000, 'status line') : undefined);
    assert.equal(await h.post(S.dm), 200);
    await h.fake.waitFor(() => traces(h) === 1, 15000, 'answer');
    await h.chat.idle();
    const conversation = h.fake.thread(S.IDS.dmChannelId, S.dm.event.ts);
    assert.ok(conversation.some((msg) => JSON.stringify(msg.blocks).includes('"feedback_buttons"')), 'answer in the DM');
    const statuses = h.fake.callsOf('assistant.threads.setStatus').map((c) => c.args.status);
    assert.deepEqual([statuses[0], statuses.at(-1)], ['is researching…', '']);
    assert.deepEqual(engine.inputs.map((i) => i.question), ['How old is the oldest bristlecone pine?']);
  } finally {
    await h.close();
  }
});

test('HTTP: another app\'s button, a reaction, App Home and an undeclared slash command start nothing', async () => {
  const engine = new ScriptedEngine(researchScript(1));
  const h = await startHarness({ engine });
  try {
    assert.equal(await h.post(S.reaction), 200);
    assert.equal(await h.post(S.appHomeOpened), 200);
    // Interactions arrive form-encoded (payload=<json>).
    assert.equal(await h.post(S.foreignButton, { form: true }), 200);
    const form = new URLSearchParams(S.slashCommand).toString();
    const res = await fetch(h.eventsUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...signRequest(SIGNING_SECRET, form) },
      body: form,
    });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Mention me/);
    // A mention afterwards is still answered: the events above left nothing stuck.
    assert.equal(await h.post(S.mention), 200);
    await h.fake.waitFor(() => traces(h) === 1, 15000, 'answer');
    assert.deepEqual(engine.inputs.map((i) => i.question), ['Which tree species grows tallest?']);
    assert.equal(h.fake.callsOf('chat.postMessage').filter((c) => c.args.channel === S.IDS.dmChannelId).length, 0, 'nothing posted for App Home');
  } finally {
    await h.close();
  }
});

test('parser: other bots only with CIR_ALLOW_BOTS, never the bot itself; edits and deletions never', () => {
  const base = { botUserId: 'U00FAKEBOT01', botId: 'B00FAKEBOT01', followup: 'any' as const, isResearchThread: () => false };
  const ev = (event: Record<string, string>): SlackEventBody => ({ team_id: 'T1', event: { type: 'app_mention', channel: 'C1', ts: '1.2', text: '<@U00FAKEBOT01> hi', ...event } });
  const otherBot = ev({ user: 'U0BOT2', bot_id: 'B0BOT2' });
  assert.equal(parseMessageEvent(otherBot, { ...base, allowBots: false }).kind, 'ignore');
  assert.equal(parseMessageEvent(otherBot, { ...base, allowBots: true }).kind, 'research');
  const legacy = ev({ type: 'message', subtype: 'bot_message', bot_id: 'B0HOOK' });
  const legacyIntent = parseMessageEvent(legacy, { ...base, allowBots: true });
  assert.equal(legacyIntent.kind === 'research' && legacyIntent.userId, 'B0HOOK');
  assert.equal(parseMessageEvent(ev({ user: 'U00FAKEBOT01', bot_id: 'B00FAKEBOT01' }), { ...base, allowBots: true }).kind, 'ignore');
  for (const subtype of ['message_changed', 'message_deleted', 'channel_join'])
    assert.equal(parseMessageEvent(ev({ type: 'message', subtype, user: 'U1' }), { ...base, allowBots: true }).kind, 'ignore', subtype);
});
