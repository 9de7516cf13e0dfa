// An interpreter whose wrapper process dies without taking it along (a kill that lands between the
// wrapper's fork and its child arming the parent-death signal) must not live on: once the host
// sees the process it spawned exit, it closes the IPC channel and the orphan exits by itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { spawnChild } from '../../src/sandbox/host.ts';
import { pyodideDir, type Launch } from '../../src/sandbox/launch.ts';
import { eventually } from './helpers.ts';

/** Pids whose command line contains `marker`. */
function pidsWith(marker: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(marker)) pids.push(Number(name));
    } catch {
      // gone
    }
  }
  return pids;
}

test('an interpreter orphaned by its wrapper exits once the host sees the wrapper gone', async () => {
  // A wrapper that starts the interpreter in the background and exits at once: the interpreter
  // is orphaned from the start, exactly as after the race described above.
  const launch: Launch = { prefix: ['/bin/sh', '-c', '"$@" & exit 0', 'sh'], isolation: { network: 'none', reason: 'test', fsPermission: true } };
  const memoryMb = 64 + (process.pid % 1000) / 1000; // marks this test's process in /proc
  const marker = `"memoryMb":${memoryMb}`;
  const child = spawnChild(launch, { mode: 'serve', indexURL: pyodideDir, snapshotPath: null, memoryMb });
  try {
    await new Promise((r) => child.once('exit', r));
    await eventually(() => pidsWith(marker).length === 0, 30_000);
    assert.equal(child.connected, false);
  } finally {
    for (const pid of pidsWith(marker)) process.kill(pid, 'SIGKILL');
  }
});
