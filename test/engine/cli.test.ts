// End to end: `cir-bot ask --json` as a subprocess, with the real sandbox and the real web tools,
// against the fake model server, the fake SearXNG and the fake web.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FakeLlm, startFakeLlm } from '../fakes/llm.ts';
import { type FakeSearch, fakeResults, startFakeSearch } from '../fakes/search.ts';
import { ARTICLES, type FakeWeb, startFakeWeb } from '../fakes/web.ts';
import { codeTurn } from './helpers.ts';
import { startFakeDuck } from '../fakes/duckduckgo.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
let web: FakeWeb;
let search: FakeSearch;
let dataDir: string;

before(async () => {
  web = await startFakeWeb();
  search = await startFakeSearch();
  search.results = fakeResults(web.url, [ARTICLES[0].path, ARTICLES[1].path]);
  // A stable data dir: the sandbox's memory snapshot is made once and reused by later runs.
  dataDir = join(tmpdir(), `cir-bot-test-ask-${process.getuid?.() ?? 0}`);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
});
after(async () => {
  await Promise.all([web.close(), search.close()]);
});

function runAsk(
  args: string[],
  llmUrl: string,
  onLine?: (line: string, kill: (sig: NodeJS.Signals | 'close-stdout') => void) => void,
  /** Variables to set instead (undefined: leave the variable out). */
  over: Record<string, string | undefined> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const base: Record<string, string | undefined> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    CIR_LLM_BASE_URL: llmUrl,
    CIR_SEARCH_PROVIDER: 'searxng',
    CIR_SEARXNG_URL: search.searxngUrl,
    CIR_FETCH_ALLOW_HOSTS: web.allowHost,
    CIR_DATA_DIR: dataDir,
    CIR_SANDBOX_POOL_SIZE: '0',
    CIR_LOG_LEVEL: 'warn',
    ...over,
  };
  const env = Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined)) as Record<string, string>;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['src/main.ts', 'ask', ...args], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      const before = stdout.length;
      stdout += d;
      const kill = (sig: NodeJS.Signals | 'close-stdout') => (sig === 'close-stdout' ? child.stdout.destroy() : child.kill(sig));
      if (onLine) for (const l of stdout.slice(before).split('\n').filter(Boolean)) onLine(l, kill);
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('ask --json: search -> visit -> cited answer, one JSON event per line', async () => {
  const article = `${web.url}${ARTICLES[0].path}`;
  const llm: FakeLlm = await startFakeLlm([
    codeTurn('results = web_search("how volcanoes shape islands", num_result=3)\nprint(results)', 'Search first.\n'),
    codeTurn(`text = web_visit(${JSON.stringify(article)})\nprint(text[:3000])`),
    codeTurn('print(len(text) > 100)'),
    `The page confirms it.\n</think>\n\nLava cools into new coastline [How Volcanoes Shape Islands](${article}). ` +
      `Bread is unrelated (${web.url}${ARTICLES[1].path}), and [this](https://invented.example.com/page) was never seen.`,
  ]);
  try {
    const r = await runAsk(['--json', 'How', 'do volcanoes shape islands?'], llm.baseUrl);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    const events = lines.map((l) => JSON.parse(l) as { type: string; [k: string]: unknown });
    assert.ok(events.every((e) => typeof e.type === 'string'));
    assert.equal(events[0].type, 'started');
    assert.equal(events[0].question, 'How do volcanoes shape islands?');
    const codes = events.filter((e) => e.type === 'code');
    assert.deepEqual(codes.map((e) => e.step), [1, 2, 3]);
    const obs = events.filter((e) => e.type === 'observation') as unknown as { step: number; output: string; error: string | null }[];
    assert.match(obs[0].output, new RegExp(`URL: ${web.url}${ARTICLES[0].path}`));
    assert.ok(obs[1].output.includes(ARTICLES[0].marker), 'the real visitor extracted the article');
    assert.equal(obs[2].output, 'True', 'variables persist between steps');
    const answer = events.at(-1) as unknown as { type: string; text: string; citations: { n: number; url: string; title: string; verified: boolean; status: string }[] };
    assert.equal(answer.type, 'answer');
    assert.equal(answer.text, 'Lava cools into new coastline [1]. Bread is unrelated [2], and [3] was never seen.');
    assert.deepEqual(
      answer.citations.map((c) => [c.n, c.url, c.verified, c.status]),
      [
        [1, article, true, 'read'],
        [2, `${web.url}${ARTICLES[1].path}`, false, 'seen'],
        [3, 'https://invented.example.com/page', false, 'unseen'],
      ],
    );
    assert.equal(answer.citations[0].title, ARTICLES[0].title);
    // The model read the page through the observation, and each prompt extended the last.
    const prompts = llm.prompts();
    assert.ok(prompts[2].includes(ARTICLES[0].marker));
    for (let i = 1; i < prompts.length; i++) assert.ok(prompts[i].startsWith(prompts[i - 1]));
  } finally {
    await llm.close();
  }
});

