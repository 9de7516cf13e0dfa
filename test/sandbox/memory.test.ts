// What an idle interpreter process costs. Every pooled interpreter holds this much memory, so
// what Pyodide only needed while loading must be let go (the snapshot bytes, the wasm binary,
// malloc's leftovers). Measured on Node 24.21 / pyodide 314: ~170 MB private before that, ~110 MB
// after; the bound sits between the two.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { silentLogger } from '../../src/util/log.ts';
import { startInterpreter } from '../../src/sandbox/host.ts';
import { detectLaunch, pyodideDir } from '../../src/sandbox/launch.ts';
import { defaultCacheDir, ensureSnapshot } from '../../src/sandbox/snapshot.ts';
import { recordingTools, STEP } from './helpers.ts';

const PRIVATE_LIMIT_MB = 140;

/** Memory of `pid` that no other process shares (its own heap, wasm memory, stacks). */
function privateMb(pid: number): number {
  const m = /^Private_Dirty:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  assert.ok(m, 'smaps_rollup has Private_Dirty');
  return Number(m[1]) / 1024;
}

/** `pid` and its direct children (the namespace wrapper's child is the node process). */
function withChildren(pid: number): number[] {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return [pid, ...children];
}

test(`an idle interpreter from a snapshot keeps under ${PRIVATE_LIMIT_MB} MB of private memory`, async () => {
  const launch = await detectLaunch('auto');
  const snapshotPath = await ensureSnapshot({ cacheDir: defaultCacheDir(), launch, indexURL: pyodideDir, memoryMb: 192, logger: silentLogger });
  assert.ok(snapshotPath, 'a snapshot is available');
  const it = await startInterpreter({ launch, memoryMb: 192, indexURL: pyodideDir, snapshotPath, logger: silentLogger });
  try {
    assert.equal(it.fromSnapshot, true);
    const r = await it.run('import json\nprint(json.dumps([1]))', { ...STEP, tools: recordingTools() });
    assert.equal(r.output, '[1]\n');
    const mb = Math.max(...withChildren(it.pid!).map(privateMb));
    assert.ok(mb < PRIVATE_LIMIT_MB, `interpreter process holds ${mb.toFixed(0)} MB of private memory`);
  } finally {
    await it.close();
  }
});
