// Where a research job stands among those waiting for a worker. BullMQ keeps waiting jobs in one
// Redis list: \`add\` LPUSHes (addStandardJob.lua, no lifo), a worker takes from the right
// (RPOPLPUSH in moveToActive.lua), so the jobs ahead of one are those to its right.
import type { Queue } from 'bullmq';

/** Jobs ahead of `jobId`, or null once it no longer waits (taken by a worker, or withdrawn). */
export async function jobsAhead(queue: Queue, jobId: string): Promise<number | null> {
  const client = await queue.getBackend().client;
  const key = queue.toKey('wait');
  const [pos, len] = await Promise.all([client.lpos(key, jobId), client.llen(key)]);
  return pos === null ? null : len - 1 - pos;
}