test('ask: empty question exits 2; unreachable model server exits 1 with a JSON error naming the URL', async () => {
  const empty = await runAsk(['--json', '  '], 'http://127.0.0.1:9/v1');
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /question is empty/);
  assert.equal(empty.stdout, '');

  // A port that was just free: nothing listens there.
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  const down = await runAsk(['--json', 'anything?'], `http://127.0.0.1:${port}/v1`);
  assert.equal(down.code, 1);
  const last = JSON.parse(down.stdout.trim().split('\n').at(-1)!) as { type: string; message: string };
  assert.equal(last.type, 'error');
  // Said before any research, by the same check `doctor` runs, with the command to start one.
  assert.match(last.message, new RegExp(`^model server: model server at http://127\\.0\\.0\\.1:${port}/v1 unreachable[\\s\\S]*Fix: start the model server \\(e\\.g\\. .vllm serve`));
  assert.ok(!down.stdout.includes('"type":"started"'), 'no research started');
});

test('ask --json: Ctrl-C cancels the research, prints a `cancelled` event and exits 130', async () => {
  const llm = await startFakeLlm([{ text: 'Let me think about this for a very long time...', hang: true }]);
  try {
    let sent = false;
    const r = await runAsk(['--json', 'a slow question'], llm.baseUrl, (line, kill) => {
      if (!sent && line.includes('"type":"thinking"')) {
        sent = true;
        kill('SIGINT');
      }
    });
    assert.equal(r.code, 130, r.stderr);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    assert.equal(events.at(-1)?.type, 'cancelled');
    assert.equal(events.filter((e) => e.type === 'answer').length, 0);
  } finally {
    await llm.close();
  }
});

test('ask --json | head -1: a reader that goes away stops the research quietly (no EPIPE crash)', async () => {
  const llm = await startFakeLlm([{ text: 'Thinking on and on about it. '.repeat(200), chunk: 4, delayMs: 5, hang: true }]);
  try {
    let closed = false;
    const r = await runAsk(['--json', 'a long question'], llm.baseUrl, (_line, kill) => {
      if (!closed) {
        closed = true;
        kill('close-stdout');
      }
    });
    assert.equal(r.code, 141, r.stderr);
    assert.ok(!/EPIPE|Unhandled|at .*\.ts:\d+/.test(r.stderr), r.stderr);
    for (let i = 0; i < 50 && llm.disconnects === 0; i++) await new Promise((res) => setTimeout(res, 10));
    assert.equal(llm.disconnects, 1, 'the model stream was abandoned');
  } finally {
    await llm.close();
  }
});

test('ask (human output) into a pipe: readable steps, answer and sources, no ANSI codes', async () => {
  const article = `${web.url}${ARTICLES[0].path}`;
  const llm = await startFakeLlm([
    codeTurn(`print(web_visit(${JSON.stringify(article)})[:500])`, 'Let me read it.\n'),
    `Read it.\n</think>\n\nIslands grow from lava [page](${article}).`,
  ]);
  try {
    const r = await runAsk(['How do volcanoes shape islands?'], llm.baseUrl);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes('\x1b'), 'no escape codes when stdout is not a terminal');
    assert.match(r.stdout, /Researching: How do volcanoes shape islands\?/);
    assert.match(r.stdout, /── step 1\/\d+/);
    assert.match(r.stdout, /→ web_visit\(/);
    // The page never says so in these words: the claim is flagged where it stands.
    assert.match(r.stdout, /Answer\nIslands grow from lava \[1\] \(⚠ not found in the cited source\)\./);
    assert.ok(r.stdout.includes(`[1] ${ARTICLES[0].title} — ${article} (read)`), r.stdout);
  } finally {
    await llm.close();
  }
});

