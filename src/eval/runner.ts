// Runs questions through the research engine and the judge, C at a time, appending one JSON line
// per finished question so that an interrupted run resumes where it stopped.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import type { ResearchEngine, ResearchEvent } from '../engine/events.ts';
import type { EvalItem } from './datasets.ts';
import type { Grade, Judge } from './judge.ts';

export interface EvalResult {
  id: string;
  question: string;
  target: string;
  predicted: string;
  /** null when the question could not be graded (see error); such results are retried on --resume. */
  grade: Grade | null;
  error: string | null;
  steps: number;
  promptTokens: number;
  completionTokens: number;
  /** Research wall time. */
  durationMs: number;
  citations: number;
  at: string;
}

export interface RunOptions {
  engine: ResearchEngine;
  judge: Judge;
  items: EvalItem[];
  concurrency: number;
  /** JSONL file results are appended to. */
  resultsFile: string;
  /** Skip items that already have a graded result in resultsFile. */
  resume: boolean;
  signal?: AbortSignal;
  onResult?: (result: EvalResult, done: number, total: number) => void;
  /** Every research event, e.g. for metrics or verbose logs. */
  onEvent?: (item: EvalItem, event: ResearchEvent) => void;
}

/** Results recorded so far, last line per id wins; torn last lines (a crash mid-write) are ignored. */
export function readResults(file: string): EvalResult[] {
  if (!existsSync(file)) return [];
  const byId = new Map<string, EvalResult>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as EvalResult;
      if (r && typeof r.id === 'string') byId.set(r.id, r);
    } catch {
      /* a partial line from an interrupted write */
    }
  }
  return [...byId.values()];
}

/** Runs (or resumes) the evaluation; returns the final result of every item that has one. */
export async function runEval(options: RunOptions): Promise<EvalResult[]> {
  const previous = options.resume ? readResults(options.resultsFile) : [];
  const done = new Map(previous.filter((r) => r.grade !== null).map((r) => [r.id, r]));
  const todo = options.items.filter((it) => !done.has(it.id));
  // Answers the judge failed on are re-judged, not re-researched.
  const retryJudge = new Map(previous.filter((r) => r.grade === null && r.error?.startsWith('judge:')).map((r) => [r.id, r]));
  // A fresh run must not mix with an older file's lines.
  if (!options.resume && existsSync(options.resultsFile) && readFileSync(options.resultsFile, 'utf8').trim())
    throw new Error(`${options.resultsFile} already holds results: pass --resume to continue, or choose another --out`);

  // A crash mid-write leaves a torn last line: end it, or the next result would be glued to it and lost.
  if (options.resume) endLine(options.resultsFile);

  const results = new Map<string, EvalResult>(done);
  let finished = done.size;
  let next = 0;
  const worker = async () => {
    while (next < todo.length && !options.signal?.aborted) {
      const item = todo[next++];
      const result = await runOne(item, options, retryJudge.get(item.id));
      if (options.signal?.aborted && result.error === 'cancelled') return; // not recorded: redo on resume
      appendFileSync(options.resultsFile, JSON.stringify(result) + '\n');
      results.set(item.id, result);
      options.onResult?.(result, ++finished, options.items.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, todo.length)) }, worker));
  return options.items.map((it) => results.get(it.id)).filter((r): r is EvalResult => !!r);
}

async function runOne(item: EvalItem, options: RunOptions, previous?: EvalResult): Promise<EvalResult> {
  if (previous) return judge({ ...previous, error: null, at: new Date().toISOString() }, options);
  const result: EvalResult = {
    id: item.id,
    question: item.question,
    target: item.answer,
    predicted: '',
    grade: null,
    error: null,
    steps: 0,
    promptTokens: 0,
    completionTokens: 0,
    durationMs: 0,
    citations: 0,
    at: new Date().toISOString(),
  };
  const started = Date.now();
  let answered = false;
  try {
    for await (const ev of options.engine.research({ question: item.question, signal: options.signal })) {
      options.onEvent?.(item, ev);
      if (ev.type === 'observation') result.steps = Math.max(result.steps, ev.step);
      if (ev.type === 'answer') {
        answered = true;
        result.predicted = ev.text;
        result.steps = ev.steps;
        result.promptTokens = ev.usage.promptTokens;
        result.completionTokens = ev.usage.completionTokens;
        result.citations = ev.citations.length;
      } else if (ev.type === 'error') {
        result.error = `research: ${ev.message}`;
      } else if (ev.type === 'cancelled') {
        result.error = 'cancelled';
      }
    }
  } catch (err) {
    result.error = `research: ${(err as Error).message}`;
  }
  result.durationMs = Date.now() - started;
  if (!answered) {
    result.error ??= 'research: the session ended without an answer';
    return result;
  }
  return judge(result, options);
}

async function judge(result: EvalResult, options: RunOptions): Promise<EvalResult> {
  try {
    result.grade = await options.judge.grade(
      { question: result.question, target: result.target, predicted: result.predicted },
      options.signal,
    );
  } catch (err) {
    result.error = options.signal?.aborted ? 'cancelled' : `judge: ${(err as Error).message}`;
  }
  return result;
}

function endLine(file: string): void {
  if (!existsSync(file)) return;
  const text = readFileSync(file, 'utf8');
  if (text && !text.endsWith('\n')) appendFileSync(file, '\n');
}
