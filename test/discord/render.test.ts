// Pure parts of the Discord adapter: layout of steps and answers, message classification, buttons.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StepView, ThreadView } from '../../src/chat/types.ts';
import { classifyMessage, type MessageFacts } from '../../src/platforms/discord/classify.ts';
import { feedbackRow, parseCustomId, stopRow } from '../../src/platforms/discord/components.ts';
import { DISCORD_LIMITS } from '../../src/platforms/discord/limits.ts';
import { answerMessages, defuseFences, planLive, stepBlock, suppressPreviews, threadName } from '../../src/platforms/discord/render.ts';

const step = (n: number, size = 300): StepView => ({
  n,
  code: `x = ${n}\n` + '# filler\n'.repeat(Math.ceil(size / 9)),
  observation: `out ${n}`,
  observationFull: `out ${n}`,
  error: null,
  tools: [],
});

function view(o: Partial<ThreadView> = {}): ThreadView {
  return {
    sessionId: 'sid-1',
    ref: { platform: 'discord', workspaceId: 'g', channelId: 'c', threadId: 't' },
    userId: '42',
    question: 'q',
    status: { state: 'researching', step: 1, maxSteps: 8 },
    maxSteps: 8,
    steps: [],
    answer: null,
    startedAt: 0,
    finishedAt: null,
    ...o,
  };
}

test('step blocks: code in a py block, fences in code defused, long code trimmed under the block cap', () => {
  const b = stepBlock({ ...step(1), code: 'print("```")\n' + 'y = 1\n'.repeat(500) });
  assert.match(b, /^\*\*Step 1\*\*\n```py\n/);
  assert.equal((b.match(/```/g) ?? []).length, 4, 'only our own fences remain');
  assert.ok(b.length <= 1700);
  assert.match(b, /trimmed/);
  assert.equal(defuseFences('a```b'), 'a`\u200b`\u200b`b');
});

test('planLive: steps that no longer fit are frozen into earlier messages; every message <= 2000', () => {
  const steps = Array.from({ length: 12 }, (_, i) => step(i + 1, 500));
  const running = view({ steps, status: { state: 'researching', step: 12, maxSteps: 32 } });
  const plan = planLive(running, 0);
  assert.ok(plan.freeze.length >= 2);
  assert.equal(plan.freeze.reduce((a, f) => a + f.steps, 0), 11, 'all but the current step frozen');
  assert.match(plan.live, /\*\*Step 12\*\*/);
  for (const m of [...plan.freeze.map((f) => f.content), plan.live]) assert.ok(m.length <= DISCORD_LIMITS.messageChars, `${m.length}`);
  // After freezing, the next plan starts from the frozen count and fits.
  assert.equal(planLive(running, 11).freeze.length, 0);
  // A final view keeps the longest tail that fits.
  const done = planLive(view({ steps, status: { state: 'done' }, finishedAt: 5000 }), 0);
  assert.ok(done.live.includes('**Step 12**') && done.live.includes('**Step 11**'));
  assert.ok(done.live.length <= 2000);
});

test('answerMessages: split under 2000 at paragraphs, sources numbered with <url>, read vs seen', () => {
  const para = (i: number) => `Paragraph ${i} ` + 'word '.repeat(80).trim() + '.';
  const text = Array.from({ length: 12 }, (_, i) => para(i)).join('\n\n') + ' See https://example.com/x.';
  const sources = Array.from({ length: 3 }, (_, i) => ({
    n: i + 1,
    url: `https://s${i}.example/p?q=1`,
    title: `Title ${i} *bold*`,
    domain: `s${i}.example`,
    status: (i === 1 ? 'seen' : 'read') as 'read' | 'seen',
  }));
  const parts = answerMessages(view({ status: { state: 'done' }, answer: { text, sources } }));
  assert.ok(parts.length >= 3);
  for (const p of parts) assert.ok(p.length <= 2000);
  assert.ok(parts[0].startsWith('<@42> Paragraph 0'));
  for (const p of parts.slice(0, -1)) assert.match(p, /\.$/, 'cut at a paragraph end');
  const all = parts.join('\n');
  assert.match(all, /<https:\/\/example\.com\/x>/);
  assert.match(all, /`\[1\]` \[Title 0 \\\*bold\\\*\]\(<https:\/\/s0\.example\/p\?q=1>\) · s0\.example · \*read\*/);
  assert.match(all, /`\[2\]` .*only seen in search results/);
});

