// Conversations over the adapter: follow-ups, stopping, rate limits and the errors a person can act on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { answerMessages, feedbackValues } from './answers.ts';
import { ScriptedEngine, researchScript, UNTIL_STOPPED } from '../fakes/scripted-engine.ts';
import { eventBody, mention, newTs, startHarness } from './harness.ts';

const CHAN = 'C00FAKECHAN1';
const USER = 'U00FAKEUSER1';

function reply(text: string, threadTs: string, o: { user?: string; subtype?: string; bot_id?: string } = {}) {
  const ts = newTs();
  return eventBody({
    type: 'message',
    user: o.user ?? USER,
    text,
    ts,
    thread_ts: threadTs,
    channel: CHAN,
    event_ts: ts,
    channel_type: 'channel',
    ...(o.subtype ? { subtype: o.subtype } : {}),
    ...(o.bot_id ? { bot_id: o.bot_id } : {}),
  });
}

const traces = (h: { fake: { files: { completed: boolean }[] } }) => h.fake.files.filter((f) => f.completed).length;

test('follow-ups: a reply in a research thread continues it with the history; edits, bots and other threads are ignored', async () => {
  const engine = new ScriptedEngine(researchScript(1));
  const h = await startHarness({ engine });
  try {
    const ts = newTs();
    await h.post(mention('first question', { ts }));
    await h.fake.waitFor(() => traces(h) === 1, 15000, 'first answer');
    await h.chat.idle();

    // Ignored: an edit, another bot, the bot itself, a reply in a thread that is not ours.
    await h.post(reply('edited', ts, { subtype: 'message_changed' }));
    await h.post(reply('from a bot', ts, { user: 'U0OTHERBOT', bot_id: 'B0OTHER' }));
    await h.post(reply('my own status', ts, { user: 'U00FAKEBOT01' }));
    await h.post(reply('unrelated chatter', newTs()));

    await h.post(reply('and a follow-up?', ts));
    await h.fake.waitFor(() => traces(h) === 2, 15000, 'follow-up answer');
    await h.chat.idle();
    assert.deepEqual(
      engine.inputs.map((i) => i.question),
      ['first question', 'and a follow-up?'],
    );
    assert.equal(engine.inputs[1].history?.length, 1);
    assert.equal(engine.inputs[1].history?.[0].question, 'first question');
    // Both answers live in the same thread.
    assert.equal(h.fake.files.every((f) => f.thread_ts === ts), true);
  } finally {
    await h.close();
  }
});

test('CIR_FOLLOWUP=mention: plain replies are ignored, a mention in the thread is a follow-up', async () => {
  const engine = new ScriptedEngine(researchScript(1));
  const h = await startHarness({ engine, env: { CIR_FOLLOWUP: 'mention' } });
  try {
    const ts = newTs();
    await h.post(mention('first', { ts }));
    await h.fake.waitFor(() => traces(h) === 1, 15000, 'first answer');
    await h.chat.idle();
    await h.post(reply('not for you', ts));
    await h.post(mention('second', { thread_ts: ts }));
    await h.fake.waitFor(() => traces(h) === 2, 15000, 'second answer');
    assert.deepEqual(engine.inputs.map((i) => i.question), ['first', 'second']);
  } finally {
    await h.close();
  }
});

