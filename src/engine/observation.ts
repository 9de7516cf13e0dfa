// What the model reads after its code ran: the printed output, then the short traceback (as Python
// would show it), cut to the observation's token budget, with control strings from web text defused.
import type { RunResult } from '../sandbox/types.ts';
import { neutralise } from './protocol.ts';
import type { TokenCounter } from './tokens.ts';

/** The raw observation text of one run. */
export function describeRun(res: RunResult, timeoutMs: number): string {
  const parts: string[] = [];
  if (res.output) parts.push(res.output.replace(/\n+$/, ''));
  if (res.error) parts.push(res.error.replace(/\n+$/, ''));
  else if (res.stopped === 'timeout') parts.push(`TimeoutError: the code ran longer than ${Math.round(timeoutMs / 1000)} s and was stopped`);
  else if (res.stopped === 'memory') parts.push('MemoryError: the code used too much memory and was stopped');
  else if (res.stopped === 'crashed') parts.push('SystemError: the Python interpreter crashed');
  if (res.stateLost) parts.push('Note: the Python interpreter was restarted; variables and imports from earlier code blocks are gone.');
  return parts.join('\n');
}

/** Neutralises and cuts `output` to `maxTokens` of the model's tokenizer. */
export async function formatObservation(output: string, tokens: TokenCounter, maxTokens: number, signal?: AbortSignal): Promise<string> {
  const safe = neutralise(output);
  const cut = await tokens.truncate(safe, maxTokens, signal);
  if (!cut.truncated) return cut.text;
  return `${cut.text}\n... [output cut at ${maxTokens} of ${cut.tokens} tokens; print less at a time]`;
}
