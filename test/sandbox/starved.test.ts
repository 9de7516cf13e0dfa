// An interpreter that is not scheduled (a loaded machine) has not ignored its interrupt: the grace
// after an interrupt is counted in its CPU time, so a process stopped past the old wall-clock grace
// is not killed, and its state survives. Starvation is made exact with SIGSTOP/SIGCONT.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Sandbox, SandboxSession } from '../../src/sandbox/index.ts';
import { childPids, recordingTools, STEP, testSandbox } from './helpers.ts';

let sandbox: Sandbox;
let session: SandboxSession;

before(async () => {
  sandbox = await testSandbox(1, 128);
  session = await sandbox.open(recordingTools());
});
after(async () => {
  await session?.close();
  await sandbox?.close();
});

/** Every process below `pid` (the wrapper's children: the interpreter itself), from /proc. */
function descendants(pid: number): number[] {
  let kids = '';
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
  } catch {
    return [];
  }
  return kids.split(/\s+/).filter(Boolean).map(Number).flatMap((k) => [k, ...descendants(k)]);
}

test('an interpreter starved past the wall-clock grace keeps running and keeps its state', async () => {
  assert.equal((await session.run('kept = 41', STEP)).error, null);
  const procs = childPids().flatMap((p) => [p, ...descendants(p)]);
  assert.ok(procs.length > 0);
  const running = session.run('while True:\n    pass', { timeoutMs: 300 });
  // Let the block start, then freeze every process of the interpreter for longer than 2 s.
  await new Promise((r) => setTimeout(r, 150));
  for (const p of procs) process.kill(p, 'SIGSTOP');
  await new Promise((r) => setTimeout(r, 3500));
  for (const p of procs) process.kill(p, 'SIGCONT');
  const r = await running;
  assert.equal(r.stopped, 'timeout');
  assert.equal(r.stateLost, false, 'a starved interpreter is not killed for not having run');
  assert.equal((await session.run('print(kept + 1)', STEP)).output, '42\n');
});
