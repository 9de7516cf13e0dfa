import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSearchProvider, formatSearchResults, ToolError } from '../../src/tools/index.ts';
import { startFakeSearch, type FakeSearch } from '../fakes/search.ts';

let fake: FakeSearch;
before(async () => {
  fake = await startFakeSearch();
});
after(() => fake.close());

const fast = { backoffMs: 10, timeoutMs: 2000 };

function providers() {
  return {
    serper: createSearchProvider({ provider: 'serper', serperApiKey: fake.serperKey, serperUrl: fake.serperUrl, ...fast }),
    searxng: createSearchProvider({ provider: 'searxng', searxngUrl: fake.searxngUrl, ...fast }),
    brave: createSearchProvider({ provider: 'brave', braveApiKey: fake.braveKey, braveUrl: fake.braveUrl, ...fast }),
  };
}

test('every provider returns plain results in the real shapes, honouring num_result', async () => {
  for (const [name, p] of Object.entries(providers())) {
    fake.requests.length = 0;
    const results = await p.search('volcano islands', 3);
    assert.equal(p.name, name);
    assert.equal(results.length, 3, name);
    assert.deepEqual(results[0], {
      url: 'https://example.org/page/1',
      title: 'Example result 1',
      preview: 'Snippet number 1 about the query & its answer.',
    });
    const seen = fake.requests[0];
    assert.equal(seen.backend, name);
    assert.equal(seen.query, 'volcano islands');
  }
});

test('request details: serper key and num, brave token and count, searxng json format', async () => {
  const p = providers();
  fake.requests.length = 0;
  await p.serper.search('q1', 15);
  await p.brave.search('q2', 7);
  await p.searxng.search('q3', 5);
  const [s, b, x] = fake.requests;
  assert.equal(s.method, 'POST');
  assert.equal(s.headers['x-api-key'], fake.serperKey);
  assert.ok(s.count! >= 15);
  assert.equal(b.headers['x-subscription-token'], fake.braveKey);
  assert.ok(b.count! >= 7 && b.count! <= 20);
  assert.equal(x.method, 'GET');
});

test('searxng without a count parameter is sliced to num_result', async () => {
  const results = await providers().searxng.search('many', 4);
  assert.equal(results.length, 4);
});

test('deny-list drops huggingface.co and its subdomains by default, configurable', async () => {
  const saved = fake.results;
  fake.results = [
    { url: 'https://huggingface.co/datasets/x', title: 'HF', snippet: 'dataset' },
    { url: 'https://discuss.huggingface.co/t/1', title: 'HF forum', snippet: 'forum' },
    { url: 'https://nothuggingface.co/a', title: 'Not HF', snippet: 'ok' },
    { url: 'https://example.com/b', title: 'Example', snippet: 'ok' },
    { url: 'https://blocked.example.net/c', title: 'Blocked', snippet: 'no' },
  ];
  try {
    const def = await providers().searxng.search('x', 10);
    assert.deepEqual(def.map((r) => r.title), ['Not HF', 'Example', 'Blocked']);
    const custom = createSearchProvider({ provider: 'searxng', searxngUrl: fake.searxngUrl, denyDomains: ['example.net'] });
    const r = await custom.search('x', 10);
    assert.deepEqual(r.map((x) => x.title), ['HF', 'HF forum', 'Not HF', 'Example']);
  } finally {
    fake.results = saved;
  }
});

test('429 with a short Retry-After is retried; 500s are retried a bounded number of times', async () => {
  const p = providers().brave;
  fake.failNext(1, '429', 0);
  assert.equal((await p.search('retry', 2)).length, 2);
  fake.failNext(2, '500');
  assert.equal((await p.search('retry', 2)).length, 2);
  fake.requests.length = 0;
  fake.failNext(3, '500');
  await assert.rejects(p.search('down', 2), (e: ToolError) => e instanceof ToolError && /HTTP 500/.test(e.message));
  assert.equal(fake.requests.length, 3); // 1 + 2 retries
});

test('429 with a long Retry-After fails at once with a message the model can act on', async () => {
  fake.requests.length = 0;
  fake.failNext(1, '429', 3600);
  await assert.rejects(providers().serper.search('limited', 3), (e: Error) => /rate-limiting/.test(e.message) && /429/.test(e.message));
  assert.equal(fake.requests.length, 1);
});

test('a hanging backend times out with a short message', async () => {
  fake.failNext(1, 'hang');
  const p = createSearchProvider({ provider: 'searxng', searxngUrl: fake.searxngUrl, timeoutMs: 300, maxRetries: 0 });
  await assert.rejects(p.search('slow', 3), (e: Error) => e instanceof ToolError && /did not answer/.test(e.message));
});

test('bad credentials are reported, not retried', async () => {
  fake.requests.length = 0;
  const p = createSearchProvider({ provider: 'serper', serperApiKey: 'wrong', serperUrl: fake.serperUrl, ...fast });
  await assert.rejects(p.search('x', 3), /refused the credentials \(HTTP 403\)/);
  assert.equal(fake.requests.length, 1);
});

test('empty results say so; results use the trained text form', async () => {
  const saved = fake.results;
  fake.results = [];
  try {
    const r = await providers().serper.search('nothing here', 5);
    assert.equal(r.length, 0);
    assert.match(formatSearchResults(r, 'nothing here'), /^No results found for 'nothing here'/);
  } finally {
    fake.results = saved;
  }
  const text = formatSearchResults([{ url: 'https://a.example/', title: 'A', preview: 'pa' }, { url: 'https://b.example/', title: 'B', preview: 'pb' }], 'q');
  assert.equal(text, 'Index: 0\nURL: https://a.example/\nTitle: A\nPreview: pa\n\nIndex: 1\nURL: https://b.example/\nTitle: B\nPreview: pb\n');
});

test('an empty query is refused without a request', async () => {
  await assert.rejects(providers().brave.search('   ', 3), /empty/);
});