test('suppressPreviews leaves <url> and wraps markdown link targets', () => {
  assert.equal(suppressPreviews('a <https://x.y/z> b'), 'a <https://x.y/z> b');
  assert.equal(suppressPreviews('[t](https://x.y/z)'), '[t](<https://x.y/z>)');
  assert.equal(suppressPreviews('see https://x.y/z.'), 'see <https://x.y/z>.');
});

test('threadName stays within 100 characters and uses the first line', () => {
  assert.equal(threadName('\n  Why?\nmore'), 'Why?');
  assert.equal(threadName('x'.repeat(300)).length, 100);
});

test('buttons: custom ids round-trip and stay within 100 characters', () => {
  const id = '2e9d76c0-fd32-42a6-8938-70b9a5635713';
  const stop = stopRow(id).components[0].custom_id;
  assert.deepEqual(parseCustomId(stop), { kind: 'stop', sessionId: id });
  const [up, down] = feedbackRow(id).components.map((b) => b.custom_id);
  assert.deepEqual(parseCustomId(up), { kind: 'feedback', value: 'up', sessionId: id });
  assert.deepEqual(parseCustomId(down), { kind: 'feedback', value: 'down', sessionId: id });
  assert.equal(parseCustomId('hello'), null);
  assert.ok(stop.length <= 100);
});

const base: MessageFacts = {
  id: 'm1',
  type: 0,
  authorId: 'u1',
  authorIsBot: false,
  content: '<@99> what is x?',
  mentionsBot: true,
  guildId: 'g',
  channelId: 'c',
  channelKind: 'channel',
  parentId: null,
};
const opts = { botId: '99', allowBots: false, followupWithoutMention: true, isResearchThread: () => true };

test('classifyMessage: who and what the bot answers', () => {
  assert.deepEqual(classifyMessage(base, opts), { kind: 'open', question: 'what is x?', where: { workspaceId: 'g', channelId: 'c', threadId: '' } });
  assert.equal(classifyMessage({ ...base, authorId: '99' }, opts).kind, 'ignore');
  assert.equal(classifyMessage({ ...base, authorIsBot: true }, opts).kind, 'ignore');
  assert.equal(classifyMessage({ ...base, authorIsBot: true }, { ...opts, allowBots: true }).kind, 'open');
  assert.equal(classifyMessage({ ...base, type: 18 }, opts).kind, 'ignore');
  // Role mention / @everyone: the bot is not in the user mentions.
  assert.equal(classifyMessage({ ...base, mentionsBot: false, content: '<@&5> hi' }, opts).kind, 'ignore');
  assert.equal(classifyMessage({ ...base, content: '<@!99>' }, opts).kind, 'help');
  const thread = { ...base, channelKind: 'thread' as const, channelId: 't', parentId: 'c' };
  assert.deepEqual(classifyMessage({ ...thread, mentionsBot: false, content: 'and y?' }, opts), {
    kind: 'ask',
    question: 'and y?',
    where: { workspaceId: 'g', channelId: 'c', threadId: 't' },
  });
  assert.equal(classifyMessage({ ...thread, mentionsBot: false, content: 'and y?' }, { ...opts, followupWithoutMention: false }).kind, 'ignore');
  assert.equal(classifyMessage({ ...thread, mentionsBot: false, content: 'and y?' }, { ...opts, isResearchThread: () => false }).kind, 'ignore');
  assert.equal(classifyMessage({ ...thread, mentionsBot: false, content: 'Stop' }, opts).kind, 'stop');
  assert.equal(classifyMessage({ ...thread, mentionsBot: false, content: '' }, opts).kind, 'ignore', 'blank content (no intent) is not a question');
  const dm = { ...base, channelKind: 'dm' as const, guildId: null, mentionsBot: false, content: 'hello?' };
  assert.deepEqual(classifyMessage(dm, opts), { kind: 'ask', question: 'hello?', where: { workspaceId: '', channelId: 'c', threadId: '' } });
});
