// A snapshot that cannot be loaded must not stop the sandbox: it is discarded and interpreters
// start cold. (The good path - a snapshot built once and reused - is what every other test uses.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSandbox } from '../../src/sandbox/index.ts';
import { silentLogger } from '../../src/util/log.ts';
import { detectLaunch, pyodideDir } from '../../src/sandbox/launch.ts';
import { ensureSnapshot, snapshotPathFor } from '../../src/sandbox/snapshot.ts';
import { recordingTools, STEP } from './helpers.ts';

test('a corrupt snapshot is discarded and interpreters start cold', async () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'cir-sandbox-snap-'));
  const bad = snapshotPathFor(cacheDir, pyodideDir);
  writeFileSync(bad, Buffer.alloc(2 << 20, 7), { mode: 0o600 });
  const stale = join(cacheDir, 'pyodide-0.0.0-node-v0.0.0-0000.snapshot');
  writeFileSync(stale, 'old', { mode: 0o600 });
  const sandbox = await createSandbox({ poolSize: 0, memoryMb: 192, network: 'auto', cacheDir });
  try {
    const session = await sandbox.open(recordingTools());
    const r = await session.run('print(web_search("q", num_result=1))', STEP);
    assert.equal(r.output, 'result:q:1\n');
    assert.equal(existsSync(bad), false, 'the corrupt snapshot is removed');
    assert.equal(existsSync(stale), false, 'snapshots of other versions are removed');
    await session.close();
  } finally {
    await sandbox.close();
    rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('a cache directory others can write to is refused (no snapshot is built or trusted there)', async () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'cir-sandbox-open-'));
  chmodSync(cacheDir, 0o777);
  try {
    const launch = await detectLaunch('off');
    const path = await ensureSnapshot({ cacheDir, launch, indexURL: pyodideDir, memoryMb: 192, logger: silentLogger });
    assert.equal(path, null);
    assert.deepEqual(readdirSync(cacheDir), []);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
});
