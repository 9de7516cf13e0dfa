// `npm run eval -- --dataset FILE [--limit N] [--concurrency C] [--out DIR] [--resume]
//  [--benchmark simpleqa|frames|seal-0|other]`
// Runs benchmark questions through the same engine the bot uses, headless, and grades the answers
// with a separate LLM judge (CIR_JUDGE_BASE_URL, CIR_JUDGE_MODEL, CIR_JUDGE_API_KEY).
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { configOrReport, EXIT_USAGE } from '../commands/common.ts';
import { secretValues, type Env } from '../config.ts';
import type { ResearchEngine } from '../engine/events.ts';
import { createLogger, type Logger } from '../util/log.ts';
import { DatasetError, loadDataset, type Benchmark } from './datasets.ts';
import { createJudge } from './judge.ts';
import { preflight } from './preflight.ts';
import { markdown, summarize } from './report.ts';
import { readResults, runEval } from './runner.ts';

const USAGE = `usage: npm run eval -- --dataset FILE [--limit N] [--concurrency C] [--out DIR] [--resume]
                     [--benchmark simpleqa|frames|seal-0|other]

  FILE: SimpleQA .csv (problem, answer), FRAMES .tsv (Prompt, Answer), SealQA .json/.jsonl (question, answer)
  The judge is any OpenAI-compatible chat endpoint: CIR_JUDGE_BASE_URL, CIR_JUDGE_MODEL, CIR_JUDGE_API_KEY.
`;

type EngineFactory = (env: Env, logger: Logger) => Promise<{ engine: ResearchEngine; close(): Promise<void> | void }>;

export async function evalCommand(argv: string[], buildEngine: EngineFactory): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        dataset: { type: 'string' },
        limit: { type: 'string' },
        concurrency: { type: 'string', default: '2' },
        out: { type: 'string' },
        resume: { type: 'boolean', default: false },
        benchmark: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`eval: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!args.dataset) {
    process.stderr.write(`eval: --dataset is required\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  const limit = args.limit === undefined ? Infinity : Number(args.limit);
  const concurrency = Number(args.concurrency);
  if (!(limit >= 1) || !Number.isInteger(concurrency) || concurrency < 1) {
    process.stderr.write('eval: --limit and --concurrency must be positive integers\n');
    return EXIT_USAGE;
  }
  const benchmarks = ['simpleqa', 'frames', 'seal-0', 'other'];
  if (args.benchmark && !benchmarks.includes(args.benchmark)) {
    process.stderr.write(`eval: --benchmark must be one of ${benchmarks.join(', ')}\n`);
    return EXIT_USAGE;
  }

  const env = configOrReport('eval');
  if (!env) return EXIT_USAGE;
  if (!env.CIR_JUDGE_BASE_URL || !env.CIR_JUDGE_MODEL) {
    process.stderr.write(
      'eval: set CIR_JUDGE_BASE_URL and CIR_JUDGE_MODEL (any OpenAI-compatible chat endpoint, e.g. ' +
        'https://api.openai.com/v1 and gpt-4.1-mini; CIR_JUDGE_API_KEY for its key)\n',
    );
    return EXIT_USAGE;
  }

  let dataset;
  try {
    dataset = loadDataset(args.dataset, args.benchmark as Benchmark | undefined);
  } catch (err) {
    if (err instanceof DatasetError) {
      process.stderr.write(`eval: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const items = dataset.items.slice(0, limit);
  const outDir = resolve(args.out ?? join(env.CIR_DATA_DIR, 'eval', basename(args.dataset, extname(args.dataset))));
  mkdirSync(outDir, { recursive: true });
  const resultsFile = join(outDir, 'results.jsonl');
  if (!args.resume && existsSync(resultsFile) && statSync(resultsFile).size > 0) {
    process.stderr.write(`eval: ${resultsFile} already holds results: pass --resume to continue, or choose another --out\n`);
    return EXIT_USAGE;
  }

  const logger = createLogger(env.CIR_LOG_LEVEL === 'info' ? 'warn' : env.CIR_LOG_LEVEL, 2, secretValues(env));
  const judge = createJudge({ baseUrl: env.CIR_JUDGE_BASE_URL, model: env.CIR_JUDGE_MODEL, apiKey: env.CIR_JUDGE_API_KEY });
  // Nothing left to research (a --resume after a finished run): rebuild the report only.
  const finished = new Set(args.resume ? readResults(resultsFile).filter((r) => r.grade !== null).map((r) => r.id) : []);
  const allDone = items.every((it) => finished.has(it.id));
  const problems = allDone ? [] : await preflight(env);
  if (problems.length) {
    process.stderr.write(`eval: cannot start:\n${problems.map((p) => `  - ${p}\n`).join('')}`);
    return EXIT_USAGE;
  }
  const built = allDone ? nothingToResearch : await buildEngine(env, logger);
  const abort = new AbortController();
  const onSignal = () => {
    if (abort.signal.aborted) process.exit(130);
    process.stderr.write('\neval: stopping; finished questions are kept. Run again with --resume to continue.\n');
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  process.stderr.write(`eval: ${items.length} questions from ${dataset.name} (${dataset.benchmark}), results in ${outDir}\n`);
  let results;
  try {
    results = await runEval({
      engine: built.engine,
      judge,
      items,
      concurrency,
      resultsFile,
      resume: args.resume,
      signal: abort.signal,
      onResult(r, done, total) {
        const oneLine = (t: string, n: number) => t.replace(/\s+/g, ' ').slice(0, n);
        process.stderr.write(
          `[${done}/${total}] ${(r.grade ?? 'ERROR').padEnd(13)} ${(r.durationMs / 1000).toFixed(1)}s ${r.steps} steps  ${oneLine(r.question, 70)}\n` +
            (r.error ? `        ${oneLine(r.error, 200)}\n` : ''),
        );
      },
    });
  } catch (err) {
    process.stderr.write(`eval: ${(err as Error).message}\n`);
    return EXIT_USAGE;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await built.close();
  }

  const report = summarize(results, {
    dataset: dataset.name,
    benchmark: dataset.benchmark,
    model: env.CIR_LLM_MODEL,
    judgeModel: env.CIR_JUDGE_MODEL,
    questions: items.length,
  });
  writeFileSync(join(outDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  const md = markdown(report);
  writeFileSync(join(outDir, 'report.md'), md);
  process.stdout.write(md);
  process.stderr.write(`eval: wrote ${join(outDir, 'report.json')} and report.md\n`);
  if (abort.signal.aborted) return 130;
  // Nothing graded at all (e.g. the model server went away mid-run) is a failed run, not a 0 % one.
  return report.graded === 0 && items.length > 0 ? 1 : 0;
}

const nothingToResearch = {
  engine: {
    research(): never {
      throw new Error('eval: nothing was left to research');
    },
  },
  close() {},
};

// Run as a script (npm run eval), not when imported by tests.
if (import.meta.main) {
  const { buildEngine } = await import('../wiring/engine.ts');
  process.exitCode = await evalCommand(process.argv.slice(2), buildEngine);
}
