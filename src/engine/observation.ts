// What the model reads after its code ran: the printed output, then the short traceback (as Python
// would show it), cut to the observation's token budget, with control strings and fences from web
// text defused. Leading and trailing whitespace is stripped, as the reference harness does.
import type { RunResult } from '../sandbox/types.ts';
import { neutraliseUntrusted } from './protocol.ts';
import type { TokenCounter } from './tokens.ts';

/** One run as the model will read it: what was printed, and the error (or stop) after it. */
export interface RunText {
  output: string;
  /** The traceback or the reason the run stopped, plus any note; '' when the run ended cleanly. */
  error: string;
}

export function describeRun(res: RunResult, timeoutMs: number): RunText {
  const tail: string[] = [];
  if (res.error) tail.push(res.error.replace(/\n+$/, ''));
  else if (res.stopped === 'timeout') tail.push(`TimeoutError: the code ran longer than ${Math.round(timeoutMs / 1000)} s and was stopped`);
  else if (res.stopped === 'memory') tail.push('MemoryError: the code used too much memory and was stopped');
  else if (res.stopped === 'crashed') tail.push('SystemError: the Python interpreter crashed');
  if (res.stateLost) tail.push('Note: the Python interpreter was restarted; variables and imports from earlier code blocks are gone.');
  return { output: res.output ?? '', error: tail.join('\n') };
}

/** Share of the budget the error's last lines may take when output and error do not both fit. */
const ERROR_SHARE = 0.25;

/**
 * Neutralises and cuts the run's text to `maxTokens` of the model's tokenizer. When the output and
 * the error do not both fit, the output is cut and the error's last lines (the exception itself) kept.
 */
export async function formatObservation(run: RunText | string, tokens: TokenCounter, maxTokens: number, signal?: AbortSignal): Promise<string> {
  const { output, error } = typeof run === 'string' ? { output: run, error: '' } : run;
  const out = neutraliseUntrusted(output).trim();
  const err = neutraliseUntrusted(error).trim();
  const whole = [out, err].filter(Boolean).join('\n');
  const cut = await tokens.truncate(whole, maxTokens, signal);
  if (!cut.truncated) return cut.text;
  if (!err) return `${cut.text}\n... [output cut at ${maxTokens} of ${cut.tokens} tokens; print less at a time]`;
  const errTail = await lastLines(err, Math.floor(maxTokens * ERROR_SHARE), tokens, signal);
  const errTokens = await tokens.count(errTail, signal);
  const room = Math.max(0, maxTokens - errTokens - 24);
  const head = await tokens.truncate(out, room, signal);
  const note = head.truncated ? `\n... [output cut at ${room} of ${head.tokens} tokens; print less at a time]` : '';
  return `${head.text}${note}\n${errTail}`;
}

/** The most last lines of `text` that fit `maxTokens` (the final line cut from its start if alone too long). */
async function lastLines(text: string, maxTokens: number, tokens: TokenCounter, signal?: AbortSignal): Promise<string> {
  // A traceback is short (the prelude keeps 8 frames): its last 40 lines are more than enough.
  const lines = text.split('\n').slice(-40);
  let kept: string[] = [];
  for (let i = lines.length - 1; i >= 0; i--) {
    const next = [lines[i], ...kept];
    if ((await tokens.count(next.join('\n'), signal)) > maxTokens) break;
    kept = next;
  }
  if (kept.length) return (kept.length < lines.length ? '...\n' : '') + kept.join('\n');
  const lastLine = lines[lines.length - 1];
  // One enormous line: its end (where the exception type and message finish) matters most.
  const chars = Math.max(16, maxTokens * 2);
  return `...${lastLine.slice(-chars)}`;
}
