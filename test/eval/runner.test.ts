import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResearchEngine, ResearchEvent, ResearchInput } from '../../src/engine/events.ts';
import { parseDataset } from '../../src/eval/datasets.ts';
import { createJudge, judgePrompt, parseGrade } from '../../src/eval/judge.ts';
import { markdown, summarize } from '../../src/eval/report.ts';
import { readResults, runEval } from '../../src/eval/runner.ts';
import { startFakeJudge } from './fake-judge.ts';

/** Answers from a table keyed by question; records which questions it was asked. */
function tableEngine(answers: Record<string, string | Error>): ResearchEngine & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async *research(input: ResearchInput): AsyncIterable<ResearchEvent> {
      asked.push(input.question);
      yield { type: 'started', sessionId: 's', question: input.question, maxSteps: 32, at: Date.now() };
      yield { type: 'observation', step: 1, output: 'x', error: null, stateLost: false, durationMs: 5 };
      const a = answers[input.question];
      if (a instanceof Error) {
        yield { type: 'error', message: a.message, retryable: true };
        return;
      }
      yield { type: 'answer', text: a, citations: [], steps: 1, usage: { promptTokens: 100, completionTokens: 20 }, durationMs: 10 };
    },
  };
}

const items = parseDataset('problem,answer\nq1,Paris\nq2,42\nq3,Blue\nq4,Oslo\n', 'csv');

test('parseGrade reads letters, words and thinking-model replies', () => {
  assert.equal(parseGrade('A'), 'CORRECT');
  assert.equal(parseGrade(' **B**.'), 'INCORRECT');
  assert.equal(parseGrade('<think>A or C? The answer says B...</think>\nC'), 'NOT_ATTEMPTED');
  assert.equal(parseGrade('The grade is NOT_ATTEMPTED'), 'NOT_ATTEMPTED');
  assert.equal(parseGrade('incorrect'), 'INCORRECT');
  assert.throws(() => parseGrade('maybe?'), /no grade/);
});

test('judge prompt fills placeholders once, leaving look-alikes in the answer alone', () => {
  const p = judgePrompt({ question: 'Q?', target: 'T', predicted: 'says {target}' });
  assert.match(p, /Question:\nQ\?\n/);
  assert.match(p, /Reference answer:\nT\n/);
  assert.match(p, /Predicted answer:\nsays \{target\}\n/);
  assert.match(judgePrompt({ question: 'q', target: 't', predicted: '  ' }), /\(no answer\)/);
});

test('runs, grades over HTTP, appends JSONL, and resumes only what is missing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cir-eval-'));
  const judgeServer = await startFakeJudge();
  try {
    const judge = createJudge({ baseUrl: judgeServer.url, model: 'judge-model' });
    const resultsFile = join(dir, 'results.jsonl');
    const engine = tableEngine({ q1: 'It is Paris [1].', q2: 'I could not find it.', q3: 'Red', q4: new Error('model server down') });
    const first = await runEval({ engine, judge, items, concurrency: 2, resultsFile, resume: false });
    assert.deepEqual(first.map((r) => r.grade), ['CORRECT', 'NOT_ATTEMPTED', 'INCORRECT', null]);
    assert.match(first[3].error ?? '', /model server down/);
    assert.equal(readFileSync(resultsFile, 'utf8').trim().split('\n').length, 4);
    assert.equal(judgeServer.prompts.length, 3);

    // A fresh run must not silently mix with old results.
    await assert.rejects(runEval({ engine, judge, items, concurrency: 1, resultsFile, resume: false }), /--resume/);

    // Resume: only q4 is researched again; a torn last line from a crash is ignored.
    appendFileSync(resultsFile, '{"id":"torn');
    const engine2 = tableEngine({ q4: 'Oslo' });
    const second = await runEval({ engine: engine2, judge, items, concurrency: 2, resultsFile, resume: true });
    assert.deepEqual(engine2.asked, ['q4']);
    assert.deepEqual(second.map((r) => r.grade), ['CORRECT', 'NOT_ATTEMPTED', 'INCORRECT', 'CORRECT']);
    assert.equal(readResults(resultsFile).length, 4);
    // The line written after the torn one is readable: a third run would not research q4 again.
    const onFile = Object.fromEntries(readResults(resultsFile).map((r) => [r.question, r.grade]));
    assert.deepEqual(onFile, { q1: 'CORRECT', q2: 'NOT_ATTEMPTED', q3: 'INCORRECT', q4: 'CORRECT' });

    const report = summarize(second, { dataset: 'x.csv', benchmark: 'simpleqa', model: 'm', judgeModel: 'j', questions: 4 });
    assert.equal(report.correct, 2);
    assert.equal(report.accuracy, 0.5);
    assert.equal(report.notAttemptedRate, 0.25);
    assert.equal(report.modelCard, 91.8);
    assert.ok(report.ci95 && report.ci95.low < 0.5 && report.ci95.high > 0.5);
    const md = markdown(report);
    assert.match(md, /\| accuracy \(%\) \| \*\*50\.0\*\* \(95% CI 15\.0–85\.0\) \| 91\.8 \|/);
  } finally {
    await judgeServer.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a judge failure keeps the answer; resume re-judges without researching again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cir-eval-'));
  const judgeServer = await startFakeJudge();
  try {
    const judge = createJudge({ baseUrl: judgeServer.url, model: 'judge-model' });
    const resultsFile = join(dir, 'results.jsonl');
    const one = items.slice(0, 1);
    judgeServer.failNext(1);
    const first = await runEval({ engine: tableEngine({ q1: 'Paris' }), judge, items: one, concurrency: 1, resultsFile, resume: false });
    assert.equal(first[0].grade, null);
    assert.match(first[0].error ?? '', /^judge: .*overloaded/);
    const engine2 = tableEngine({});
    const second = await runEval({ engine: engine2, judge, items: one, concurrency: 1, resultsFile, resume: true });
    assert.deepEqual(engine2.asked, []);
    assert.equal(second[0].grade, 'CORRECT');
    assert.equal(second[0].predicted, 'Paris');
  } finally {
    await judgeServer.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an aborted run records nothing for the question it was in', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cir-eval-'));
  const judgeServer = await startFakeJudge();
  try {
    const abort = new AbortController();
    const engine: ResearchEngine = {
      async *research(input) {
        abort.abort();
        if (input.signal?.aborted) yield { type: 'cancelled' };
      },
    };
    const resultsFile = join(dir, 'results.jsonl');
    const out = await runEval({
      engine,
      judge: createJudge({ baseUrl: judgeServer.url, model: 'j' }),
      items,
      concurrency: 1,
      resultsFile,
      resume: false,
      signal: abort.signal,
    });
    assert.deepEqual(out, []);
    assert.deepEqual(readResults(resultsFile), []);
  } finally {
    await judgeServer.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a report with nothing graded says n/a, not 0.0', () => {
  const report = summarize([], { dataset: 'x.csv', benchmark: 'simpleqa', model: 'm', judgeModel: 'j', questions: 3 });
  assert.equal(report.accuracy, null);
  assert.equal(report.ci95, null);
  assert.equal(report.accuracyGivenAttempted, null);
  const md = markdown(report);
  assert.match(md, /\| accuracy \(%\) \| n\/a \(nothing graded\) \| 91\.8 \|/);
  assert.match(md, /\| not attempted \(%\) \| n\/a \|/);
  assert.match(md, /\| accuracy when attempted \(%\) \| n\/a \|/);
  assert.ok(!/0\.0/.test(md), md);
  assert.match(md, /3 question\(s\) have no grade/);
});
