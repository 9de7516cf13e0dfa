// Placing interpreters in processes (host.ts): a start cancelled while its process still compiles
// pyodide's module leaves no thread behind that the host would no longer count; interpreters of
// one process start from its shared compiled module and snapshot copy, a process of one keeps no copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/util/log.ts';
import { Hosts, startInterpreter } from '../../src/sandbox/host.ts';
import { detectLaunch, pyodideDir } from '../../src/sandbox/launch.ts';
import { defaultCacheDir, ensureSnapshot } from '../../src/sandbox/snapshot.ts';
import { childPids, recordingTools, STEP } from './helpers.ts';

test('a start cancelled while its new process compiles leaves no thread behind', async () => {
  const launch = await detectLaunch('auto');
  const snapshotPath = await ensureSnapshot({ cacheDir: defaultCacheDir(), launch, indexURL: pyodideDir, memoryMb: 192, logger: silentLogger });
  // idleMs keeps the process after the cancelled start, so that the next start goes to it.
  const hosts = new Hosts({ launch, memoryMb: 192, indexURL: pyodideDir, logger: silentLogger, capacity: 4, idleMs: 60_000 });
  try {
    const cancel = new AbortController();
    const cancelled = hosts.start(snapshotPath, cancel.signal);
    cancel.abort(); // the close follows the open at once, long before the module is compiled
    await assert.rejects(cancelled, /the sandbox is closing/);
    const it = await hosts.start(snapshotPath);
    assert.equal(hosts.processes, 1, 'precondition: the second start went to the same process');
    assert.equal(childPids().length, 1);
    assert.equal(it.hostedAtStart, 1, 'the process hosts the one interpreter the host knows of');
    assert.equal((await it.run('print(6 * 7)', { ...STEP, tools: recordingTools() })).output, '42\n');
    // Positive control: a second live interpreter is counted.
    const next = await hosts.start(snapshotPath);
    assert.equal(next.hostedAtStart, 2);
    // Both loaded from what the process shares (a silent fallback to their own copies would cost
    // ~0.2 CPU-s and 30 MB of fresh pages a start).
    assert.deepEqual([it.shared, next.shared], [{ module: true, snapshot: true }, { module: true, snapshot: true }]);
  } finally {
    await hosts.close();
  }
});

test('an interpreter in a process of its own shares the compiled module but reads its own snapshot (memory.test.ts: freed once loaded)', async () => {
  const launch = await detectLaunch('auto');
  const snapshotPath = await ensureSnapshot({ cacheDir: defaultCacheDir(), launch, indexURL: pyodideDir, memoryMb: 192, logger: silentLogger });
  const it = await startInterpreter({ launch, memoryMb: 192, indexURL: pyodideDir, logger: silentLogger, snapshotPath });
  try {
    assert.equal(it.fromSnapshot, true);
    assert.deepEqual(it.shared, { module: true, snapshot: false });
  } finally {
    await it.close();
  }
});
