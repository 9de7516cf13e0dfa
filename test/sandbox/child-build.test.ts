// Several checkouts or versions on one machine share the sandbox cache directory. Each must keep
// its own prepared child code, whatever the others do there (a sweep of a directory in use made
// the other version's interpreters fail with spawn ENOENT).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildChild } from '../../src/sandbox/child-build.ts';
import { createSandbox } from '../../src/sandbox/index.ts';
import { recordingTools, STEP } from './helpers.ts';

const otherVersion = (cacheDir: string, name: string, ageMs: number) => {
  const dir = join(cacheDir, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'main.mjs'), '// another version');
  const t = (Date.now() - ageMs) / 1000;
  utimesSync(dir, t, t);
  return dir;
};

test("another version's child code is swept only once long unused; ours comes back when removed", () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'cir-child-build-'));
  try {
    const fresh = otherVersion(cacheDir, 'child-0123456789abcdef', 60_000);
    const stale = otherVersion(cacheDir, 'child-fedcba9876543210', 8 * 24 * 3600_000);
    const built = buildChild(cacheDir);
    const dir = built.ensure();
    assert.ok(existsSync(join(dir, 'main.mjs')) && existsSync(join(dir, 'prelude.py')));
    assert.equal(existsSync(fresh), true, 'a version used a minute ago keeps its directory');
    assert.equal(existsSync(stale), false, 'a version unused for 8 days is swept');
    rmSync(dir, { recursive: true, force: true });
    assert.equal(built.ensure(), dir);
    assert.deepEqual(readdirSync(dir).sort(), ['denied.cjs', 'limits.mjs', 'main.mjs', 'prelude.py', 'seal.mjs', 'slot.mjs', 'state.py', 'worker.mjs']);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('an interpreter starts although its prepared code was removed after the sandbox was created', async () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'cir-child-gone-'));
  const sandbox = await createSandbox({ poolSize: 0, memoryMb: 192, network: 'auto', cacheDir, snapshot: false });
  try {
    for (const name of readdirSync(cacheDir)) if (name.startsWith('child-')) rmSync(join(cacheDir, name), { recursive: true, force: true });
    const session = await sandbox.open(recordingTools());
    const r = await session.run('print(web_search("q", num_result=1))', STEP);
    assert.equal(r.output, 'result:q:1\n');
    await session.close();
  } finally {
    await sandbox.close();
    rmSync(cacheDir, { recursive: true, force: true });
  }
});
