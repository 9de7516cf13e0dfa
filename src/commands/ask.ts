// `cir-bot ask [--json] QUESTION`: one research session in the terminal. Human output shows the
// research live; --json prints one event per line on stdout (logs go to stderr). Exit status:
// 0 an answer was produced, 1 the research failed, 2 bad usage or configuration, 130 cancelled,
// 141 the reader of stdout went away (a pipe closed).
import { secretValues } from '../config.ts';
import type { ResearchEvent } from '../engine/events.ts';
import { createLogger } from '../util/log.ts';
import { humanRenderer, jsonRenderer } from '../platforms/terminal/render.ts';
import { preflight } from '../doctor/checks.ts';
import { buildEngine } from '../wiring/engine.ts';
import { commandLine, configOrReport, EXIT_USAGE } from './common.ts';

const USAGE = 'usage: npm run -s cir-bot -- ask [--json] "QUESTION"\n';

export default async function ask(argv: string[]): Promise<number> {
  const args = commandLine('ask', USAGE, argv, { boolean: ['json'] });
  if (typeof args === 'number') return args;
  const json = args.flags.json === true;
  const question = args.positionals.join(' ').trim();
  if (!question) {
    process.stderr.write(`ask: the question is empty\n${USAGE}`);
    return EXIT_USAGE;
  }
  const env = configOrReport('ask');
  if (!env) return EXIT_USAGE;
  // Human output already shows progress: keep the logs to warnings unless asked otherwise.
  const logger = createLogger(process.env.CIR_LOG_LEVEL ? env.CIR_LOG_LEVEL : json ? 'warn' : 'error', 2, secretValues(env));
  const show = json ? jsonRenderer(process.stdout) : humanRenderer(process.stdout, { color: process.stdout.isTTY === true && !process.env.NO_COLOR });
  // `ask --json | head -1`: once the reader has gone, stop the research instead of dying on EPIPE.
  const ac = new AbortController();
  let outputGone = false;
  const onStdoutError = (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    outputGone = true;
    ac.abort();
  };
  process.stdout.on('error', onStdoutError);
  const render = (e: ResearchEvent) => {
    if (!outputGone) show(e);
  };

  // The cheap checks of `doctor` first: a missing model server or search backend is said once,
  // with the variable to set, instead of surfacing as a tool error inside step 1.
  const problems = await preflight(env, logger);
  if (problems.length) {
    const message = problems.map((p) => `${p.check}: ${p.detail}${p.fix ? `. Fix: ${p.fix}` : ''}`).join('\n');
    render({ type: 'error', message: `${message}\n(npm run -s cir-bot -- doctor checks everything)`, retryable: false });
    process.stdout.off('error', onStdoutError);
    return 1;
  }
  let built;
  try {
    built = await buildEngine(env, logger);
  } catch (err) {
    const message = `cannot start: ${(err as Error).message}`;
    render({ type: 'error', message, retryable: false });
    process.stdout.off('error', onStdoutError);
    return 1;
  }
  const onSigint = () => {
    if (ac.signal.aborted) process.exit(130);
    ac.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  let end: ResearchEvent['type'] | null = null;
  try {
    for await (const e of built.engine.research({ question, signal: ac.signal })) {
      render(e);
      if (e.type === 'answer' || e.type === 'error' || e.type === 'cancelled') end = e.type;
    }
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    await built.close();
  }
  // 141 = 128 + SIGPIPE, what a shell reports for a writer whose reader went away.
  if (outputGone) return 141;
  return end === 'answer' ? 0 : end === 'cancelled' ? 130 : 1;
}
