// Replays of real (anonymised) Slack payloads from the corpus (platform-payloads/*-slack.json)
// through the adapter over signed HTTP, and through the event parser.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseMessageEvent, type SlackEventBody } from '../src/platforms/slack/events.ts';
import { signRequest } from '../test/fakes/slack.ts';
import { ScriptedEngine, researchScript } from '../test/fakes/scripted-engine.ts';
import { SIGNING_SECRET, startHarness } from '../test/slack/harness.ts';
import { CORPUS_PAYLOADS } from './corpus.ts';

type Fixture = Record<string, Record<string, unknown> & { event?: Record<string, string> }>;

function fixture(name: string): Fixture {
  return JSON.parse(readFileSync(join(CORPUS_PAYLOADS, `${name}-slack.json`), 'utf8')) as Fixture;
}

const traces = (h: { fake: { files: { completed: boolean }[] } }) => h.fake.files.filter((f) => f.completed).length;

test('parser: every fixture message is classified as Slack meant it', () => {
  const ctx = (research: boolean) => ({
    botUserId: 'U00FAKEBOT01',
    allowBots: false,
    followup: 'any' as const,
    isResearchThread: () => research,
  });
  const m = fixture('mention');
  const first = parseMessageEvent(m.mention as unknown as SlackEventBody, ctx(false));
  assert.equal(first.kind, 'research');
  assert.equal(first.kind === 'research' && first.question, 'Hey');
  assert.equal(first.kind === 'research' && first.ref.threadId, '1767224888.280449');
  assert.equal(parseMessageEvent(m.followUp as unknown as SlackEventBody, ctx(false)).kind, 'ignore', 'reply in a thread that is not ours');
  const follow = parseMessageEvent(m.followUp as unknown as SlackEventBody, ctx(true));
  assert.equal(follow.kind === 'research' && follow.ref.threadId, '1767224888.280449');

  const cm = parseMessageEvent(fixture('channel-mention').mention as unknown as SlackEventBody, ctx(false));
  assert.equal(cm.kind === 'research' && cm.question, 'Can you see the name of this channel: #C00FAKECHAN2?');

  const dm = parseMessageEvent(fixture('dm').dmMessage as unknown as SlackEventBody, ctx(false));
  assert.equal(dm.kind === 'research' && dm.dm, true);
  assert.equal(dm.kind === 'research' && dm.question, 'Hey!');

  const withFile = parseMessageEvent(fixture('streaming').aiMentionWithFile as unknown as SlackEventBody, ctx(false));
  assert.equal(withFile.kind === 'research' && withFile.question, "[AI] I don't really understand this explanation.");
  assert.equal(withFile.kind === 'research' && withFile.ref.workspaceId, 'T00FAKE00BB');

  const reaction = parseMessageEvent(fixture('actions-reactions').reaction as unknown as SlackEventBody, ctx(false));
  assert.equal(reaction.kind, 'ignore');
});

test('replay mention-slack: mention, then the follow-up in its thread', async () => {
  const f = fixture('mention');
  const engine = new ScriptedEngine(researchScript(1));
  const h = await startHarness({ engine });
  try {
    assert.equal(await h.post(f.mention), 200);
    await h.fake.waitFor(() => traces(h) === 1, 15000, 'answer');
    await h.chat.idle();
    assert.equal(await h.post(f.followUp), 200);
    await h.fake.waitFor(() => traces(h) === 2, 15000, 'follow-up answer');
    assert.deepEqual(engine.inputs.map((i) => i.question), ['Hey', 'Hi']);
    assert.equal(h.fake.thread('C00FAKECHAN1', '1767224888.280449').length >= 4, true);
  } finally {
    await h.close();
  }
});

test('replay channel-mention-slack and streaming-slack (message events with rich_text blocks)', async () => {
  const engine = new ScriptedEngine(researchScript(1));
  const h = await startHarness({ engine });
  try {
    assert.equal(await h.post(fixture('channel-mention').mention), 200);
    const s = fixture('streaming');
    assert.equal(await h.post(s.aiMention), 200);
    await h.fake.waitFor(() => traces(h) === 2, 15000, 'two answers');
    await h.chat.idle();
    assert.equal(await h.post(s.followUp), 200);
    assert.equal(await h.post(s.aiMentionWithFile), 200);
    await h.fake.waitFor(() => traces(h) === 4, 15000, 'four answers');
    assert.deepEqual(engine.inputs.map((i) => i.question).sort(), [
      'AI What is love?',
      'Can you see the name of this channel: #C00FAKECHAN2?',
      'Who are you?',
      "[AI] I don't really understand this explanation.",
    ]);
  } finally {
    await h.close();
  }
});

test('replay dm-slack: a DM is answered in its conversation with the assistant status line', async () => {
  const f = fixture('dm');
  const engine = new ScriptedEngine(researchScript(1));
  const h = await startHarness({ engine });
  try {
    // The status line is only set while the research runs: hold it until Slack has seen it (a
    // research that finished before its first render rightly shows none).
    engine.gate = (step, _input, at) => (step === 1 && at === 'code' ? h.fake.waitFor(() => h.fake.callsOf('assistant.threads.setStatus').length > 0, 15000, 'status line') : undefined);
    assert.equal(await h.post(f.dmMessage), 200);
    await h.fake.waitFor(() => traces(h) === 1, 15000, 'answer');
    await h.chat.idle();
    const dmThread = h.fake.thread('D0A5319PS02', '1767377001.319859');
    assert.ok(dmThread.some((m) => JSON.stringify(m.blocks).includes('"feedback_buttons"')), 'answer in the DM');
    const statuses = h.fake.callsOf('assistant.threads.setStatus').map((c) => c.args.status);
    assert.deepEqual([statuses[0], statuses.at(-1)], ['is researching…', '']);
    assert.equal(await h.post(f.mention), 200);
    await h.fake.waitFor(() => traces(h) === 2, 15000, 'channel answer');
    await h.chat.idle();
    assert.equal(await h.post(f.dmRequest), 200);
    await h.fake.waitFor(() => traces(h) === 3, 15000, 'follow-up answer');
    assert.deepEqual(engine.inputs.map((i) => i.question), ['Hey!', 'Hey', 'DM me']);
  } finally {
    await h.close();
  }
});

test('replay actions-reactions-slack and slash-commands-slack: foreign buttons, reactions and commands start nothing', async () => {
  const f = fixture('actions-reactions');
  const engine = new ScriptedEngine(researchScript(1));
  const h = await startHarness({ engine });
  try {
    assert.equal(await h.post(f.mention), 200);
    await h.fake.waitFor(() => traces(h) === 1, 15000, 'answer');
    await h.chat.idle();
    assert.equal(await h.post(f.reaction), 200);
    // Interactions arrive form-encoded; another app's buttons are not ours but must not error.
    assert.equal(await h.post(f.action, { form: true }), 200);
    assert.equal(await h.post(f.staticSelectAction, { form: true }), 200);
    const slash = fixture('slash-commands').slashCommandWithArgs as Record<string, string>;
    const res = await fetch(h.eventsUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...signed(new URLSearchParams(slash).toString()) },
      body: new URLSearchParams(slash).toString(),
    });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Mention me/);
    assert.deepEqual(engine.inputs.map((i) => i.question), ['Test']);
  } finally {
    await h.close();
  }
});

function signed(body: string): Record<string, string> {
  return signRequest(SIGNING_SECRET, body);
}
