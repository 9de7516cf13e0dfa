// The fake model's pacing (used by the sessions benchmark): a turn with durationMs is spread over at
// least that long, in several pieces, and the server reports how long each call took. Lower bounds
// only: a busy machine can make the stream later, never earlier.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startFakeLlm } from '../fakes/llm.ts';

test('a paced turn streams in pieces over at least its duration and its time is reported', async (t) => {
  const llm = await startFakeLlm([{ text: 'one two three four five six seven eight', chunk: 8, durationMs: 300 }]);
  t.after(() => llm.close());
  const t0 = performance.now();
  const res = await fetch(`${llm.baseUrl}/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', prompt: 'p', stream: true }),
  });
  const arrivals: number[] = [];
  let body = '';
  for await (const chunk of res.body!) {
    arrivals.push(performance.now() - t0);
    body += Buffer.from(chunk).toString('utf8');
  }
  const elapsed = performance.now() - t0;
  const text = body
    .split('\n')
    .filter((l) => l.startsWith('data: {'))
    .map((l) => (JSON.parse(l.slice(6)) as { choices: { text?: string }[] }).choices[0]?.text ?? '')
    .join('');
  assert.equal(text, 'one two three four five six seven eight');
  assert.ok(elapsed >= 290, `took ${elapsed.toFixed(0)} ms`);
  assert.ok(arrivals.length > 1, 'more than one network read');
  assert.ok((llm.turnMs.get(0) ?? 0) >= 299, `server says ${llm.turnMs.get(0)} ms`);
});
