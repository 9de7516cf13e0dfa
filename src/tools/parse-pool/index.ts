// Parsing, extraction and PDF text run here, in worker threads (piscina), never on the main event
// loop: a hostile page can cost a worker its deadline, not the bot its liveness. Each job has a
// deadline and takes the caller's AbortSignal; either one terminates the worker running it
// (piscina stops the thread of an aborted running task), so no work outlives the step.
import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Fetched } from '../fetch/http.ts';
import { ToolError, type VisitedPage } from '../types.ts';
import type { ReadLimits } from './page.ts';
import type { ParseJob, ParseOutcome } from './worker.ts';

export interface ParsePoolOptions {
  /** Wall-time cap on one job, from the moment a worker starts it; past it the worker is
   *  terminated (default 20 s). */
  timeoutMs?: number;
  /** Worker threads (default: one per spare core, at most 4). */
  threads?: number;
  /** Heap cap of each worker: a PDF bomb that grows past it kills its worker, not the bot. */
  maxHeapMb?: number;
}

export interface ParsePool {
  read(url: string, fetched: Fetched, limits: ReadLimits, signal?: AbortSignal): Promise<VisitedPage>;
  /** Jobs running and waiting (health, tests). */
  stats(): { running: number; queued: number; threads: number };
  close(): Promise<void>;
}

export function createParsePool(options: ParsePoolOptions = {}): ParsePool {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const threads = options.threads ?? Math.max(1, Math.min(4, availableParallelism() - 1));
  const pool = new Piscina({
    filename: new URL('./worker.ts', import.meta.url).href,
    minThreads: 0,
    maxThreads: threads,
    idleTimeout: 30_000,
    maxQueue: threads * 16,
    resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb ?? 512 },
  });
  let running = 0;

  return {
    async read(url, fetched, limits, signal) {
      if (signal?.aborted) throw new ToolError('cancelled', 'cancelled');
      // The deadline counts from the moment a worker starts the job (the worker says so on this
      // port), so time spent queued or starting a thread is not charged to the page.
      const deadline = new AbortController();
      const started = new MessageChannel();
      let timer: NodeJS.Timeout | undefined;
      started.port1.once('message', () => {
        timer = setTimeout(() => deadline.abort(), timeoutMs);
      });
      const stop = signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal;
      const job: ParseJob = { url, fetched, limits, started: started.port2 };
      running++;
      let out: ParseOutcome;
      try {
        out = (await pool.run(job, { signal: stop, transferList: [started.port2] })) as ParseOutcome;
      } catch (err) {
        if (signal?.aborted) throw new ToolError('cancelled', 'cancelled');
        if (deadline.signal.aborted)
          throw new ToolError('timeout', `reading the page took longer than ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`} and was stopped`);
        if (/queue is at limit/i.test((err as Error)?.message ?? ''))
          throw new ToolError('busy', 'too many pages are being read right now; try again shortly');
        // The worker died (heap cap reached, crash): the page is what killed it.
        throw new ToolError('extract', 'the page was fetched but reading it ran out of resources');
      } finally {
        running--;
        clearTimeout(timer);
        started.port1.close();
      }
      if (!out.ok) throw new ToolError(out.code, out.message);
      return out.page;
    },
    stats: () => ({ running, queued: pool.queueSize, threads: pool.threads.length }),
    close: () => pool.destroy(),
  };
}
