// Reads one research stream until it ends, its terminal event arrives, or the signal aborts —
// whichever comes first: an engine slow to notice the abort does not hold the session open.
import type { ResearchEngine, ResearchEvent, ResearchInput } from '../engine/events.ts';

const TERMINAL = new Set<ResearchEvent['type']>(['answer', 'error', 'cancelled']);

/** Resolves 'aborted' if the signal fired first, else 'ended'. Rejects if the engine throws. */
export async function consumeResearch(
  engine: ResearchEngine,
  input: ResearchInput & { signal: AbortSignal },
  onEvent: (e: ResearchEvent) => void,
): Promise<'ended' | 'aborted'> {
  const { signal } = input;
  const iter = engine.research(input)[Symbol.asyncIterator]();
  const stop = () => void Promise.resolve(iter.return?.()).catch(() => {});
  const aborted = new Promise<'aborted'>((resolve) => {
    if (signal.aborted) resolve('aborted');
    else signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  while (true) {
    const next = iter.next();
    next.catch(() => {}); // may settle after we stopped listening
    const r = await Promise.race([next, aborted]);
    if (r === 'aborted') {
      stop();
      return 'aborted';
    }
    if (r.done) return signal.aborted ? 'aborted' : 'ended';
    onEvent(r.value);
    if (TERMINAL.has(r.value.type)) {
      stop();
      return 'ended';
    }
  }
}
