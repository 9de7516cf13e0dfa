// The Block Kit renderer and the Markdown -> mrkdwn conversion: pure functions, checked against
// Slack's limits (src/platforms/slack/limits.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StepView, ThreadView } from '../../src/chat/types.ts';
import {
  ACTION_FEEDBACK,
  ACTION_STOP,
  type Block,
  renderAnswer,
  renderStatus,
  taskForStep,
} from '../../src/platforms/slack/blocks.ts';
import { SLACK_LIMITS } from '../../src/platforms/slack/limits.ts';
import { markdownToMrkdwn, splitMrkdwn } from '../../src/platforms/slack/mrkdwn.ts';

function view(over: Partial<ThreadView> = {}): ThreadView {
  return {
    sessionId: 'sess-1',
    ref: { platform: 'slack', workspaceId: 'T1', channelId: 'C1', threadId: '1.1' },
    userId: 'U1',
    question: 'q?',
    status: { state: 'researching', step: 1, maxSteps: 32 },
    maxSteps: 32,
    steps: [],
    answer: null,
    startedAt: 1_000,
    finishedAt: null,
    ...over,
  };
}

function step(n: number, over: Partial<StepView> = {}): StepView {
  return {
    n,
    code: `r = web_search("query ${n}")\nprint(r)`,
    observation: `result ${n}`,
    observationFull: `result ${n}`,
    error: null,
    tools: [{ name: 'web_search', arg: `query ${n}` }],
    ...over,
  };
}

/** Every section within 3000 chars, at most 50 blocks, the message's block text within ~12k. */
function assertWithinLimits(blocks: Block[]): void {
  assert.ok(blocks.length <= SLACK_LIMITS.blocksPerMessage, `${blocks.length} blocks`);
  let total = 0;
  for (const b of blocks) {
    const text = (b.text as { text?: string } | undefined)?.text;
    if (text !== undefined) assert.ok(text.length <= SLACK_LIMITS.sectionText, `section of ${text.length} chars`);
    total += JSON.stringify(b).length;
  }
  assert.ok(total <= SLACK_LIMITS.messageBlockText, `message of ${total} chars`);
}

test('markdown becomes mrkdwn: bold, links, headings, bullets, code kept verbatim', () => {
  const out = markdownToMrkdwn(
    '# Title\n\n**Bold** and *em* and ~~gone~~, see [the docs](https://example.com/a_b) & <more>.\n- one\n- two\n\n```python\nx = 2 ** 3  # **not bold**\n```\nUse `a < b`.',
  );
  assert.match(out, /^\*Title\*$/m);
  assert.match(out, /\*Bold\* and _em_ and ~gone~/);
  assert.match(out, /<https:\/\/example\.com\/a_b\|the docs>/);
  assert.match(out, /&amp; &lt;more&gt;/);
  assert.match(out, /^• one$/m);
  assert.match(out, /```\nx = 2 \*\* 3  # \*\*not bold\*\*\n```/);
  assert.match(out, /`a &lt; b`/);
});