test('only the asker may stop (Slack vouches for no moderator): a bystander is refused, the asker stops it', async () => {
  const h = await startHarness({ engine: new ScriptedEngine(UNTIL_STOPPED) });
  try {
    const ts = newTs();
    await h.post(mention('a long one', { ts }));
    await h.fake.waitFor(() => JSON.stringify(h.fake.thread(CHAN, ts)[0]?.blocks ?? '').includes('Researching'), 15000, 'running status');
    const status = h.fake.thread(CHAN, ts)[0];
    const stop = (status.blocks as { type: string; elements?: { action_id: string; value: string }[] }[])
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === 'cir_stop');
    assert.ok(stop, 'Stop button present');
    const press = (userId: string) => ({
      type: 'block_actions',
      user: { id: userId, team_id: 'T00FAKE00AA' },
      team: { id: 'T00FAKE00AA' },
      container: { type: 'message', message_ts: status.ts, channel_id: CHAN, thread_ts: ts },
      channel: { id: CHAN },
      message: { ts: status.ts, thread_ts: ts },
      actions: [{ type: 'button', action_id: 'cir_stop', value: stop.value, block_id: 'cir_controls' }],
    });
    const ref = { platform: 'slack' as const, workspaceId: 'T00FAKE00AA', channelId: CHAN, threadId: ts };
    // A bystander: refused politely in the thread, by button and by typing "stop"; it keeps running.
    assert.equal(await h.post(press('U00FAKEUSER2'), { form: true }), 200);
    const refusals = () => h.fake.thread(CHAN, ts).filter((m) => /only the person who asked can stop/i.test(m.text ?? '')).length;
    await h.fake.waitFor(() => refusals() === 1, 15000, 'refusal of the button');
    await h.post(reply('stop', ts, { user: 'U00FAKEUSER2' }));
    await h.fake.waitFor(() => refusals() === 2, 15000, 'refusal of the text');
    assert.ok(h.chat.activeSession(ref) !== null, 'still running after the refusals');
    assert.doesNotMatch(JSON.stringify(h.fake.thread(CHAN, ts)[0].blocks), /Stopped/);
    // The asker may.
    assert.equal(await h.post(press('U00FAKEUSER1'), { form: true }), 200);
    await h.fake.waitFor(() => JSON.stringify(h.fake.thread(CHAN, ts)[0].blocks).includes('Stopped by <@U00FAKEUSER1>'), 15000, 'stopped status');
    await h.chat.idle();
    assert.doesNotMatch(JSON.stringify(h.fake.thread(CHAN, ts)[0].blocks), /cir_stop/);
  } finally {
    await h.close();
  }
});

test('"stop" typed in the thread stops it', async () => {
  const h = await startHarness({ engine: new ScriptedEngine(UNTIL_STOPPED) });
  try {
    const ts = newTs();
    await h.post(mention('a long one', { ts }));
    await h.fake.waitFor(() => h.chat.activeSession({ platform: 'slack', workspaceId: 'T00FAKE00AA', channelId: CHAN, threadId: ts }) !== null && h.fake.thread(CHAN, ts).length > 0, 15000, 'running');
    await h.post(reply('stop', ts));
    await h.fake.waitFor(() => JSON.stringify(h.fake.thread(CHAN, ts)[0].blocks).includes('Stopped by'), 15000, 'stopped status');
  } finally {
    await h.close();
  }
});

test('feedback buttons are stored with the session', async () => {
  const h = await startHarness({ engine: new ScriptedEngine(researchScript(1)) });
  try {
    const ts = newTs();
    await h.post(mention('rate me', { ts }));
    await h.fake.waitFor(() => traces(h) === 1, 15000, 'answer');
    await h.chat.idle();
    const [answer] = answerMessages(h.fake.thread(CHAN, ts));
    const down = feedbackValues(answer)!.down;
    const sessionId = down.slice('down:'.length);
    // A press of the native feedback buttons: block_actions with the pressed button's value.
    const action = {
      type: 'block_actions',
      user: { id: USER, team_id: 'T00FAKE00AA' },
      team: { id: 'T00FAKE00AA' },
      container: { type: 'message', message_ts: answer.ts, channel_id: CHAN, thread_ts: ts },
      actions: [{ type: 'feedback_buttons', action_id: 'cir_feedback', value: down }],
    };
    assert.equal(await h.post(action, { form: true }), 200);
    await h.fake.waitFor(() => h.fake.callsOf('chat.postEphemeral').length === 1, 5000, 'receipt');
    assert.deepEqual(h.store.feedback(sessionId), [{ userId: USER, value: 'down' }]);
  } finally {
    await h.close();
  }
});

