// The keyless default: DuckDuckGo's HTML endpoint, read from a local fake of its real pages; its
// limits become a message naming the better backends; `auto` picks it only when nothing else is set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, searchProvider } from '../../src/config.ts';
import { createSearchProvider } from '../../src/tools/index.ts';
import { startFakeDuck } from '../fakes/duckduckgo.ts';

test('duckduckgo: results unwrapped from its redirect links, ads skipped, snippets as plain text', async () => {
  const duck = await startFakeDuck();
  try {
    const search = createSearchProvider({ provider: 'duckduckgo', duckduckgoUrl: duck.url });
    const results = await search.search('oldest tree', 10);
    assert.deepEqual(results, [
      { url: 'https://en.wikipedia.org/wiki/Bristlecone_pine', title: 'Bristlecone pine - Wikipedia', preview: 'The oldest tree: Great Basin bristlecone pines live for more than 4,800 years.' },
      { url: 'https://www.nps.gov/grba/learn/nature/bristlecones.htm', title: 'Bristlecone Pines - Great Basin National Park', preview: 'Some of the oldest trees on Earth & how they survive.' },
    ]);
    assert.equal(duck.queries[0].get('q'), 'oldest tree');
    assert.equal((await search.search('oldest tree', 1)).length, 1);
  } finally {
    await duck.close();
  }
});

test('duckduckgo: its limit (202 challenge page, 403) is a clear message naming the better backends; no results is an empty list', async () => {
  const duck = await startFakeDuck('anomaly');
  try {
    const search = createSearchProvider({ provider: 'duckduckgo', duckduckgoUrl: duck.url, backoffMs: 1 });
    for (const [mode, status] of [['anomaly', 202], ['forbidden', 403]] as const) {
      duck.mode = mode;
      await assert.rejects(search.search('q', 5), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'rate_limited');
        assert.ok(err.message.startsWith(`DuckDuckGo is limiting searches from this machine (HTTP ${status})`), err.message);
        assert.match(err.message, /CIR_SEARXNG_URL .*SERPER_API_KEY or BRAVE_API_KEY/);
        return true;
      });
    }
    duck.mode = 'empty';
    assert.deepEqual(await search.search('nothing at all', 5), []);
  } finally {
    await duck.close();
  }
});

test('duckduckgo: a page built to be slow to parse is refused before any tree is built', async () => {
  const { createServer } = await import('node:http');
  const srv = createServer((_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(`<div id="links">${'<b>'.repeat(100_000)}x</div>`));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}/html/`;
    await assert.rejects(createSearchProvider({ provider: 'duckduckgo', duckduckgoUrl: url }).search('q', 5), /unexpected shape/);
  } finally {
    await new Promise<void>((r) => srv.close(() => r()));
  }
});

test('auto: a configured backend wins; with none, keyless DuckDuckGo', () => {
  assert.equal(searchProvider(parseConfig({})), 'duckduckgo');
  assert.equal(searchProvider(parseConfig({ CIR_SEARXNG_URL: 'http://127.0.0.1:8888' })), 'searxng');
  assert.equal(searchProvider(parseConfig({ SERPER_API_KEY: 'k-123456789' })), 'serper');
  assert.equal(searchProvider(parseConfig({ BRAVE_API_KEY: 'k-123456789' })), 'brave');
  assert.equal(searchProvider(parseConfig({ CIR_SEARCH_PROVIDER: 'searxng' })), 'searxng');
});
