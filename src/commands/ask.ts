// `cir-bot ask [--json] QUESTION`: one research session in the terminal. Human output shows the
// research live; --json prints one event per line on stdout (logs go to stderr). Exit status:
// 0 an answer was produced, 1 the research failed, 2 bad usage or configuration, 130 cancelled.
import { ConfigError, loadConfig } from '../config.ts';
import type { ResearchEvent } from '../engine/events.ts';
import { createLogger } from '../ops/log.ts';
import { humanRenderer, jsonRenderer } from '../platforms/terminal/render.ts';
import { buildEngine } from '../wiring/engine.ts';

const USAGE = 'usage: npm run -s cir-bot -- ask [--json] "QUESTION"\n';

export default async function ask(argv: string[]): Promise<number> {
  let json = false;
  const words: string[] = [];
  for (const a of argv) {
    if (a === '--json') json = true;
    else if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE);
      return 0;
    } else if (a.startsWith('--') && a.length > 2) {
      process.stderr.write(`ask: unknown option ${a}\n${USAGE}`);
      return 2;
    } else words.push(a);
  }
  const question = words.join(' ').trim();
  if (!question) {
    process.stderr.write(`ask: the question is empty\n${USAGE}`);
    return 2;
  }
  let env;
  try {
    env = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  // Human output already shows progress: keep the logs to warnings unless asked otherwise.
  const logger = createLogger(process.env.CIR_LOG_LEVEL ? env.CIR_LOG_LEVEL : json ? 'warn' : 'error', 2);
  const render = json ? jsonRenderer(process.stdout) : humanRenderer(process.stdout, { color: process.stdout.isTTY === true && !process.env.NO_COLOR });

  let built;
  try {
    built = await buildEngine(env, logger);
  } catch (err) {
    const message = `cannot start: ${(err as Error).message}`;
    render({ type: 'error', message, retryable: false });
    return 1;
  }
  const ac = new AbortController();
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
  return end === 'answer' ? 0 : end === 'cancelled' ? 130 : 1;
}
