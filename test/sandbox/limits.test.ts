// Bounds: time, memory, output, recursion, cancellation, and processes that die or are killed.
// Each ends with a clear result and a session that goes on.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sandbox, SandboxSession } from '../../src/sandbox/index.ts';
import { childPids, eventually, recordingTools, STEP, testSandbox } from './helpers.ts';

let sandbox: Sandbox;
let session: SandboxSession;
const SHORT = { timeoutMs: 600 };
/** Runs after web_search has answered (a test's way to act once a block is surely running). */
let afterSearch = () => {};

before(async () => {
  sandbox = await testSandbox(1, 128);
  const tools = recordingTools();
  session = await sandbox.open({
    ...tools,
    webSearch: async (q, n) => {
      setImmediate(() => afterSearch());
      return tools.webSearch(q, n);
    },
    webVisit: () => new Promise<string>(() => {}), // a host call that never answers
  });
});

after(async () => {
  await session?.close();
  await sandbox?.close();
});

test('a runaway pure-Python loop is interrupted and the interpreter keeps its state', async () => {
  assert.equal((await session.run('kept = 7', STEP)).error, null);
  const r = await session.run('print("started")\nwhile True:\n    pass', SHORT);
  assert.equal(r.stopped, 'timeout');
  assert.equal(r.stateLost, false);
  assert.ok(r.output === 'started\n' || r.output === '', r.output); // output before the stop is kept
  assert.equal(r.error, null);
  const next = await session.run('print(kept)', STEP);
  assert.equal(next.output, '7\n');
});

test('time.sleep beyond the limit is interrupted', async () => {
  const r = await session.run('import time\ntime.sleep(60)', SHORT);
  assert.equal(r.stopped, 'timeout');
  assert.equal(r.stateLost, false);
  assert.equal((await session.run('time.sleep(0.01)\nprint(kept)', STEP)).output, '7\n');
});

test('a host call that never answers is interrupted at the limit', async () => {
  const r = await session.run('web_visit("https://slow.example/")', SHORT);
  assert.equal(r.stopped, 'timeout');
  assert.equal(r.stateLost, false);
  assert.equal((await session.run('print(kept)', STEP)).output, '7\n');
});

test('code that swallows the interrupt is killed and replaced, and the result says state was lost', async () => {
  const r = await session.run('while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass', SHORT);
  assert.equal(r.stopped, 'timeout');
  assert.equal(r.stateLost, true);
  const next = await session.run('print("kept" in globals(), json.dumps(1))', STEP);
  assert.equal(next.output, 'False 1\n');
  assert.equal(next.stateLost, false);
});

test('a memory bomb ends in a clean MemoryError and the session goes on', async () => {
  const r = await session.run('hog = []\nwhile True:\n    hog.append("x" * 10**6)', STEP);
  assert.equal(r.stopped, 'memory');
  assert.match(r.error ?? '', /MemoryError/);
  assert.equal(r.stateLost, false);
  const big = await session.run('del hog\nblock = bytearray(10**9)', STEP);
  assert.equal(big.stopped, 'memory');
  const next = await session.run('print(sum(range(10)))', STEP);
  assert.equal(next.output, '45\n');
});

test('a 10 MB print is bounded and says how much was left out', async () => {
  const r = await session.run('print("x" * 10_000_000)\nprint("done")', STEP);
  assert.equal(r.error, null);
  assert.ok(r.output.length < 300_000, `output length ${r.output.length}`);
  assert.match(r.output, /^x{1000}/);
  assert.match(r.output, /\[\.\.\. \d+ more characters of output not shown\]/);
});

test('deep recursion is a RecursionError, even with a raised recursion limit', async () => {
  const plain = await session.run('def down(n):\n    return down(n + 1)\ndown(0)', STEP);
  assert.match(plain.error ?? '', /RecursionError/);
  assert.ok((plain.error ?? '').split('\n').length < 15, plain.error ?? '');
  const raised = await session.run('import sys\nsys.setrecursionlimit(10**7)\ndown(0)', STEP);
  assert.match(raised.error ?? '', /RecursionError/);
  assert.equal(raised.stateLost, false);
});

test('cancellation stops a block; an already cancelled block does not run', async () => {
  const ac = new AbortController();
  // Cancelled once the block runs (after marker is set), not after a time that a loaded machine
  // may spend still taking an interpreter.
  afterSearch = () => ac.abort();
  const r = await session.run('marker = 1\nweb_search("go", 1)\nwhile True:\n    pass', { timeoutMs: 20_000, signal: ac.signal });
  afterSearch = () => {};
  assert.equal(r.stopped, 'cancelled');
  assert.equal(r.stateLost, false);
  const skipped = await session.run('marker = 2', { timeoutMs: 20_000, signal: AbortSignal.abort() });
  assert.equal(skipped.stopped, 'cancelled');
  assert.equal((await session.run('print(marker)', STEP)).output, '1\n');
});

test('an interpreter process killed from outside is replaced, in a session and in the pool', async () => {
  await session.run('before_kill = 1', STEP);
  await eventually(() => sandbox.status().ready === 1);
  const st = sandbox.status();
  assert.deepEqual([st.idle, st.ready], [1, 1], JSON.stringify(st)); // the session's and the pooled interpreter
  const victims = childPids(); // one process holds both, or two (a process each)
  assert.ok(victims.length >= 1);
  for (const pid of victims) process.kill(pid, 'SIGKILL');
  await eventually(() => childPids().every((p) => !victims.includes(p)));
  await new Promise((r) => setTimeout(r, 100)); // let the exit events arrive
  const r = await session.run('print("before_kill" in globals())', STEP);
  assert.equal(r.stateLost, true);
  assert.equal(r.output, 'False\n');
  await eventually(() => sandbox.status().ready === 1);
  assert.ok(childPids().every((p) => !victims.includes(p)));
});

test('closing the sandbox ends every interpreter process', async () => {
  const s = await sandbox.open(recordingTools());
  assert.equal((await s.run('print(1)', STEP)).output, '1\n');
  assert.ok(childPids().length >= 1);
  await sandbox.close();
  await eventually(() => childPids().length === 0, 10_000);
  await assert.rejects(sandbox.open(recordingTools()), /closed/);
});
