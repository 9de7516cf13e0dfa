// The process-tree reader against real processes: a child that allocates 50 MB on request, and one
// that burns CPU and exits (its CPU must still count, through the parent's reaped-children time).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { clockTicks, readTree, sampleTree } from '../../src/util/proc-tree.ts';

const MB = 2 ** 20;

// Waits for a line on stdin, then allocates and touches 50 MB (so the pages are resident), says so, and waits.
const ALLOCATOR = `
process.stdout.write('ready\\n');
process.stdin.once('data', () => {
  globalThis.keep = Buffer.alloc(50 * 1024 * 1024, 1);
  process.stdout.write('allocated\\n');
});
setInterval(() => {}, 1000);
`;

/** Resolves when the child's stdout has said `want` (listening, so the stream stays open after). */
function nextLine(child: ChildProcess, want: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: string) => {
      seen += chunk;
      if (!seen.includes(want)) return;
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      resolve();
    };
    const onExit = () => reject(new Error(`child ended before saying ${want}: ${seen}`));
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

test('clock ticks are a positive number', () => {
  assert.ok(clockTicks() > 0);
});

test('the tree lists a child and its memory rises with what the child allocates', async (t) => {
  const child = spawn(process.execPath, ['-e', ALLOCATOR], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  child.stdout!.setEncoding('utf8');
  await nextLine(child, 'ready');

  const sampler = sampleTree(process.pid, 50);
  const before = readTree(process.pid);
  const listed = before.processes.find((p) => p.pid === child.pid);
  assert.ok(listed, 'the child is in the tree');
  assert.equal(listed.ppid, process.pid);
  assert.ok(before.processes.some((p) => p.pid === process.pid));
  assert.ok(listed.pssBytes !== null && listed.pssBytes > 0, 'PSS of our own child is readable');

  child.stdin!.write('go\n');
  await nextLine(child, 'allocated');
  const after = sampler.sample();
  const childAfter = after.processes.find((p) => p.pid === child.pid)!;

  assert.ok(after.rssBytes - before.rssBytes >= 40 * MB, `tree RSS rose ${((after.rssBytes - before.rssBytes) / MB).toFixed(1)} MB`);
  assert.ok(after.pssBytes - before.pssBytes >= 40 * MB, `tree PSS rose ${((after.pssBytes - before.pssBytes) / MB).toFixed(1)} MB`);
  assert.ok(childAfter.pssBytes! - listed.pssBytes! >= 40 * MB);

  // The child gone, the peak still holds what it had.
  child.kill('SIGKILL');
  await once(child, 'exit');
  const peak = sampler.stop();
  assert.ok(peak.peakPssBytes >= after.pssBytes);
  assert.ok(peak.peakRssBytes >= after.rssBytes);
  assert.ok(peak.atPeakPss!.processes.some((p) => p.pid === child.pid));
  assert.ok(!readTree(process.pid).processes.some((p) => p.pid === child.pid), 'an exited child is no longer listed');
});

test('an excluded pid and its subtree are left out', async (t) => {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000); process.stdout.write("ready\\n")'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  child.stdout!.setEncoding('utf8');
  await nextLine(child, 'ready');
  assert.ok(readTree(process.pid).processes.some((p) => p.pid === child.pid));
  assert.ok(!readTree(process.pid, { exclude: [child.pid!] }).processes.some((p) => p.pid === child.pid));
});

test('CPU of an exited child counts through the parent (reaped children time)', async () => {
  const before = readTree(process.pid).cpuSeconds;
  // Busy until the child has used 400 ms of CPU itself: a CPU amount, not a duration.
  const burner = 'const t = process.cpuUsage(); while ((process.cpuUsage(t).user + process.cpuUsage(t).system) < 400_000);';
  const child = spawn(process.execPath, ['-e', burner], { stdio: 'ignore' });
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 0);
  const after = readTree(process.pid);
  assert.ok(!after.processes.some((p) => p.pid === child.pid));
  assert.ok(after.cpuSeconds - before >= 0.35, `tree CPU rose ${(after.cpuSeconds - before).toFixed(2)} s`);
});

test('a grandchild orphaned by its killed parent still counts, from its last sample', async (t) => {
  // The wrapper starts a burner and reports its pid; the burner uses 400 ms of CPU, says so, waits.
  const burner = "const t = process.cpuUsage(); while ((process.cpuUsage(t).user + process.cpuUsage(t).system) < 400_000); process.stdout.write('burnt\\n'); setInterval(() => {}, 1000);";
  const wrapper = `const c = require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(burner)}], { stdio: ['ignore', 'inherit', 'inherit'] }); process.stdout.write('pid ' + c.pid + '\\n');`;
  const child = spawn(process.execPath, ['-e', wrapper], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => (out += d));
  t.after(() => child.kill('SIGKILL'));
  const sampler = sampleTree(process.pid, 60_000); // samples only when asked
  const before = sampler.cpuSeconds();
  await nextLine(child, 'burnt');
  const grandchild = Number(/pid (\d+)/.exec(out)![1]);
  t.after(() => {
    try {
      process.kill(grandchild, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  const seen = sampler.sample().processes.find((p) => p.pid === grandchild);
  assert.ok(seen && seen.ppid === child.pid, 'the grandchild is in the tree under its parent');
  assert.ok(seen.cpuSeconds >= 0.35);

  child.kill('SIGKILL'); // the grandchild is reparented outside the tree and reaped there (or never)
  await once(child, 'exit');
  process.kill(grandchild, 'SIGKILL');
  const after = sampler.sample();
  assert.ok(!after.processes.some((p) => p.pid === grandchild));
  assert.ok(sampler.orphanCpuSeconds() >= 0.35, `orphan CPU ${sampler.orphanCpuSeconds().toFixed(2)} s`);
  assert.ok(sampler.cpuSeconds() - before >= 0.35);
  sampler.stop();
});
