// `npm run eval` end to end on the shipped samples: the real engine (prompts, sandbox, search)
// against a fake model server, a fake SearXNG and a fake judge, all over real HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeLlm, type ScriptContext } from '../fakes/llm.ts';
import { startFakeSearch } from '../fakes/search.ts';
import { startFakeJudge } from './fake-judge.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The "model": one search step, then an answer chosen by the question in the prompt. */
function researcher(answers: Array<[RegExp, string]>) {
  return ({ prompt }: ScriptContext) => {
    // The system text describes the output format too: look at the assistant's turn only.
    const turn = prompt.slice(prompt.lastIndexOf('<|im_start|>assistant'));
    if (!turn.includes('```output'))
      return 'I should search.\n<start_code>\n```python\nprint(web_search("sample question"))\n```\n<end_code>';
    const hit = answers.find(([re]) => re.test(prompt));
    return `The results are enough.\n</think>\n\n${hit ? hit[1] : 'I do not know.'}`;
  };
}

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return start(args, env).done;
}

function start(args: string[], env: Record<string, string>) {
  let child!: ReturnType<typeof spawn>;
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child = spawn(process.execPath, ['src/eval/main.ts', ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}

/** The environment of an eval run against the fakes, with its data under `out`. */
function evalEnv(llmUrl: string, searxngUrl: string, judgeUrl: string, out: string): Record<string, string> {
  return {
    CIR_LLM_BASE_URL: llmUrl,
    CIR_SEARCH_PROVIDER: 'searxng',
    CIR_SEARXNG_URL: searxngUrl,
    CIR_JUDGE_BASE_URL: judgeUrl,
    CIR_JUDGE_MODEL: 'fake-judge',
    CIR_DATA_DIR: join(out, 'data'),
    // Interpreters on demand: exactly one per question, none warmed and thrown away.
    CIR_SANDBOX_POOL_SIZE: '0',
    CIR_LOG_LEVEL: 'error',
  };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

test('eval runs the SimpleQA sample through the engine, grades it, writes reports, and resumes', async () => {
  const llm = await startFakeLlm(
    researcher([
      [/Frank Rosenblatt Award/, 'The 2010 award went to Michio Sugeno.'],
      [/Mont Blanc/, 'I could not find the 2021 survey figure.'],
      [/Mona Lisa of the North/, 'It is The Night Watch.'],
      [/future wife/, 'Her name would be Jane Ballou.'],
      [/first person to walk on the Moon/, 'They were 100 years apart.'],
      [/1992 Summer Olympics/, 'The Llobregat.'],
      [/moons of Saturn/, 'Saturn has 274 confirmed moons.'],
      [/FIFA Women/, 'England won it.'],
    ]),
  );
  const search = await startFakeSearch();
  const judge = await startFakeJudge();
  const out = mkdtempSync(join(tmpdir(), 'cir-eval-e2e-'));
  const env = evalEnv(llm.baseUrl, search.searxngUrl, judge.url, out);
  try {
    const first = await run(['--dataset', 'eval/sample/simpleqa.csv', '--out', out, '--concurrency', '2'], env);
    assert.equal(first.code, 0, first.stderr);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    assert.equal(report.benchmark, 'simpleqa');
    assert.equal(report.questions, 3);
    assert.equal(report.correct, 1);
    assert.equal(report.notAttempted, 1);
    assert.equal(report.incorrect, 1);
    assert.equal(report.modelCard, 91.8);
    assert.equal(report.mean.steps, 1);
    assert.ok(report.mean.promptTokens > 0, 'token usage recorded');
    assert.match(first.stdout, /\| accuracy \(%\) \| \*\*33\.3\*\*/);
    assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /91\.8/);
    // The pre-flight's one test question, then one grading per question.
    assert.equal(judge.prompts.length, 4);
    assert.match(judge.prompts[0], /Reply with the single word: ready/);
    assert.ok(judge.prompts.some((p) => p.includes('Michio Sugeno')));
    assert.ok(search.requests.length >= 3, 'the sandboxed code searched');

    const callsBefore = llm.prompts().length;
    const second = await run(['--dataset', 'eval/sample/simpleqa.csv', '--out', out, '--resume'], env);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(llm.prompts().length, callsBefore, 'nothing researched again');
    assert.equal(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).correct, 1);

    const fresh = await run(['--dataset', 'eval/sample/simpleqa.csv', '--out', out], env);
    assert.equal(fresh.code, 2);
    assert.match(fresh.stderr, /--resume/);

    // The other two formats, side by side (same data dir: the sandbox snapshot is reused).
    const [frames, seal] = await Promise.all(
      ['frames.tsv', 'seal-0.json'].map((f) => run(['--dataset', `eval/sample/${f}`, '--out', join(out, f), '--limit', '2', '--concurrency', '2'], env)),
    );
    assert.equal(frames.code, 0, frames.stderr);
    assert.equal(seal.code, 0, seal.stderr);
    const fr = JSON.parse(readFileSync(join(out, 'frames.tsv', 'report.json'), 'utf8'));
    const se = JSON.parse(readFileSync(join(out, 'seal-0.json', 'report.json'), 'utf8'));
    assert.deepEqual([fr.benchmark, fr.graded, fr.correct, fr.modelCard], ['frames', 2, 2, 72.2]);
    assert.deepEqual([se.benchmark, se.graded, se.correct, se.modelCard], ['seal-0', 2, 1, 26.4]);
  } finally {
    await Promise.all([llm.close(), search.close(), judge.close()]);
    rmSync(out, { recursive: true, force: true });
  }
});

test('eval says clearly what is missing', async () => {
  const missing = await run(['--dataset', 'eval/sample/frames.tsv'], {});
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /CIR_JUDGE_BASE_URL and CIR_JUDGE_MODEL/);
  const noFile = await run(['--dataset', 'eval/sample/none.json'], { CIR_JUDGE_BASE_URL: 'http://127.0.0.1:9/v1', CIR_JUDGE_MODEL: 'j' });
  assert.equal(noFile.code, 2);
  assert.match(noFile.stderr, /cannot read/);
  const usage = await run([], {});
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--dataset is required/);
});

