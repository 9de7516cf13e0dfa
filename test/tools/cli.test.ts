// The `visit` and `search` commands run as real subprocesses against the local fakes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { ARTICLES, startFakeWeb, type FakeWeb } from '../fakes/web.ts';
import { startFakeSearch, type FakeSearch } from '../fakes/search.ts';

const root = resolve(import.meta.dirname, '..', '..');
let web: FakeWeb;
let search: FakeSearch;
before(async () => {
  web = await startFakeWeb();
  search = await startFakeSearch();
});
after(async () => {
  await web.close();
  await search.close();
});

function run(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['src/main.ts', ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60000 },
      (err, stdout, stderr) => done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

test('visit --json prints one line per URL: {url, title, text} or {url, error}', async () => {
  const ok = `${web.url}${ARTICLES[2].path}`;
  const bad = `${web.url}/missing`;
  const blocked = 'http://169.254.169.254/latest/meta-data/';
  const r = await run(['visit', '--json', ok, bad, blocked], { CIR_FETCH_ALLOW_HOSTS: web.allowHost });
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 3, r.stdout + r.stderr);
  assert.deepEqual(Object.keys(lines[0]).sort(), ['text', 'title', 'url']);
  assert.equal(lines[0].url, ok);
  assert.equal(lines[0].title, ARTICLES[2].title);
  assert.ok(lines[0].text.includes(ARTICLES[2].marker));
  assert.deepEqual(lines[1], { url: bad, error: 'HTTP 404 Not Found' });
  assert.equal(lines[2].url, blocked);
  assert.match(lines[2].error, /refused/);
  assert.equal(r.code, 1);
});

test('visit without --json prints the page text', async () => {
  const r = await run(['visit', `${web.url}${ARTICLES[0].path}`], { CIR_FETCH_ALLOW_HOSTS: web.allowHost });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^Title: ${ARTICLES[0].title}\nURL: `));
  assert.ok(r.stdout.includes(ARTICLES[0].marker));
});

test('search prints the trained text form; --json and --num', async () => {
  const env = { CIR_SEARCH_PROVIDER: 'searxng', CIR_SEARXNG_URL: search.searxngUrl };
  const text = await run(['search', '--num', '2', 'volcano islands'], env);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^Index: 0\nURL: https:\/\/example\.org\/page\/1\nTitle: Example result 1\nPreview: /);
  assert.doesNotMatch(text.stdout, /Index: 3/);
  const json = await run(['search', '--json', '--num', '3', 'volcano'], env);
  const line = JSON.parse(json.stdout);
  assert.equal(line.query, 'volcano');
  assert.equal(line.results.length, 3);
  assert.deepEqual(Object.keys(line.results[0]).sort(), ['preview', 'title', 'url']);
});

test('search --json reports a backend error as {query, error}', async () => {
  search.failNext(3, '500');
  const r = await run(['search', '--json', 'down'], { CIR_SEARCH_PROVIDER: 'searxng', CIR_SEARXNG_URL: search.searxngUrl });
  const line = JSON.parse(r.stdout);
  assert.equal(line.query, 'down');
  assert.match(line.error, /HTTP 500/);
  assert.equal(r.code, 1);
});

test('configuration errors are printed clearly with exit status 2', async () => {
  const r = await run(['search', 'x'], { CIR_SEARCH_PROVIDER: 'serper' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /SERPER_API_KEY/);
  const v = await run(['visit', 'http://example.com/'], { CIR_FETCH_TIMEOUT_MS: 'soon' });
  assert.equal(v.code, 2);
  assert.match(v.stderr, /CIR_FETCH_TIMEOUT_MS/);
});
