// Shared by the sandbox tests: a sandbox with fake host tools that record what they were asked.
import { readdirSync, readFileSync } from 'node:fs';
import { createSandbox, type HostTools, type Sandbox } from '../../src/sandbox/index.ts';

export interface RecordingTools extends HostTools {
  calls: string[];
}

/** web_search answers "result:<query>:<n>"; web_visit answers the URL reversed, or fails for URLs containing "fail". */
export function recordingTools(): RecordingTools {
  const calls: string[] = [];
  return {
    calls,
    async webSearch(query, n) {
      calls.push(`search:${query}:${n}`);
      return `result:${query}:${n}`;
    },
    async webVisit(url) {
      calls.push(`visit:${url}`);
      await new Promise((r) => setTimeout(r, 1));
      if (url.includes('fail')) throw new Error(`could not fetch ${url}: 404 Not Found`);
      return [...url].reverse().join('');
    },
  };
}

export function testSandbox(poolSize = 1, memoryMb = 192): Promise<Sandbox> {
  // The snapshot lives in the default per-user cache directory, shared by every test file.
  return createSandbox({ poolSize, memoryMb, network: 'auto' });
}

export const STEP = { timeoutMs: 20_000 };

/** Pids of this process's direct children (the interpreter processes), from /proc. */
export function childPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) pids.push(Number(name));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** Polls until `check` holds (the pool refills in the background), failing after `ms`. */
export async function eventually(check: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