test('eval refuses to start, saying which, when the model server or the judge cannot be reached', async () => {
  const port = await closedPort();
  const out = mkdtempSync(join(tmpdir(), 'cir-eval-pre-'));
  try {
    const r = await run(['--dataset', 'eval/sample/simpleqa.csv', '--limit', '2', '--out', out], {
      CIR_LLM_BASE_URL: `http://127.0.0.1:${port}/v1`,
      CIR_JUDGE_BASE_URL: `http://127.0.0.1:${port}/judge/v1`,
      CIR_JUDGE_MODEL: 'j',
      CIR_DATA_DIR: join(out, 'data'),
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /eval: cannot start/);
    assert.match(r.stderr, /research model: model server at http:\/\/127\.0\.0\.1:\d+\/v1 unreachable .*CIR_LLM_BASE_URL/);
    assert.match(r.stderr, /judge: http:\/\/127\.0\.0\.1:\d+\/judge\/v1 unreachable .*CIR_JUDGE_BASE_URL/);
    assert.ok(!existsSync(join(out, 'results.jsonl')), 'no question was run');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('eval refuses to start when the judge lists nothing wrong but answers a grading request with 400', async () => {
  const llm = await startFakeLlm(researcher([]));
  const search = await startFakeSearch();
  const judge = await startFakeJudge();
  judge.failNext(100);
  const out = mkdtempSync(join(tmpdir(), 'cir-eval-judge400-'));
  try {
    const r = await run(['--dataset', 'eval/sample/simpleqa.csv', '--limit', '2', '--out', out], evalEnv(llm.baseUrl, search.searxngUrl, judge.url, out));
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /judge: http:\/\/127\.0\.0\.1:\d+\/v1 answered a test question with HTTP 400: .*judge overloaded.*CIR_JUDGE_MODEL/);
    assert.equal(llm.prompts().length, 0, 'no research was started');
    assert.ok(!existsSync(join(out, 'results.jsonl')));
  } finally {
    await Promise.all([llm.close(), search.close(), judge.close()]);
    rmSync(out, { recursive: true, force: true });
  }
});

test('eval killed mid-run: --resume researches only the questions that had not finished', async () => {
  const answers: Array<[RegExp, string]> = [
    [/Frank Rosenblatt Award/, 'The 2010 award went to Michio Sugeno.'],
    [/Mont Blanc/, 'It is 4808 m.'],
    [/Mona Lisa of the North/, 'Girl with a Pearl Earring.'],
  ];
  const answer = researcher(answers);
  // First run: the second question never gets an answer, so the process is killed inside it.
  const stuck = await startFakeLlm((ctx) => (/Mont Blanc/.test(ctx.prompt) ? { text: 'Let me think', hang: true } : answer(ctx)));
  const search = await startFakeSearch();
  const judge = await startFakeJudge();
  const out = mkdtempSync(join(tmpdir(), 'cir-eval-kill-'));
  const env = evalEnv(stuck.baseUrl, search.searxngUrl, judge.url, out);
  let resumed: Awaited<ReturnType<typeof startFakeLlm>> | undefined;
  const first = start(['--dataset', 'eval/sample/simpleqa.csv', '--out', out, '--concurrency', '1'], env);
  try {
    const results = join(out, 'results.jsonl');
    for (let i = 0; ; i++) {
      const lines = existsSync(results) ? readFileSync(results, 'utf8').trim().split('\n').filter(Boolean).length : 0;
      if (lines === 1 && stuck.prompts().some((p) => /Mont Blanc/.test(p))) break;
      assert.ok(i < 600 && first.child.exitCode === null, `the first run did not reach the second question: ${(await Promise.race([first.done, { stderr: 'still running' }])).stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    first.child.kill('SIGKILL');
    await first.done;

    resumed = await startFakeLlm(answer);
    const second = await run(['--dataset', 'eval/sample/simpleqa.csv', '--out', out, '--resume'], { ...env, CIR_LLM_BASE_URL: resumed.baseUrl });
    assert.equal(second.code, 0, second.stderr);
    const asked = resumed.prompts();
    assert.ok(!asked.some((p) => /Frank Rosenblatt Award/.test(p)), 'the finished question was not researched again');
    assert.ok(asked.some((p) => /Mont Blanc/.test(p)) && asked.some((p) => /Mona Lisa of the North/.test(p)));
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    assert.deepEqual([report.questions, report.graded, report.errors], [3, 3, 0]);
  } finally {
    if (first.child.exitCode === null) first.child.kill('SIGKILL');
    await Promise.all([stuck.close(), search.close(), judge.close(), resumed?.close()]);
    rmSync(out, { recursive: true, force: true });
  }
});
