import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAnswerView } from '../../src/chat/citations.ts';
import { initialThreadView, reduceThreadView, type ViewEvent } from '../../src/chat/view.ts';
import { statusLine } from '../../src/chat/messages.ts';
import type { ThreadView } from '../../src/chat/types.ts';
import { request } from './helpers.ts';

const cite = (n: number, url: string, status: 'read' | 'seen' | 'unseen', title = `T${n}`) => ({
  n,
  url,
  title,
  verified: status === 'read',
  status,
});

test('reducer walks queued -> researching -> writing -> done', () => {
  let v: ThreadView = initialThreadView('s1', request('U1', 't1'), 32, 1000, 2);
  assert.deepEqual(v.status, { state: 'queued', ahead: 2 });
  const events: ViewEvent[] = [
    { type: 'queued', ahead: 0 },
    { type: 'started', sessionId: 's1', question: 'q', maxSteps: 12, at: 0 },
    { type: 'code', step: 1, code: 'print(1)' },
    { type: 'tool', step: 1, name: 'web_search', arg: 'cats' },
    { type: 'observation', step: 1, output: 'x'.repeat(2000), error: null, stateLost: false, durationMs: 5 },
    { type: 'code', step: 2, code: 'print(2)' },
  ];
  const seen: string[] = [];
  for (const e of events) {
    v = reduceThreadView(v, e, 2000, { observationChars: 100 });
    seen.push(statusLine(v.status));
  }
  assert.deepEqual(seen, [
    'Queued: you are next',
    'Researching: step 1 of at most 12',
    'Researching: step 1 of at most 12',
    'Researching: step 1 of at most 12',
    'Researching: step 1 of at most 12',
    'Researching: step 2 of at most 12',
  ]);
  assert.equal(v.steps.length, 2);
  assert.deepEqual(v.steps[0].tools, [{ name: 'web_search', arg: 'cats' }]);
  assert.ok(v.steps[0].observation!.length <= 100);
  assert.match(v.steps[0].observation!, /more characters/);
  assert.equal(v.steps[0].observationFull!.length, 2000);
  v = reduceThreadView(v, { type: 'writing' }, 3000);
  assert.equal(statusLine(v.status), 'Writing the answer');
  v = reduceThreadView(
    v,
    { type: 'answer', text: 'A [1].', citations: [cite(1, 'https://a.example/', 'read')], steps: 2, usage: { promptTokens: 1, completionTokens: 1 }, durationMs: 1 },
    4000,
  );
  assert.equal(v.status.state, 'done');
  assert.equal(v.finishedAt, 4000);
  assert.equal(v.answer!.sources[0].domain, 'a.example');
  // Final views do not change any more.
  assert.equal(reduceThreadView(v, { type: 'error', message: 'late', retryable: false }, 5000), v);
});

test('reducer: failed, cancelled by someone, interrupted', () => {
  const base = initialThreadView('s', request('U1', 't'), 32, 0);
  const failed = reduceThreadView(base, { type: 'error', message: 'model server unreachable', retryable: true }, 1);
  assert.equal(statusLine(failed.status), 'Failed: model server unreachable');
  const cancelled = reduceThreadView(base, { type: 'cancelled', by: 'U9' }, 1);
  assert.equal(statusLine(cancelled.status, (id) => `<@${id}>`), 'Stopped by <@U9>');
  assert.equal(reduceThreadView(base, { type: 'interrupted' }, 1).status.state, 'interrupted');
});

test('citations: invented URLs are dropped and the rest renumbered in order of first use', () => {
  const a = buildAnswerView('Fact one [1]. Fact two [2]. Fact three [3], again [1, 3]. Code `x[2]` stays.', [
    cite(1, 'https://invented.example/a', 'unseen'),
    cite(2, 'https://www.seen.example/b', 'seen', 'Seen page'),
    cite(3, 'https://read.example/c', 'read', '  Read\n page '),
  ]);
  assert.equal(a.text, 'Fact one. Fact two [1]. Fact three [2], again [2]. Code `x[2]` stays.');
  assert.deepEqual(a.sources, [
    { n: 1, url: 'https://www.seen.example/b', title: 'Seen page', domain: 'seen.example', status: 'seen' },
    { n: 2, url: 'https://read.example/c', title: 'Read page', domain: 'read.example', status: 'read' },
  ]);
});

test('citations: unsafe schemes never become sources; duplicates share a number; uncited sources listed last', () => {
  const a = buildAnswerView('X [2] Y [3] Z [1]', [
    cite(1, 'javascript:alert(1)', 'read'),
    cite(2, 'https://dup.example/p', 'read', ''),
    cite(3, 'https://dup.example/p', 'seen'),
    cite(4, 'https://extra.example/', 'seen'),
  ]);
  assert.equal(a.text, 'X [1] Y [1] Z');
  assert.deepEqual(
    a.sources.map((s) => [s.n, s.url, s.title]),
    [
      [1, 'https://dup.example/p', 'dup.example'],
      [2, 'https://extra.example/', 'T4'],
    ],
  );
});
