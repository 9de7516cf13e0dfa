// How interpreter processes are isolated, and how the choice is reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { childCommand, detectLaunch, pyodideDir } from '../../src/sandbox/launch.ts';

test("'netns' fails loudly when the network namespace is unavailable; 'auto' falls back and says why", async () => {
  await assert.rejects(detectLaunch('netns', '/nonexistent/unshare'), /CIR_SANDBOX_NETWORK=netns but network namespace unavailable/);
  const auto = await detectLaunch('auto', '/nonexistent/unshare');
  assert.equal(auto.isolation.network, 'none');
  assert.match(auto.isolation.reason ?? '', /network namespace unavailable/);
  assert.deepEqual(auto.prefix, []);
  const missing = await detectLaunch('auto', null);
  assert.match(missing.isolation.reason ?? '', /unshare\(1\) not found/);
});

test("'off' skips the namespace and reports it", async () => {
  const off = await detectLaunch('off');
  assert.deepEqual(off.prefix, []);
  assert.deepEqual(off.isolation, { network: 'none', reason: 'disabled by CIR_SANDBOX_NETWORK=off', fsPermission: true });
});

test('the interpreter command line locks the process down', async () => {
  const launch = await detectLaunch('auto');
  const { command, args } = childCommand(launch, { mode: 'serve', indexURL: pyodideDir, snapshotPath: '/cache/x.snapshot', memoryMb: 256 });
  const all = [command, ...args];
  assert.ok(all.includes(process.execPath), 'runs this Node binary, not whatever node is on PATH');
  for (const flag of ['--permission', '--disallow-code-generation-from-strings', `--allow-fs-read=${pyodideDir}`, '--allow-fs-read=/cache/x.snapshot']) {
    assert.ok(all.includes(flag), flag);
  }
  assert.ok(!all.some((a) => a.startsWith('--allow-fs-write') || a.startsWith('--allow-child-process') || a.startsWith('--allow-addons')));
  if (launch.isolation.network === 'netns') assert.ok(all.includes('--net') && all.includes('--pid'));
});
