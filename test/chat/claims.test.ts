// Claims in every surface: the view renumbers them with the sources, unsupported claims are flagged
// in the answer text, and Slack, Discord, the terminal and the trace show the supporting quotes
// within their limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAnswerView } from '../../src/chat/citations.ts';
import { UNSUPPORTED_MARK } from '../../src/chat/claims.ts';
import { renderTrace } from '../../src/chat/trace.ts';
import type { ThreadView } from '../../src/chat/types.ts';
import type { Citation, Claim, ResearchEvent } from '../../src/engine/events.ts';
import { answerMessages } from '../../src/platforms/discord/render.ts';
import { DISCORD_LIMITS } from '../../src/platforms/discord/limits.ts';
import { type Block, renderAnswer } from '../../src/platforms/slack/blocks.ts';
import { SLACK_LIMITS } from '../../src/platforms/slack/limits.ts';
import { humanRenderer } from '../../src/platforms/terminal/render.ts';

const citations: Citation[] = [
  { n: 1, url: 'https://invented.example/x', title: 'Made up', verified: false, status: 'unseen' },
  { n: 2, url: 'https://bridge.example/', title: 'Kestrel Bay Bridge', verified: true, status: 'read' },
  { n: 3, url: 'https://city.example/', title: 'Lindqvist', verified: true, status: 'read' },
];
const text = 'The bridge opened in 1998 [2]. Its tower is 97 metres tall [2]. Lindqvist has 412,300 people [3][1].';
const claims: Claim[] = [
  { text: 'The bridge opened in 1998', citations: [2], supported: true, quotes: [{ n: 2, text: 'It opened to traffic on 14 March 1998, after six years of construction.' }] },
  { text: 'Its tower is 97 metres tall', citations: [2], supported: false, quotes: [] },
  { text: 'Lindqvist has 412,300 people', citations: [3, 1], supported: true, quotes: [{ n: 3, text: 'Lindqvist is the third largest city, with a population of 412,300 <!channel> at the 2021 census.' }] },
];

function doneView(claimsOf: Claim[] = claims, body = text): ThreadView {
  return {
    sessionId: 's1',
    ref: { platform: 'slack', workspaceId: 'T1', channelId: 'C1', threadId: '1.1' },
    userId: 'U1',
    question: 'q?',
    status: { state: 'done' },
    maxSteps: 32,
    steps: [],
    answer: buildAnswerView(body, citations, claimsOf),
    startedAt: 1_000,
    finishedAt: 2_000,
  };
}

test('view: claims follow the sources renumbering; the invented source drops out; unsupported claims are flagged in the text', () => {
  const a = doneView().answer!;
  assert.deepEqual(a.sources.map((s) => [s.n, s.url]), [[1, 'https://bridge.example/'], [2, 'https://city.example/']]);
  assert.equal(a.text, `The bridge opened in 1998 [1]. Its tower is 97 metres tall [1]${UNSUPPORTED_MARK}. Lindqvist has 412,300 people [2].`);
  assert.deepEqual(a.claims!.map((c) => [c.citations, c.supported, c.quotes.map((q) => q.n)]), [[[1], true, [1]], [[1], false, []], [[2], true, [2]]]);
});

const slackText = (blocks: Block[]) => JSON.stringify(blocks);

test('slack: each source with its quotes in context blocks, page text escaped, the unsupported claim marked, within limits', () => {
  const msgs = renderAnswer(doneView());
  const blocks = msgs.flatMap((m) => m.blocks);
  const contexts = blocks.filter((b) => b.type === 'context') as unknown as { elements: { text: string }[] }[];
  const quoteTexts = contexts.flatMap((c) => c.elements.map((e) => e.text));
  assert.ok(quoteTexts.some((t) => t.startsWith('*[1]* “It opened to traffic on 14 March 1998')));
  const cityQuote = quoteTexts.find((t) => t.startsWith('*[2]*'))!;
  assert.ok(cityQuote && !cityQuote.includes('<!channel>'), cityQuote);
  assert.ok(quoteTexts.some((t) => t.includes('1 of 3 cited claims were not found')));
  assert.ok(slackText(blocks).includes('not found in the cited source'));
  for (const m of msgs) {
    assert.ok(m.blocks.length <= SLACK_LIMITS.blocksPerMessage);
    for (const c of m.blocks.filter((b) => b.type === 'context') as unknown as { elements: { text: string }[] }[]) {
      assert.ok(c.elements.length <= 10);
      for (const e of c.elements) assert.ok(e.text.length <= SLACK_LIMITS.contextText);
    }
  }
});