test('rate limited (429 + Retry-After) chat.update: the final state is still delivered', async () => {
  const h = await startHarness({ engine: new ScriptedEngine(researchScript(2)), streaming: false });
  try {
    const waits: number[] = [];
    h.adapter.onRateLimit!((ms) => waits.push(ms));
    h.fake.fail('chat.update', { status: 429, retryAfter: 1 }, { times: 2 });
    const ts = newTs();
    await h.post(mention('busy workspace', { ts }));
    await h.fake.waitFor(() => traces(h) === 1, 20000, 'answer');
    await h.chat.idle();
    assert.equal(h.fake.callsOf('chat.update').filter((c) => c.failed).length, 2);
    assert.match(JSON.stringify(h.fake.thread(CHAN, ts)[0].blocks), /Done: 2 steps/);
    assert.deepEqual(waits, [1000, 1000], 'each wait reported for the metrics');
  } finally {
    await h.close();
  }
});

test('not_in_channel: the person is told by DM how to invite the bot, and the research is stopped', async () => {
  const engine = new ScriptedEngine(UNTIL_STOPPED);
  const h = await startHarness({ engine });
  try {
    h.fake.fail('chat.postMessage', { error: 'not_in_channel' }, { times: 100, when: (a) => a.channel === CHAN });
    await h.post(mention('where am I'));
    await h.fake.waitFor(() => h.fake.messages.some((m) => m.channel === USER), 15000, 'DM to the user');
    const dm = h.fake.messages.find((m) => m.channel === USER)!;
    assert.match(dm.text, /\/invite <@U00FAKEBOT01>/);
    assert.match(dm.text, /<#C00FAKECHAN1>/);
    await h.chat.idle();
    assert.equal(h.chat.stats().running, 0, 'research stopped');
  } finally {
    await h.close();
  }
});

test('missing_scope names the scope the app needs', async () => {
  const h = await startHarness({ engine: new ScriptedEngine(researchScript(1)) });
  try {
    h.fake.fail('files.getUploadURLExternal', { error: 'missing_scope', needed: 'files:write', provided: 'app_mentions:read,chat:write' });
    const ts = newTs();
    await h.post(mention('trace please', { ts }));
    await h.fake.waitFor(() => h.fake.thread(CHAN, ts).some((m) => m.text.includes('files:write')), 15000, 'scope message');
    const msg = h.fake.thread(CHAN, ts).find((m) => m.text.includes('files:write'))!;
    assert.match(msg.text, /OAuth & Permissions/);
    // The answer itself was delivered.
    assert.equal(answerMessages(h.fake.thread(CHAN, ts)).length, 1);
  } finally {
    await h.close();
  }
});

test('a refusal from the chat layer (quota) is posted in the thread with its message', async () => {
  const engine = new ScriptedEngine(researchScript(1));
  const h = await startHarness({ engine, limits: { userQuota: 1 } });
  try {
    await h.post(mention('one'));
    await h.fake.waitFor(() => traces(h) === 1, 15000, 'first answer');
    const ts = newTs();
    await h.post(mention('two', { ts }));
    await h.fake.waitFor(() => h.fake.thread(CHAN, ts).length === 1, 15000, 'quota message');
    assert.match(h.fake.thread(CHAN, ts)[0].text, /frees at (?:[A-Z][a-z]{2} \d{1,2}, )?\d\d:\d\d UTC/);
    assert.equal(engine.inputs.length, 1);
  } finally {
    await h.close();
  }
});

test('a failing model server is reported in the thread', async () => {
  const engine = new ScriptedEngine({
    steps: [],
    answer: '',
    error: { message: 'The model server at http://127.0.0.1:8000/v1 is not reachable; try again later.', retryable: true },
  });
  const h = await startHarness({ engine });
  try {
    const ts = newTs();
    await h.post(mention('anyone there?', { ts }));
    await h.fake.waitFor(() => JSON.stringify(h.fake.thread(CHAN, ts)[0]?.blocks ?? '').includes('not reachable'), 15000, 'failure status');
  } finally {
    await h.close();
  }
});

test('an oversized answer arrives as several messages in order, each within Slack limits', async () => {
  const long = Array.from({ length: 90 }, (_, i) => `Paragraph ${i} ${'lorem ipsum '.repeat(40)}[1]`).join('\n\n');
  const h = await startHarness({ engine: new ScriptedEngine(researchScript(1, long)) });
  try {
    const ts = newTs();
    await h.post(mention('tell me everything', { ts }));
    await h.fake.waitFor(() => traces(h) === 1, 15000, 'answer');
    const parts = h.fake.thread(CHAN, ts).filter((m) => m.text.startsWith('Answer ('));
    assert.ok(parts.length >= 3, `${parts.length} parts`);
    const all = parts.map((m) => JSON.stringify(m.blocks)).join('');
    assert.ok(all.indexOf('Paragraph 0 ') < all.indexOf('Paragraph 89 '));
    for (const p of parts) {
      assert.ok(p.blocks.length <= 50);
      assert.ok(JSON.stringify(p.blocks).length <= 12000);
      for (const b of p.blocks as { text?: { text: string } }[]) assert.ok((b.text?.text.length ?? 0) <= 3000);
    }
    assert.ok(feedbackValues(parts.at(-1)!), 'feedback buttons under the last part');
  } finally {
    await h.close();
  }
});

test('where a person stands: "Queued: 2 ahead of you", the quota with the time the next frees, capacity', async () => {
  let open!: () => void;
  const hold = new Promise<void>((r) => (open = r));
  const engine = new ScriptedEngine(researchScript(1));
  engine.gate = () => hold;
  const h = await startHarness({ engine, limits: { maxConcurrent: 1, queueMax: 3, userQuota: 1 } });
  const statusOf = (ts: string) => JSON.stringify(h.fake.thread(CHAN, ts)[0]?.blocks ?? []) + (h.fake.thread(CHAN, ts)[0]?.text ?? '');
  try {
    const ts = [newTs(), newTs(), newTs(), newTs(), newTs(), newTs()];
    await h.post(mention('first', { ts: ts[0], user: 'U00FAKEUSER1' }));
    // The fake checks its waiters on Web API calls only; a gated first session makes none.
    while (h.chat.stats().running !== 1) await new Promise((r) => setTimeout(r, 5));
    for (let i = 1; i <= 3; i++) await h.post(mention(`waiting ${i}`, { ts: ts[i], user: `U00FAKEUSER${i + 1}` }));
    await h.fake.waitFor(() => statusOf(ts[3]).includes('Queued: 2 ahead of you'), 15000, '2 ahead');
    assert.match(statusOf(ts[1]), /Queued: you are next/);
    assert.match(statusOf(ts[2]), /Queued: 1 ahead of you/);
    // The queue is full: a fifth person is told the bot is at capacity.
    await h.post(mention('one too many', { ts: ts[4], user: 'U00FAKEUSER9' }));
    await h.fake.waitFor(() => statusOf(ts[4]).includes('at capacity'), 15000, 'capacity');
    assert.match(statusOf(ts[4]), /The bot is at capacity; please try again in a few minutes\./);
    // The first asker has used their one question.
    await h.post(mention('again', { ts: ts[5], user: 'U00FAKEUSER1' }));
    await h.fake.waitFor(() => statusOf(ts[5]).includes('frees at'), 15000, 'quota');
    assert.match(statusOf(ts[5]), /You have used your 1 question this hour; the next one frees at (?:[A-Z][a-z]{2} \d{1,2}, )?\d\d:\d\d UTC\./);
    open();
    await h.fake.waitFor(() => traces(h) === 4, 15000, 'the four accepted answered');
    await h.chat.idle();
  } finally {
    open();
    await h.close();
  }
});