test('splitting keeps code blocks closed and respects the size', () => {
  const code = '```\n' + Array.from({ length: 200 }, (_, i) => `line ${i} of code`).join('\n') + '\n```';
  const pieces = splitMrkdwn(`intro\n\n${code}\n\noutro`, 1000);
  assert.ok(pieces.length > 3);
  for (const p of pieces) {
    assert.ok(p.length <= 1000, `piece of ${p.length}`);
    assert.equal((p.match(/```/g) ?? []).length % 2, 0, `unbalanced fences in: ${p.slice(0, 60)}`);
  }
  assert.match(pieces.join('\n'), /line 199 of code/);
});

test('status while running: status line, latest steps, Stop button carrying the session id', () => {
  const msg = renderStatus(view({ steps: [step(1), step(2, { observation: null })], status: { state: 'researching', step: 2, maxSteps: 32 } }), {
    streamingSteps: false,
    now: 5_000,
  });
  assert.match(JSON.stringify(msg.blocks[0]), /step 2 of at most 32/);
  assert.match(JSON.stringify(msg.blocks), /Step 1/);
  assert.match(JSON.stringify(msg.blocks), /running…/);
  const actions = msg.blocks.at(-1) as { type: string; elements: { action_id: string; value: string }[] };
  assert.equal(actions.type, 'actions');
  assert.equal(actions.elements[0].action_id, ACTION_STOP);
  assert.equal(actions.elements[0].value, 'sess-1');
  assertWithinLimits(msg.blocks);
});

test('status with many huge steps stays within limits and says what it left out', () => {
  const big = 'x'.repeat(20_000);
  const steps = Array.from({ length: 60 }, (_, i) => step(i + 1, { code: big, observation: big }));
  const msg = renderStatus(view({ steps, status: { state: 'researching', step: 60, maxSteps: 64 } }), { streamingSteps: false });
  assertWithinLimits(msg.blocks);
  assert.match(JSON.stringify(msg.blocks), /earlier steps not shown/);
  assert.match(JSON.stringify(msg.blocks), /Step 60/);
  const done = renderStatus(view({ steps, status: { state: 'done' }, finishedAt: 61_000 }), { streamingSteps: false });
  assertWithinLimits(done.blocks);
  assert.doesNotMatch(JSON.stringify(done.blocks), /cir_stop/, 'no Stop button once finished');
});

test('streamed steps: the status message carries no step detail; tasks are task_update chunks', () => {
  const msg = renderStatus(view({ steps: [step(1)] }), { streamingSteps: true });
  assert.doesNotMatch(JSON.stringify(msg.blocks), /Step 1/);
  const t = taskForStep(step(3, { observation: null }));
  assert.deepEqual([t.type, t.id, t.status], ['task_update', 'step-3', 'in_progress']);
  assert.equal(taskForStep(step(3)).status, 'complete');
  assert.equal(taskForStep(step(3, { error: 'boom', observation: null })).status, 'error');
  assert.ok(taskForStep(step(4, { code: 'y'.repeat(9000) })).details!.length <= SLACK_LIMITS.taskDetails);
});

test('answer: cited links, numbered sources with domain, read vs only seen, feedback buttons', () => {
  const v = view({
    status: { state: 'done' },
    finishedAt: 9_000,
    answer: {
      text: 'Node 24 ships **V8 13.6** [1], see also [2].',
      sources: [
        { n: 1, url: 'https://nodejs.org/en/blog/release/v24.0.0', title: 'Node v24.0.0', domain: 'nodejs.org', status: 'read' },
        { n: 2, url: 'https://v8.dev/blog', title: 'V8 | blog', domain: 'v8.dev', status: 'seen' },
      ],
    },
  });
  const [msg, ...rest] = renderAnswer(v);
  assert.equal(rest.length, 0);
  const text = JSON.stringify(msg.blocks);
  assert.match(text, /\*V8 13\.6\* <https:\/\/nodejs\.org\/en\/blog\/release\/v24\.0\.0\|\[1\]>/);
  assert.match(text, /1\. <https:\/\/nodejs\.org\/en\/blog\/release\/v24\.0\.0\|Node v24\.0\.0> · nodejs\.org/);
  assert.match(text, /2\. <https:\/\/v8\.dev\/blog\|V8 ¦ blog> · v8\.dev · _only seen in search results, not opened_/);
  assert.match(text, /1 read, 1 only seen/);
  // Slack's native feedback buttons, in a context_actions block, values naming the session.
  const tail = msg.blocks.at(-1) as { type: string; elements: Record<string, any>[] };
  assert.equal(tail.type, 'context_actions');
  assert.equal(tail.elements[0].type, 'feedback_buttons');
  assert.equal(tail.elements[0].action_id, ACTION_FEEDBACK);
  assert.equal(tail.elements[0].positive_button.value, `up:${v.sessionId}`);
  assert.equal(tail.elements[0].negative_button.value, `down:${v.sessionId}`);
});

test('an oversized answer is split over several messages, each within limits, nothing lost', () => {
  const paragraphs = Array.from({ length: 120 }, (_, i) => `Paragraph ${i}: ${'word '.repeat(80)}[1]`);
  const sources = Array.from({ length: 40 }, (_, i) => ({
    n: i + 1,
    url: `https://example.com/${i}/${'p'.repeat(100)}`,
    title: `Source ${i + 1} ${'t'.repeat(100)}`,
    domain: 'example.com',
    status: 'read' as const,
  }));
  const msgs = renderAnswer(view({ status: { state: 'done' }, finishedAt: 2_000, answer: { text: paragraphs.join('\n\n'), sources } }));
  assert.ok(msgs.length >= 4, `${msgs.length} messages`);
  for (const m of msgs) {
    assertWithinLimits(m.blocks);
    assert.ok(m.text.length <= SLACK_LIMITS.plainText);
  }
  const all = msgs.map((m) => JSON.stringify(m.blocks)).join('');
  assert.match(all, /Paragraph 0:/);
  assert.match(all, /Paragraph 119:/);
  assert.match(all, /40\. <https:\/\/example\.com\/39/);
  // Feedback buttons only once, at the very end.
  assert.equal(all.split('"feedback_buttons"').length - 1, 1);
  assert.match(JSON.stringify(msgs.at(-1)!.blocks), /"feedback_buttons"/);
});

test('fuzz: split pieces fit, code fences balance, no content is lost', () => {
  let seed = 11;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)];
  for (let round = 0; round < 400; round++) {
    const parts = Array.from({ length: 1 + Math.floor(rnd() * 30) }, () =>
      pick([
        'word '.repeat(Math.floor(rnd() * 300)),
        '```\n' + 'code line\n'.repeat(Math.floor(rnd() * 200)) + '```',
        '```\nunclosed block\n',
        `<https://example.com/${'x'.repeat(Math.floor(rnd() * 80))}|link>`,
        'x'.repeat(Math.floor(rnd() * 3000)),
        '\n\n',
        '*bold* &amp; ',
      ]),
    );
    const text = parts.join(pick(['', ' ', '\n', '\n\n']));
    const max = pick([200, 1000, 2950]);
    const pieces = splitMrkdwn(text, max);
    for (const p of pieces) {
      assert.ok(p.length <= max, `round ${round}: piece of ${p.length} > ${max}`);
      assert.equal((p.match(/```/g) ?? []).length % 2, 0, `round ${round}: unbalanced fences`);
    }
    const norm = (s: string) => s.replace(/```/g, '').replace(/\s+/g, '');
    assert.equal(norm(pieces.join('')), norm(text), `round ${round}: content lost`);
  }
});

test('model text cannot ping a channel or smuggle links: everything outside our own links is escaped', () => {
  const msgs = renderAnswer(
    view({
      status: { state: 'done' },
      finishedAt: 2_000,
      answer: { text: 'Hey <!channel> and <@U123>, see [x](https://a.example/p|<!here>) & <https://b.example|spoof>', sources: [] },
    }),
  );
  const all = JSON.stringify(msgs);
  assert.doesNotMatch(all, /<!channel>|<!here>|<@U123>/);
  assert.match(all, /&lt;!channel&gt;/);
  assert.match(all, /<https:\/\/a\.example\/p%7C%3C!here%3E\|x>/);
});

test('nothing the model or a web page writes can ping: source titles, steps, streamed tasks, failures', () => {
  const ping = '<!channel> <!here|here> <@U123> <#C123> <!subteam^S1>';
  const evilStep = step(1, {
    code: `print("${ping}")`,
    observation: `${ping} @channel`,
    tools: [{ name: 'web_search', arg: ping }],
  });
  const answer = renderAnswer(
    view({
      status: { state: 'done' },
      finishedAt: 2_000,
      answer: {
        text: 'See [1].',
        sources: [{ n: 1, url: 'https://a.example/p', title: `${ping} [x](https://evil.example) *bold*`, domain: 'a.example', status: 'read' }],
      },
    }),
  );
  const status = renderStatus(view({ steps: [evilStep] }), { streamingSteps: false });
  const failed = renderStatus(view({ status: { state: 'failed', message: ping }, finishedAt: 2_000 }), { streamingSteps: false });
  const mrkdwn = JSON.stringify([answer, status, failed]);
  // Slack mrkdwn: a mention or a link needs a raw "<"; every one the model wrote is an entity.
  assert.doesNotMatch(mrkdwn, /<[!@#]/);
  assert.doesNotMatch(mrkdwn, /<https:\/\/evil/);
  assert.match(mrkdwn, /&lt;!channel&gt;/);
  // The only link in the sources is our own.
  assert.deepEqual(JSON.stringify(answer).match(/<https?:[^>]*>/g), ['<https://a.example/p|[1]>', '<https://a.example/p|&lt;!channel&gt; &lt;!here¦here&gt; &lt;@U123&gt; &lt;#C123&gt; &lt;!subteam^S1&gt; [x](https://evil.example) *bold*>']);
  // Streamed task fields are not entity-escaped (they may be shown as plain text): defused instead.
  const task = JSON.stringify(taskForStep(evilStep));
  assert.doesNotMatch(task, /<[!@#]|@channel/);
  assert.match(task, /<\u200b!channel>/);
});
