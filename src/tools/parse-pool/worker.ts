// Worker-thread side of the parse pool: one job = one fetched body read into a page. Failures come
// back as data (a ToolError does not survive the thread boundary as a class).
import type { MessagePort } from 'node:worker_threads';
import type { Fetched } from '../fetch/http.ts';
import { ToolError, type VisitedPage } from '../types.ts';
import { readPage, type ReadLimits } from './page.ts';

export interface ParseJob {
  url: string;
  fetched: Fetched;
  limits: ReadLimits;
  /** Told when the job starts (the pool's deadline counts from then). */
  started: MessagePort;
}

export type ParseOutcome = { ok: true; page: VisitedPage } | { ok: false; code: string; message: string };

export default async function parseJob(job: ParseJob): Promise<ParseOutcome> {
  job.started.postMessage('started');
  job.started.close();
  // Structured clone turns the Buffer into a plain Uint8Array: make it a Buffer again.
  const bytes = Buffer.from(job.fetched.bytes.buffer, job.fetched.bytes.byteOffset, job.fetched.bytes.byteLength);
  try {
    return { ok: true, page: await readPage(job.url, { ...job.fetched, bytes }, job.limits) };
  } catch (err) {
    if (err instanceof ToolError) return { ok: false, code: err.code, message: err.message };
    return { ok: false, code: 'extract', message: 'the page was fetched but its content could not be read' };
  }
}
