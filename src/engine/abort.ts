// Cancellation helpers shared by the engine's modules.

export class AbortedError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'AbortedError';
  }
}

/**
 * Waits for `p`, but rejects with AbortedError as soon as `signal` aborts. For work shared between
 * sessions (a memoised server probe): one session's cancel must not abort it for the others, and
 * must not wait for it either. `p` keeps running.
 */
export function untilAborted<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(new AbortedError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortedError());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
