// Rendering for the agent experience: streamed task fields and the streamed answer carry page and
// model text that Slack renders with its markup, so links and mentions in it must not work; a
// repaired stream shows each of its steps once, within Slack's limits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StepView, ThreadView } from '../../src/chat/types.ts';
import { answerMarkdown, renderSteps, taskForStep } from '../../src/platforms/slack/blocks.ts';
import { SLACK_LIMITS } from '../../src/platforms/slack/limits.ts';

const step = (n: number, o: Partial<StepView> = {}): StepView => ({
  n,
  code: `r = web_visit("https://example.org/${n}")\nprint(r)`,
  observation: `page ${n}`,
  observationFull: null,
  error: null,
  tools: [{ name: 'web_visit', arg: `https://example.org/${n}` }],
  ...o,
});

/** A Slack link or mention that would still work: `<` right before a target, or `](` of Markdown. */
const LIVE_MARKUP = /<(https?:|mailto:|[!@#])|\]\(/;

test('task_update fields: <url|label> and [label](url) links and mentions from page text are defused', () => {
  const page = 'Read <https://evil.example/phish|the official report> or [download it](https://evil.example/x) <!channel> <@U123> @here';
  const t = taskForStep(
    step(1, {
      observation: page,
      code: `print("<https://evil.example|click>")`,
      tools: [{ name: 'web_search', arg: '<https://evil.example|trusted> [x](https://evil.example)' }],
    }),
  );
  for (const field of [t.title, t.details!, t.output!]) assert.doesNotMatch(field, LIVE_MARKUP, field);
  // Still readable: only invisible characters were added.
  assert.equal(t.output!.replace(/\u200b/g, ''), page);
  const failed = taskForStep(step(2, { error: 'Traceback: <https://evil.example|see here>', observation: null }));
  assert.doesNotMatch(failed.output!, LIVE_MARKUP);
});

test('streamed answer: citations link to sources, model links kept, mentions and Slack links defused', () => {
  const view = {
    sessionId: 's1',
    answer: {
      text: 'See [the docs](https://nodejs.org/docs) [1] and <https://nodejs.org/blog> [1, 2] [9]. <!channel> <https://evil.example|pay here> `code [1]`',
      sources: [
        { n: 1, url: 'https://nodejs.org/en/blog/release/v24.0.0', title: 'a', domain: 'nodejs.org', status: 'read' },
        { n: 2, url: 'https://v8.dev/blog (x)', title: 'b', domain: 'v8.dev', status: 'seen' },
      ],
    },
  } as unknown as ThreadView;
  const md = answerMarkdown(view);
  assert.ok(md.includes('[the docs](https://nodejs.org/docs)'), md);
  assert.ok(md.includes('[[1](https://nodejs.org/en/blog/release/v24.0.0)]'), md);
  assert.ok(md.includes('[[1](https://nodejs.org/en/blog/release/v24.0.0), [2](https://v8.dev/blog%20%28x%29)]'), md);
  assert.ok(md.includes('[9]'), 'an unknown source number stays text');
  assert.ok(md.includes('https://nodejs.org/blog'), 'an autolink becomes a bare URL');
  assert.ok(md.includes('`code [1]`'), 'code is left alone');
  assert.doesNotMatch(md.replace('`code [1]`', ''), /<(https?:|[!@#])/);
});

test('a repaired stream shows each of its steps once, within the limits of one message', () => {
  const steps = Array.from({ length: 40 }, (_, i) => step(i + 1, { code: 'x = 1\n'.repeat(200), observation: 'y'.repeat(2000) }));
  const msg = renderSteps(steps);
  const text = JSON.stringify(msg.blocks);
  assert.ok(msg.blocks.length <= SLACK_LIMITS.blocksPerMessage);
  assert.ok(text.length <= SLACK_LIMITS.messageBlockText, `${text.length} characters`);
  for (const s of steps) {
    const full = text.split(`*Step ${s.n}*`).length - 1;
    const line = (text.match(new RegExp(`(^|\\\\n|")${s.n}\\. `, 'g')) ?? []).length;
    assert.equal(full + line, 1, `step ${s.n} shown once (${full} full, ${line} summary)`);
  }
  assert.match(text, /\*Step 40\*/, 'the newest in full');
});