test('slack and discord: many long quotes stay within the budget and the rest are left to the trace with a note', () => {
  const long = (i: number) => `Sentence ${i} ${'with many words about the bridge and its pylons '.repeat(5)}`.slice(0, 300);
  const many: Claim[] = Array.from({ length: 30 }, (_, i) => ({ text: `claim ${i}`, citations: [2], supported: true, quotes: [{ n: 2, text: long(i) }, { n: 3, text: long(i + 100) }] }));
  const body = many.map((c) => `${c.text} [2][3].`).join(' ');
  const slack = renderAnswer(doneView(many, body)).flatMap((m) => m.blocks);
  assert.ok(slackText(slack).includes('more supporting quotes are in the research trace'));
  for (const m of renderAnswer(doneView(many, body))) assert.ok(m.blocks.length <= SLACK_LIMITS.blocksPerMessage);
  const discord = answerMessages(doneView(many, body));
  assert.ok(discord.every((m) => m.length <= DISCORD_LIMITS.messageChars));
  assert.ok(discord.join('\n').includes('more supporting quotes are in the research trace'));
});

test('discord: quotes as block quotes under their source, markup and mentions defused; the flag in the answer text', () => {
  const msgs = answerMessages(doneView());
  const all = msgs.join('\n');
  assert.ok(msgs.every((m) => m.length <= DISCORD_LIMITS.messageChars));
  const lines = all.split('\n');
  const src1 = lines.findIndex((l) => l.startsWith('`[1]`'));
  assert.ok(src1 >= 0);
  assert.ok(lines[src1 + 1].startsWith('> “It opened to traffic on 14 March 1998'), lines[src1 + 1]);
  const cityQuote = lines.find((l) => l.startsWith('> “Lindqvist'))!;
  assert.ok(!cityQuote.includes('<!channel>') && cityQuote.includes('\\<!channel\\>'), cityQuote);
  assert.ok(all.includes(`[1]${UNSUPPORTED_MARK}`));
});

test('terminal and trace: quotes under each source, every claim with its verdict and the pages’ URLs', () => {
  const event: ResearchEvent = { type: 'answer', text, citations, claims, steps: 2, usage: { promptTokens: 1, completionTokens: 1 }, durationMs: 5 };
  let out = '';
  humanRenderer({ write: (s: string) => (out += s) }, { color: false })(event);
  assert.ok(out.includes(`Its tower is 97 metres tall [2]${UNSUPPORTED_MARK}.`));
  const lines = out.split('\n');
  const at = lines.findIndex((l) => l.includes('[2] Kestrel Bay Bridge'));
  assert.match(lines[at + 1], /^\s+“It opened to traffic on 14 March 1998/);
  assert.match(out, /1 of 3 cited claims were not found in their cited sources/);

  const rec = { id: 's1', ref: { platform: 'slack' as const, workspaceId: 'T', channelId: 'C', threadId: '1' }, userId: 'U', question: 'q', status: 'done', createdAt: 0 };
  const trace = renderTrace(rec as never, [{ event, at: 1 }] as never);
  assert.match(trace, /### Claims and their evidence/);
  assert.match(trace, /- supported: The bridge opened in 1998 \[1\]\n  > \[1\] "It opened to traffic on 14 March 1998, after six years of construction\." — https:\/\/bridge\.example\//);
  assert.match(trace, /- NOT SUPPORTED by its cited sources: Its tower is 97 metres tall \[1\]/);
});