test('ask --json: the answer event carries claims with verbatim quotes from the pages read; unsupported ones flagged', async () => {
  const article = `${web.url}${ARTICLES[0].path}`;
  const bread = `${web.url}${ARTICLES[1].path}`;
  const llm: FakeLlm = await startFakeLlm([
    codeTurn('results = web_search("volcano islands", num_result=3)\nprint(results)'),
    codeTurn(`text = web_visit(${JSON.stringify(article)})\nprint(text[:2000])`),
    `Done.\n</think>\n\nBasaltic lava from the Kilauea caldera cooled into new coastline [1](${article}). ` +
      `The Kilauea caldera lava cooled 40 times faster than expected [2](${article}). ` +
      `Wild yeast and lactobacilli ferment the dough over eighteen hours [3](${bread}).`,
  ]);
  try {
    const r = await runAsk(['--json', 'How do volcanoes shape islands?'], llm.baseUrl);
    assert.equal(r.code, 0, r.stderr);
    const answer = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
      type: string;
      claims: { text: string; citations: number[]; supported: boolean; quotes: { n: number; text: string }[] }[];
    };
    assert.equal(answer.type, 'answer');
    assert.deepEqual(
      answer.claims.map((c) => [c.text, c.citations, c.supported, c.quotes.length]),
      [
        ['Basaltic lava from the Kilauea caldera cooled into new coastline', [1], true, 1],
        // 40 is on no page.
        ['The Kilauea caldera lava cooled 40 times faster than expected', [1], false, 0],
        // Only seen in search results, whose snippet says nothing of yeast.
        ['Wild yeast and lactobacilli ferment the dough over eighteen hours', [2], false, 0],
      ],
    );
    assert.equal(answer.claims[0].quotes[0].n, 1);
    assert.ok(answer.claims[0].quotes[0].text.includes(ARTICLES[0].marker), answer.claims[0].quotes[0].text);
    assert.ok(answer.claims[0].quotes[0].text.length <= 300);
  } finally {
    await llm.close();
  }
});

test('ask with only a model server configured: researches with keyless DuckDuckGo (a local fake of it)', async () => {
  const duck = await startFakeDuck();
  const llm = await startFakeLlm([
    codeTurn('print(web_search("oldest tree on earth"))'),
    'Found it.\n</think>\n\nGreat Basin bristlecone pines live for more than 4,800 years [Wikipedia](https://en.wikipedia.org/wiki/Bristlecone_pine).',
  ]);
  try {
    const r = await runAsk(['--json', 'What is the oldest tree?'], llm.baseUrl, undefined, {
      CIR_SEARCH_PROVIDER: undefined,
      CIR_SEARXNG_URL: undefined,
      CIR_DUCKDUCKGO_URL: duck.url,
    });
    assert.equal(r.code, 0, r.stderr);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; output?: string; citations?: { status: string }[] });
    const obs = events.find((e) => e.type === 'observation');
    assert.match(obs?.output ?? '', /^Index: 0\nURL: https:\/\/en\.wikipedia\.org\/wiki\/Bristlecone_pine\nTitle: Bristlecone pine - Wikipedia/);
    assert.equal(events.at(-1)?.type, 'answer');
    assert.deepEqual(events.at(-1)?.citations?.map((c) => c.status), ['seen']);
    // The pre-flight's test query, then the model's.
    assert.deepEqual(duck.queries.map((q) => q.get('q')), ['wikipedia', 'oldest tree on earth']);
  } finally {
    await Promise.all([llm.close(), duck.close()]);
  }
});
